"""The `metrics` asset: after-cost evaluation of one symbol-day's model on its test bars."""

import dagster as dg

from resources.artifact_io import SEAL_METADATA_KEY, ArtifactRootResource
from resources.training import TrainingResource
from retrain_assets.core.artifacts import ArtifactFiles, is_dry_run_key, json_bytes
from retrain_assets.core.costs import Costs
from retrain_assets.core.evaluation import evaluate
from retrain_assets.core.features import FEATURE_NAMES
from retrain_assets.core.pipeline import test_rows
from retrain_assets.core.splits import Splits
from retrain_assets.core.training import load_trainer
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.partitions import split_partition_key, symbol_day_partitions
from retrain_assets.defs.telemetry import emit, event_log, stage


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
    training: TrainingResource,
    artifacts: ArtifactRootResource,
) -> dg.Output[ArtifactFiles]:
    """After-cost test metrics of one symbol-day (metrics.json); seals the run folder.

    The model trades the test segment under the same cost model as the flat and buy-and-hold
    baselines; sha256.txt is written after metrics.json, covering every file of the folder.
    """
    date, symbol = split_partition_key(context.partition_key)
    frame = features.parquet("features.parquet")
    test_frame = test_rows(frame, Splits.from_json_dict(features.json("split_indices.json")))
    config = model.json("config.json")
    log = model.json("training_log.json")
    root = artifacts.layout().root
    with stage(context, root, "evaluate") as timing, permanent_errors_fail_fast():
        trainer = load_trainer(training.trainer_path())
        predictions = trainer.predict(model.files["model.bin"], test_frame[list(FEATURE_NAMES)])
        result = evaluate(test_frame, predictions, Costs.from_json_dict(costs.json("costs.json")))
    train_minutes = float(log.get("train_seconds", 0.0)) / 60.0
    document = {
        **result.to_json_dict(),
        "symbol": symbol,
        "as_of": date,
        "dry_run": is_dry_run_key(context.asset_key.path),
        "train_minutes": round(train_minutes, 4),
        "rows": {"total": len(frame), **log.get("rows", {})},
        "trainer": config.get("trainer"),
    }
    net = float(document["net_bps_after_costs"])
    emit(
        context,
        event_log(context, root),
        "coin_succeeded",
        attempt=context.retry_number + 1,
        net_bps_after_costs=net,
        trades=int(document["trades"]),
        train_minutes=round(train_minutes, 4),
        evaluate_seconds=round(timing.wall_s, 3),
    )
    return dg.Output(
        ArtifactFiles({"metrics.json": json_bytes(document)}),
        metadata={
            "status": dg.MetadataValue.text(document["status"]),
            "net_bps_after_costs": dg.MetadataValue.float(net),
            "trades": dg.MetadataValue.int(int(document["trades"])),
            "auc": dg.MetadataValue.float(float(document.get("auc") or 0.0)),
            "train_minutes": dg.MetadataValue.float(round(train_minutes, 4)),
            "rows": dg.MetadataValue.int(len(frame)),
            **timing.metadata(),
        },
    )
