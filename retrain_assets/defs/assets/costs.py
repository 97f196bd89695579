"""The `costs` asset: per-side trading costs of one symbol-day, known before its test window."""

import dagster as dg
import pandas as pd

from resources.artifact_io import ArtifactRootResource
from resources.market_data import MarketDataResource
from resources.method import current_of
from resources.training import CostModelResource, TrainingResource
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles, json_bytes
from retrain_assets.core.model.provenance import bars_sha256
from retrain_assets.core.trading.costs import Costs, evaluation_cost_as_of
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    day_end,
    day_start,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.defs.provenance import provenance_metadata, versioned_output
from retrain_assets.defs.telemetry import stage
from retrain_assets.vocabulary.keys import split_partition_key

WALK_FORWARD_COSTS = "walk_forward_costs.json"


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key=IO_MANAGER_KEY,
    group_name=RETRAIN_GROUP,
    kinds={"python"},
)
def costs(
    context: dg.AssetExecutionContext,
    market_data: MarketDataResource,
    cost_model: CostModelResource,
    training: TrainingResource,
    artifacts: ArtifactRootResource,
) -> dg.Output[ArtifactFiles]:
    """Trading costs of one symbol-day: fees, calibrated spread, sqrt impact.

    Two estimates, each from bars before the window it prices: costs.json for the held-out
    test window, and walk_forward_costs.json for trading this date itself in the walk-forward
    ledger, estimated as of its 00:00 UTC (what was known when the day's live model began).

    Estimated only from bars before the model's test window starts: the split is computed
    from the same bars and settings as the `features` asset, and the estimate reads the
    `window_days` before the midnight at or before the first test row, so the window is never
    evaluated with costs it would only reveal. Fees come from the per-symbol
    configuration, else the exchange when API credentials are set, else the venue default;
    the spread is the configured quoted spread, else the OHLC estimate clamped to the spread
    range of the symbol's liquidity tier (its own median daily quote volume before the window
    against absolute thresholds; costs.json shows the estimate, tier, range and volume);
    slippage is square-root impact of the configured order size.

    Records its provenance (source, the bars' fingerprint, the cost method), and returns the
    bars' fingerprint under that method as its data version.
    """
    date, symbol = split_partition_key(context.partition_key)
    with stage(context, artifacts.layout().root, "costs") as timing, permanent_errors_fail_fast():
        cost_model.settings()  # a bad configuration fails before any data is read
        fees, fallback_reason = cost_model.fee_schedule_for(symbol)
        if fallback_reason:
            context.log.warning(
                f"{symbol}: exchange fees not used, config instead: {fallback_reason}"
            )
        bars, _ = market_data.bar_source().load(
            symbol, day_end(date), pd.Timedelta(days=training.lookback_days)
        )
        _, splits = training.feature_set(bars, symbol)
        as_of = evaluation_cost_as_of(splits.test.start_ts)
        result = cost_model.estimate(bars, symbol, fees, as_of)
        # The walk-forward ledger trades this date under what was known when it began.
        day_costs = cost_model.estimate(bars, symbol, fees, day_start(date))
    made = current_of(market_data, training, cost_model).provenance("costs", bars_sha256(bars))
    metadata = {
        **provenance_metadata(made),
        **_metadata(result),
        "test_start": dg.MetadataValue.text(splits.test.start_ts.isoformat()),
        **timing.metadata(),
    }
    if fallback_reason:
        metadata["fee_fallback_reason"] = dg.MetadataValue.text(fallback_reason)
    metadata["walk_forward_all_in_per_side_bps"] = dg.MetadataValue.float(
        day_costs.all_in_per_side_bps
    )
    files = {
        "costs.json": json_bytes(result.to_json_dict()),
        WALK_FORWARD_COSTS: json_bytes(day_costs.to_json_dict()),
    }
    return versioned_output(ArtifactFiles(files), metadata, made)


def _metadata(result: Costs) -> dict[str, dg.MetadataValue]:
    out: dict[str, dg.MetadataValue] = {
        "taker_fee_bps": dg.MetadataValue.float(result.taker_fee_bps.bps),
        "maker_fee_bps": dg.MetadataValue.float(result.maker_fee_bps.bps),
        "fee_source": dg.MetadataValue.text(result.taker_fee_bps.source),
        "median_spread_bps": dg.MetadataValue.float(result.median_spread_bps.bps),
        "raw_spread_bps": dg.MetadataValue.float(float(result.raw_spread_bps)),
        "spread_estimator": dg.MetadataValue.text(result.spread_estimator),
        "all_in_per_side_bps": dg.MetadataValue.float(result.all_in_per_side_bps),
    }
    basis = result.basis
    if basis is not None:
        out |= {
            "estimated_as_of": dg.MetadataValue.text(basis.estimated_as_of),
            "window": dg.MetadataValue.text(f"[{basis.window_start}, {basis.window_end})"),
            "bars": dg.MetadataValue.int(basis.window_bars),
            "spread_source": dg.MetadataValue.text(basis.spread_source),
            "liquidity_tier": dg.MetadataValue.text(basis.liquidity_tier),
            "tier_range_bps": dg.MetadataValue.text(
                f"[{basis.tier_floor_bps}, {basis.tier_cap_bps}]"
            ),
            "liquidity_quote_volume": dg.MetadataValue.float(basis.liquidity_quote_volume or 0.0),
            "adv_quote": dg.MetadataValue.float(basis.adv_quote),
            "sigma_daily": dg.MetadataValue.float(basis.sigma_daily),
            "slippage_bps": dg.MetadataValue.float(basis.slippage_bps),
        }
    return out
