"""The `metrics` asset: the held-out diagnostic of one symbol-day, after costs, on its test bars."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from resources.artifact_io import SEAL_METADATA_KEY, ArtifactRootResource
from resources.method import method_of
from resources.training import CostModelResource, TrainingResource
from retrain_assets.adapters.catboost_trainer import load_trainer
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles, json_bytes
from retrain_assets.core.lifecycle.pipeline import test_rows
from retrain_assets.core.model.calibration import calibration_slope
from retrain_assets.core.model.features import FEATURE_NAMES
from retrain_assets.core.model.provenance import Provenance
from retrain_assets.core.model.splits import Splits
from retrain_assets.core.trading.costs import Costs
from retrain_assets.core.trading.evaluation import OK, Metrics, evaluate
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.assets.walk_forward import PNL_FILE
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.defs.provenance import derived_provenance, provenance_metadata
from retrain_assets.defs.telemetry import StageReport, emit, event_log, stage
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import split_partition_key
from retrain_assets.vocabulary.tags import is_dry_run

# What metrics.json scores: the held-out fit on the test segment; the headline record of the
# live model is the walk-forward ledger.
HELD_OUT_DIAGNOSTIC = "held_out_diagnostic"


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key=IO_MANAGER_KEY,
    group_name=RETRAIN_GROUP,
    kinds={"python"},
    metadata={SEAL_METADATA_KEY: True},
)
def metrics(
    context: dg.AssetExecutionContext,
    model: ArtifactFiles,
    features: ArtifactFiles,
    costs: ArtifactFiles,
    walk_forward: ArtifactFiles,
    training: TrainingResource,
    cost_model: CostModelResource,
    artifacts: ArtifactRootResource,
) -> dg.Output[ArtifactFiles]:
    """Held-out diagnostic of one symbol-day (metrics.json), after costs; seals the run folder.

    This scores the method, not the live model: the held-out fit (held_out_model.bin, which
    never saw the test segment) trades that segment under the same cost model as the flat and
    buy-and-hold baselines, each decision filled at the next bar's open and held for the label
    horizon, its predictions scaled by the model's calibration slope (config.json) before the
    cost rule, as the walk-forward ledger scales the live model's; below `min_trades` trades
    its status is `insufficient_evidence`. metrics.json also carries the date's walk-forward
    day in brief (the ledger is its own asset); reading it orders this step last, so
    sha256.txt, written after metrics.json, covers every file of the folder,
    walk_forward.json included. Its provenance (source, bars, method) is in
    metrics.json and the metadata, which status.json and the summary read.
    """
    date, symbol = split_partition_key(context.partition_key)
    frame = features.parquet("features.parquet")
    splits = Splits.from_json_dict(features.json("split_indices.json"))
    test_frame = test_rows(frame, splits)
    config = model.json("config.json")
    log = model.json("training_log.json")
    root = artifacts.layout().root
    with stage(context, root, "evaluate") as timing, permanent_errors_fail_fast():
        result = _held_out_result(model, costs, test_frame, splits, config, training)
    train_minutes = float(log.get("train_seconds", 0.0)) / 60.0
    made = derived_provenance(
        context, "metrics", method_of(training, cost_model), training.trainer_path()
    )
    document = {
        "provenance": made.to_json_dict(),
        **result.to_json_dict(),
        "evaluation": HELD_OUT_DIAGNOSTIC,
        "symbol": symbol,
        "as_of": date,
        "dry_run": is_dry_run(context.run.tags),
        "train_minutes": round(train_minutes, 4),
        "rows": {"total": len(frame), **log.get("rows", {})},
        "trainer": config.get("trainer"),
        "calibration_slope": calibration_slope(config),
        "walk_forward_day": pnl_day_summary(walk_forward.json(PNL_FILE)),
    }
    _emit_succeeded(context, root, document, train_minutes, timing)
    return _metrics_output(
        document, made, train_minutes=train_minutes, rows=len(frame), timing=timing
    )


def _metrics_output(
    document: Mapping[str, Any],
    made: Provenance,
    *,
    train_minutes: float,
    rows: int,
    timing: StageReport,
) -> dg.Output[ArtifactFiles]:
    """metrics.json, with its provenance, figures and timings as metadata; the figures as
    text, so the UI never plots one line across symbols (`vocabulary/figures.py`)."""
    output = dg.Output(
        ArtifactFiles({"metrics.json": json_bytes(document)}),
        metadata={
            **provenance_metadata(made),
            **metrics_metadata(document),
            "train_minutes": dg.MetadataValue.float(round(train_minutes, 4)),
            "rows": dg.MetadataValue.int(rows),
            **timing.metadata(),
        },
    )
    return output.with_metadata(unplotted(output.metadata))


def _held_out_result(
    model: ArtifactFiles,
    costs: ArtifactFiles,
    test_frame: pd.DataFrame,
    splits: Splits,
    config: Mapping[str, Any],
    training: TrainingResource,
) -> Metrics:
    """The held-out fit traded on the test segment under the day's costs, its predictions
    scaled by the model's calibration slope, each decision held for the label horizon."""
    trainer = load_trainer(training.trainer_path())
    predictions = trainer.predict(held_out_model(model), test_frame[list(FEATURE_NAMES)])
    return evaluate(
        test_frame,
        predictions,
        Costs.from_json_dict(costs.json("costs.json")),
        horizon=splits.horizon,
        min_trades=training.min_trades,
        slope=calibration_slope(config),
    )


def _emit_succeeded(
    context: dg.AssetExecutionContext,
    root: Path,
    document: Mapping[str, Any],
    train_minutes: float,
    timing: StageReport,
) -> None:
    """The symbol-day's `coin_succeeded` line in the event log: the evaluation's status and
    net after costs, its trades, and how long training and evaluation took."""
    emit(
        context,
        event_log(context, root),
        "coin_succeeded",
        attempt=context.retry_number + 1,
        status=document["status"],
        net_bps_after_costs=document["net_bps_after_costs"],
        trades=int(document["trades"]),
        train_minutes=round(train_minutes, 4),
        evaluate_seconds=round(timing.wall_s, 3),
    )


def pnl_day_summary(day: Mapping[str, Any]) -> dict[str, Any]:
    """The date's walk-forward day in brief: what yesterday's live model did today."""
    return {
        "status": day["status"],
        "live_model_as_of": day["model_as_of"],
        **day.get("totals", {}),
        "file": PNL_FILE,
    }


def held_out_model(model: ArtifactFiles) -> bytes:
    """The held-out fit's bytes; the live `model.bin` has seen the test segment."""
    try:
        return model.files["held_out_model.bin"]
    except KeyError:
        raise PermanentError(
            "this model has no held_out_model.bin (it predates the live refit): "
            "retrain the symbol-day with --force"
        ) from None


def metrics_metadata(document: Mapping[str, Any]) -> dict[str, dg.MetadataValue]:
    """The evaluation's figures as materialization metadata; undefined figures are omitted.

    `net_bps_after_costs`, `hit_rate` and `sharpe` are present only with status `ok`:
    the launcher's status file and notifier and the Telegram sensor rank whatever carries
    that key, and a model with insufficient evidence is never to be ranked best or worst.
    Every model's net per trade, whatever its evidence, is `net_bps_per_trade`, with its
    interval (`net_bps_lo`, `net_bps_hi`) and trade count beside it.

    Args:
        document: metrics.json's content (`Metrics.to_json_dict`).

    Returns:
        Metadata values by key; MetadataValue cannot hold None, so a None figure has no key.
    """
    values: dict[str, float | None] = {
        "net_bps_per_trade": document["net_bps_after_costs"],
        "gross_bps_per_trade": document["gross_bps_per_trade"],
        "buy_and_hold_net_bps": document["baselines"]["buy_and_hold"]["net_bps_after_costs"],
        "auc": document.get("auc"),
    }
    if document["status"] == OK:
        # A hit rate of 1.0 or a Sharpe of 3 from one trade is noise that reads like a
        # signal: below the evidence threshold these are left out of the UI (metrics.json
        # keeps them, beside the status that says how little they mean).
        values["net_bps_after_costs"] = document["net_bps_after_costs"]
        values["hit_rate"] = document["hit_rate"]
        values["sharpe"] = document["sharpe"]
    metadata = {k: dg.MetadataValue.float(float(v)) for k, v in values.items() if v is not None}
    metadata.update(_interval("net_bps", document["net_bps_interval"]))
    for side in ("long", "short", "market_neutral"):
        figure = document[side]
        metadata[f"{side}_trades"] = dg.MetadataValue.int(int(figure["n_trades"]))
        if figure["net_bps"] is not None:
            metadata[f"{side}_net_bps"] = dg.MetadataValue.float(float(figure["net_bps"]))
        metadata.update(_interval(f"{side}_net_bps", figure["interval"]))
    return {
        "evaluation": dg.MetadataValue.text(HELD_OUT_DIAGNOSTIC),
        "status": dg.MetadataValue.text(str(document["status"])),
        "min_trades": dg.MetadataValue.int(int(document["min_trades"])),
        "trades": dg.MetadataValue.int(int(document["trades"])),
        **metadata,
    }


def _interval(name: str, interval: list[float] | None) -> dict[str, dg.MetadataValue]:
    if interval is None:
        return {}
    low, high = interval
    return {
        f"{name}_lo": dg.MetadataValue.float(float(low)),
        f"{name}_hi": dg.MetadataValue.float(float(high)),
    }
