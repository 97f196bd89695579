"""The `model` asset: one trained model per symbol-day, under the `train` pool."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from resources.artifact_io import ArtifactRootResource
from resources.method import method_of
from resources.training import TrainingResource
from retrain_assets.adapters.catboost_trainer import drop_checkpoint, load_trainer
from retrain_assets.adapters.hardware import detect_hardware
from retrain_assets.adapters.locks import FileLock
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles, json_bytes
from retrain_assets.core.lifecycle.pipeline import (
    train_symbol_day,
    training_input,
    with_fingerprint,
)
from retrain_assets.core.model.calibration import TREE_FLOOR, tree_floor
from retrain_assets.core.model.model_health import HEALTH_KEY, health_record, reported_importance
from retrain_assets.core.model.splits import Splits
from retrain_assets.core.model.training import (
    TrainedModel,
    TrainingInput,
    TrainingParams,
    tree_floor_of,
)
from retrain_assets.defs.adoption import adopted_model
from retrain_assets.defs.assets.checks import check_result, check_spec
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.figures import unplotted
from retrain_assets.defs.model_health import health_metadata
from retrain_assets.defs.partitions import (
    TRAIN_POOL,
    key_file_stem,
    split_partition_key,
    symbol_day_partitions,
)
from retrain_assets.defs.provenance import derived_provenance, provenance_metadata
from retrain_assets.defs.tags import CONCURRENCY_TAG, TIMEOUT_TAG, is_dry_run, tag_value
from retrain_assets.defs.telemetry import stage
from retrain_assets.defs.timeout import symbol_deadline

TRAINING_RETRIES = dg.RetryPolicy(
    max_retries=2, delay=2.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def _concurrency(context: dg.AssetExecutionContext) -> int | None:
    tagged = tag_value(context.run.tags, CONCURRENCY_TAG)
    if tagged:
        return int(tagged)
    info = context.instance.event_log_storage.get_concurrency_info(TRAIN_POOL)
    return info.slot_count or None


def _timeout_minutes(context: dg.AssetExecutionContext, training: TrainingResource) -> float:
    """An invocation's own `--timeout_minutes` (its tag), else the resource's: the deployment's
    timeout unless the launchpad set another for this run."""
    return float(tag_value(context.run.tags, TIMEOUT_TAG) or training.timeout_minutes)


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key=IO_MANAGER_KEY,
    group_name=RETRAIN_GROUP,
    kinds={"catboost"},
    pool=TRAIN_POOL,
    retry_policy=TRAINING_RETRIES,
    check_specs=[check_spec(TREE_FLOOR, "model")],
)
def model(
    context: dg.AssetExecutionContext,
    features: ArtifactFiles,
    training: TrainingResource,
    artifacts: ArtifactRootResource,
) -> Iterator[dg.Output[ArtifactFiles] | dg.AssetCheckResult]:
    """The live model of one symbol-day (model.bin), its held-out twin, config and log.

    The tree count is chosen by fitting on the train segment and early-stopping on validation
    (held_out_model.bin, which the `metrics` asset evaluates on the test segment it never saw);
    the live model is then refit with that count on every labelled row through the date, so the
    model that trades tomorrow has seen today. Checkpoints go to a folder of the partition's
    own, so an attempt killed mid-training resumes from its snapshots. The live model's
    `prediction_fingerprint` (sha256 of its predictions on a fixed probe of the features) is
    the same for every CatBoost CPU refit of the same inputs; `model.bin`'s bytes are not.
    The tree count never goes below `min_trees`, and config.json records the calibration slope
    fitted on validation that scales the predictions before the cost rule; the `tree_floor`
    check warns when a live model still has fewer trees than the floor (a trainer of its own
    may ignore the count). config.json and the metadata carry its provenance: the features'
    source and bars, the method (training settings and their digest), the trainer and the
    product version, and its health (`model_health`: trees, best iteration, the top 10
    features by CatBoost's importance, also as the `feature_importance` table; importance
    is None when a trainer reports none).
    """
    date, symbol = split_partition_key(context.partition_key)
    dry_run = is_dry_run(context.run.tags)  # a smoke test: the tiny training budget
    frame = features.parquet("features.parquet")
    splits = Splits.from_json_dict(features.json("split_indices.json"))
    params = training.params(detect_hardware(), _concurrency(context), dry_run)
    layout = artifacts.layout()
    timeout_minutes = _timeout_minutes(context, training)
    made = derived_provenance(context, "model", method_of(training), training.trainer_path())
    with (
        _training_lock(context),
        stage(context, layout.root, "train") as timing,
        permanent_errors_fail_fast(),
        symbol_deadline(symbol, timeout_minutes * 60.0) as d,
    ):
        adopted = adopted_model(context, made)  # asked for while another run trained it
        if adopted is not None:
            yield adopted
            adopted_config = adopted.value.json("config.json")
            trees = int(adopted_config["live_fit"]["trees"])
            best = (adopted_config.get("held_out_fit") or {}).get("best_iteration")
            floor = _floor(params, dry_run)
            yield check_result(tree_floor(f"{symbol} {date}", trees, floor, best))
            return
        trainer = load_trainer(training.trainer_path())
        job = training_input(
            symbol,
            date,
            frame,
            splits,
            params,
            layout.checkpoint_dir(symbol, date, dry_run),
            dry_run=dry_run,
            deadline_monotonic=d,
        )
        started = time.perf_counter()
        try:
            fits = train_symbol_day(trainer, job)
        except KeyboardInterrupt:  # CatBoost's form of a signal: a cancel is not retried
            _refuse_if_canceled(context)
            raise
        _refuse_if_canceled(context)
        drop_checkpoint(job)  # accepted: a forced retrain starts afresh
    train_s = time.perf_counter() - started
    with permanent_errors_fail_fast():
        live, fingerprint = with_fingerprint(trainer, fits.live, fits.live_job)
    live_fit = _live_fit(frame, fits.live_job, live)
    log = {
        **fits.held_out.training_log,
        "live_fit": {**live.training_log, **live_fit},
        "train_seconds": round(train_s, 3),
        "attempt": _attempt(context),
    }
    health = health_record(
        live_fit["trees"], log.get("best_iteration"), reported_importance(live.training_log)
    )
    config = {
        **live.config,
        HEALTH_KEY: health,
        "provenance": made.to_json_dict(),
        "dry_run": dry_run,
        "fit": "live",
        "live_fit": live_fit,
        "held_out_fit": {
            "file": "held_out_model.bin",
            "segments": {k: list(v) for k, v in job.segments.items()},
            "tree_count": _trees(fits.held_out, fits.live_job.params),
            "best_iteration": log.get("best_iteration"),
            "evaluated_by": "metrics (a diagnostic: the live model has seen the test segment)",
        },
    }
    files = {
        "model.bin": live.model_bytes,
        "held_out_model.bin": fits.held_out.model_bytes,
        "config.json": json_bytes(config),
        "training_log.json": json_bytes(log),
    }
    output = dg.Output(
        ArtifactFiles(files),
        metadata={
            **provenance_metadata(made),
            "train_minutes": dg.MetadataValue.float(round(train_s / 60.0, 4)),
            "timeout_minutes": dg.MetadataValue.float(timeout_minutes),
            "best_iteration": dg.MetadataValue.int(int(log.get("best_iteration", 0))),
            "live_trees": dg.MetadataValue.int(live_fit["trees"]),
            "min_trees": dg.MetadataValue.int(params.min_trees),
            "calibration_slope": dg.MetadataValue.float(fits.calibration.slope),
            "calibration_rows": dg.MetadataValue.int(fits.calibration.rows),
            "live_rows": dg.MetadataValue.int(config["live_fit"]["rows"]),
            "live_through": dg.MetadataValue.text(config["live_fit"]["last_labelled_row"]),
            "prediction_fingerprint": dg.MetadataValue.text(fingerprint.sha256),
            "resumed_from_snapshot": dg.MetadataValue.bool(bool(log.get("resumed_from_snapshot"))),
            "thread_count": dg.MetadataValue.int(params.thread_count),
            "task_type": dg.MetadataValue.text(params.task_type),
            "gpu_seconds": dg.MetadataValue.float(
                round(train_s if params.task_type == "GPU" else 0.0, 3)
            ),
            **health_metadata(health),
            **timing.metadata(),
        },
    )
    yield output.with_metadata(unplotted(output.metadata))
    best = log.get("best_iteration")
    floor = _floor(params, dry_run)
    yield check_result(tree_floor(f"{symbol} {date}", live_fit["trees"], floor, best))


def _live_fit(frame: pd.DataFrame, live_job: TrainingInput, live: TrainedModel) -> dict[str, Any]:
    start, end = live_job.segments["train"]
    return {
        "rows": end - start,
        "first_row": frame["timestamp"].iloc[start].isoformat(),
        "last_labelled_row": frame["timestamp"].iloc[end - 1].isoformat(),
        "trees": _trees(live, live_job.params),
    }


def _trees(trained: TrainedModel, params: TrainingParams) -> int:
    """The trees a fit has, as its trainer reports them, else the count it was asked for."""
    return int(trained.training_log.get("tree_count") or params.iterations)


def _floor(params: TrainingParams, dry_run: bool) -> int:
    """The tree floor a live model is held to: `min_trees`; a dry run's tiny budget instead
    when that is less (a smoke test is not a model to trade)."""
    return tree_floor_of(params) if dry_run else params.min_trees


def _training_lock(context: dg.AssetExecutionContext) -> FileLock:
    """One training of a symbol-day at a time on this instance's machine, whoever runs it.

    The CLI, a UI backfill and the schedule may all launch the same symbol-day; they share its
    snapshot folder too. A second run waits here (its timeout not yet started) until the first
    has finished training. Queued runs also never start together (`dagster.yaml`'s per-partition
    run limit), so across machines the run queue does the same.
    """
    name = "_".join([*context.asset_key.path, key_file_stem(context.partition_key)])
    return FileLock(Path(context.instance.root_directory) / "retrain-locks" / f"{name}.lock")


def _refuse_if_canceled(context: dg.AssetExecutionContext) -> None:
    """A training cut short by a cancel (Ctrl-C) may return normally: never record it.

    The snapshot stays, so the next run resumes from it; the failure is not retried.
    """
    run = context.instance.get_run_by_id(context.run.run_id)
    if run is not None and run.status in (
        dg.DagsterRunStatus.CANCELING,
        dg.DagsterRunStatus.CANCELED,
    ):
        raise dg.Failure(
            description="training interrupted by a cancel; its snapshot is kept for the rerun",
            metadata={"error_type": "Canceled"},
            allow_retries=False,
        )


def _attempt(context: dg.AssetExecutionContext) -> int:
    return context.retry_number + 1
