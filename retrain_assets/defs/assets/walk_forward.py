"""The `walk_forward` asset: the ledger of what yesterday's live model traded today.

Partition `date|symbol` is the traded day: its record is what the live model of the day before
(`model` of `date - 1`) did on this date's bars, under the costs estimated as of this date's
00:00 UTC (`costs`' walk_forward_costs.json). It runs in the same run as this date's model, once
the date's bars exist, so the daily schedule, the CLI and backfills all extend the ledger; a
backfill over past dates rebuilds each day from point-in-time inputs only, byte for byte.
"""

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import dagster as dg
import pandas as pd

from resources.artifact_io import ArtifactIOManager, ArtifactRootResource
from resources.method import method_of
from resources.training import CostModelResource, TrainingResource
from retrain_assets.adapters.catboost_trainer import load_trainer
from retrain_assets.core.data.check_outcome import CheckOutcome
from retrain_assets.core.data.families import family_key, split_by_family
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles, json_bytes
from retrain_assets.core.model.calibration import calibration_slope
from retrain_assets.core.model.features import FEATURE_NAMES
from retrain_assets.core.model.provenance import Provenance
from retrain_assets.core.model.rolling_ic import ICPolicy, live_ic
from retrain_assets.core.trading.costs import Costs
from retrain_assets.core.trading.walk_forward import (
    NO_LIVE_MODEL,
    DayPnl,
    day_rows,
    trade_day,
    untraded_day,
)
from retrain_assets.defs.assets.checks import check_result, check_spec
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    day_start,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.assets.costs import WALK_FORWARD_COSTS
from retrain_assets.defs.partitions import START_DATE, symbol_day_partitions
from retrain_assets.defs.pnl_records import pnl_days, window_dates
from retrain_assets.defs.provenance import derived_provenance, provenance_metadata
from retrain_assets.defs.telemetry import stage
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import partition_key, split_partition_key

PNL_FILE = "walk_forward.json"


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key=IO_MANAGER_KEY,
    group_name=RETRAIN_GROUP,
    kinds={"python"},
    required_resource_keys={"training", "cost_model", "artifacts", IO_MANAGER_KEY},
    check_specs=[check_spec("live_ic", "walk_forward")],
)
def walk_forward(
    context: dg.AssetExecutionContext, features: ArtifactFiles, costs: ArtifactFiles
) -> Iterator[dg.Output[ArtifactFiles] | dg.AssetCheckResult]:
    """One traded day of the walk-forward ledger (walk_forward.json), the headline record.

    Yesterday's live model predicts each of today's bars from its causal features, scaled by
    its calibration slope (config.json; 1 when it has none) before the cost rule; each
    decision fills at the next open and holds for the horizon; the day starts flat and ends
    flat. Without a model of the day before (a new symbol, the first date) the day says
    `no_live_model`: nothing was live, so nothing traded, and the chained record skips it.
    Its `live_ic` check is the rank correlation of the live models' predictions with what
    followed over the last 20 ledger days, this one included. The day records the live
    model's family (its method and kind of source, from its config.json), so records and gates pool
    only the days of one family.
    """
    date, symbol = split_partition_key(context.partition_key)
    training: TrainingResource = context.resources.training
    cost_model: CostModelResource = context.resources.cost_model
    artifacts: ArtifactRootResource = context.resources.artifacts
    io: ArtifactIOManager = getattr(context.resources, IO_MANAGER_KEY)
    made = derived_provenance(
        context, "walk_forward", method_of(training, cost_model), training.trainer_path()
    )
    live_model = _yesterdays_model(context, io, date, symbol)
    if live_model is None:
        ledger = untraded_day(symbol, date, NO_LIVE_MODEL)
        yield _output(ledger, provenance_metadata(made))
        yield check_result(_live_ic(context, ledger, training.horizon_bars))
        return
    config = live_model.json("config.json")
    with (
        stage(context, artifacts.layout().root, "walk_forward") as timing,
        permanent_errors_fail_fast(),
    ):
        model = (live_model.files["model.bin"], config, str(config.get("as_of")))
        ledger = trade_model_on((date, symbol), features, costs, model, training)
    family = Provenance.from_json_dict(config.get("provenance"))
    ledger = replace(ledger, model_family=family.family if family else None)
    slope = dg.MetadataValue.float(calibration_slope(config))
    yield _output(
        ledger, {**provenance_metadata(made), **timing.metadata(), "calibration_slope": slope}
    )
    yield check_result(_live_ic(context, ledger, training.horizon_bars))


def trade_model_on(
    partition: tuple[str, str],
    features: ArtifactFiles,
    costs: ArtifactFiles,
    model: tuple[bytes, Mapping[str, Any], str],
    training: TrainingResource,
) -> DayPnl:
    """What one model trades on the day of `partition` (date, symbol): its predictions on the
    day's feature rows, scaled by the calibration its config.json recorded, executed under the
    costs known at the day's 00:00 UTC. `model` is its bytes, its config.json and its as-of
    date. The ledger's newest model and the champion's own live record (`champion`) both trade
    through here."""
    date, symbol = partition
    model_bytes, config, as_of = model
    rows = day_rows(features.parquet("features.parquet"), date)
    predictions = load_trainer(training.trainer_path()).predict(
        model_bytes, rows[list(FEATURE_NAMES)]
    )
    return trade_day(
        symbol,
        date,
        as_of,
        rows,
        predictions,
        Costs.from_json_dict(costs.json(WALK_FORWARD_COSTS)),
        costs_as_of=day_start(date).isoformat(),
        horizon=training.horizon_bars,
        slope=calibration_slope(config),
    )


def _live_ic(context: dg.AssetExecutionContext, today: DayPnl, horizon: int) -> CheckOutcome:
    """The live IC over the trailing window of real ledger days of today's model family
    (the same method and kind of source), today's included."""
    policy = ICPolicy()
    before = window_dates(today.day, policy.window_days)[:-1]
    found = pnl_days(context.instance, before, [today.symbol])
    same_family, _ = split_by_family(found.days, family_key(today))
    return live_ic([*same_family, today], horizon, policy)


def _yesterdays_model(
    context: dg.AssetExecutionContext, io: ArtifactIOManager, date: str, symbol: str
) -> ArtifactFiles | None:
    """The live model of the day before, verified; None before the first date or if never built.

    Read from the records, not declared as an input through a day-before partition mapping:
    Dagster's asset backfills follow such mappings downstream, so a backfill of dates D1..Dn
    would also launch the ledger (and metrics) of Dn+1, whose features it never builds, and
    split each symbol-day into several runs.
    """
    before = (pd.Timestamp(date) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    if before < START_DATE:
        return None
    key = dg.AssetKey("model")
    return io.load_partition(context, key, str(partition_key(before, symbol)))


def _output(ledger: DayPnl, timing: dict[str, dg.MetadataValue]) -> dg.Output[ArtifactFiles]:
    document = ledger.to_json_dict()
    totals = document["totals"]
    metadata: dict[str, dg.MetadataValue] = {
        "ledger_status": dg.MetadataValue.text(ledger.status),
        "day_trades": dg.MetadataValue.int(int(totals["trades"])),
        "day_bars": dg.MetadataValue.int(len(ledger.timestamps)),
        **timing,
    }
    if ledger.model_as_of is not None:
        metadata |= {
            "live_model_as_of": dg.MetadataValue.text(ledger.model_as_of),
            "live_model_family": dg.MetadataValue.text(ledger.model_family or "unrecorded"),
            "day_net_bps": dg.MetadataValue.float(round(1e4 * totals["net"], 4)),
            "day_gross_bps": dg.MetadataValue.float(round(1e4 * totals["gross"], 4)),
            # Held through the day; its one entry and exit are charged by the chained record.
            "day_buy_and_hold_gross_bps": dg.MetadataValue.float(
                round(1e4 * sum(ledger.buy_and_hold_gross), 4)
            ),
        }
    return dg.Output(ArtifactFiles({PNL_FILE: json_bytes(document)}), metadata=unplotted(metadata))
