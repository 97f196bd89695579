"""The `costs` asset: per-side trading costs of one symbol-day."""

import dagster as dg
import pandas as pd

from resources.artifact_io import ArtifactRootResource
from resources.market_data import MarketDataResource
from resources.training import CostModelResource
from retrain_assets.core.artifacts import ArtifactFiles, json_bytes
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    day_end,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.partitions import split_partition_key, symbol_day_partitions
from retrain_assets.defs.telemetry import stage


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
    artifacts: ArtifactRootResource,
) -> dg.Output[ArtifactFiles]:
    """Trading costs of one symbol-day (costs.json): fees, clamped spread, slippage per sigma.

    Fees come from the per-symbol configuration, else the exchange when API credentials are
    set, else the venue default; the spread is estimated from the trailing window of bars known
    at the day's close, then clamped, so it never replaces the fee.
    """
    date, symbol = split_partition_key(context.partition_key)
    end = day_end(date)
    with stage(context, artifacts.layout().root, "costs") as timing, permanent_errors_fail_fast():
        fees, fallback_reason = cost_model.fee_schedule_for(symbol)
        if fallback_reason:
            context.log.warning(
                f"{symbol}: exchange fees not used, config instead: {fallback_reason}"
            )
        bars, report = market_data.bar_source().load(
            symbol, end, pd.Timedelta(days=cost_model.window_days)
        )
        result = cost_model.estimate(bars, symbol, fees, end)
    metadata: dict[str, dg.MetadataValue] = {
        "taker_fee_bps": dg.MetadataValue.float(result.taker_fee_bps.bps),
        "maker_fee_bps": dg.MetadataValue.float(result.maker_fee_bps.bps),
        "fee_source": dg.MetadataValue.text(result.taker_fee_bps.source),
        "median_spread_bps": dg.MetadataValue.float(result.median_spread_bps.bps),
        "raw_spread_bps": dg.MetadataValue.float(float(result.raw_spread_bps)),
        "bars": dg.MetadataValue.int(report.rows),
        **timing.metadata(),
    }
    if fallback_reason:
        metadata["fee_fallback_reason"] = dg.MetadataValue.text(fallback_reason)
    return dg.Output(
        ArtifactFiles({"costs.json": json_bytes(result.to_json_dict())}), metadata=metadata
    )
