"""The `model` asset: one trained model per symbol-day, under the `train` pool."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
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
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles, ArtifactLayout, json_bytes
from retrain_assets.core.lifecycle.pipeline import (
    SymbolDayModels,
    train_symbol_day,
    training_input,
    with_fingerprint,
)
from retrain_assets.core.model.calibration import TREE_FLOOR, tree_floor
from retrain_assets.core.model.fingerprint import PredictionFingerprint
from retrain_assets.core.model.model_health import HEALTH_KEY, health_record, reported_importance
from retrain_assets.core.model.provenance import Provenance
from retrain_assets.core.model.splits import Splits
from retrain_assets.core.model.training import (
    TrainedModel,
    Trainer,
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
from retrain_assets.defs.model_health import health_metadata
from retrain_assets.defs.partitions import TRAIN_POOL, symbol_day_partitions, train_pool_limit
from retrain_assets.defs.provenance import derived_provenance, provenance_metadata
from retrain_assets.defs.telemetry import StageReport, stage
from retrain_assets.defs.timeout import symbol_deadline
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import key_file_stem, split_partition_key
from retrain_assets.vocabulary.tags import CONCURRENCY_TAG, TIMEOUT_TAG, is_dry_run, tag_value

TRAINING_RETRIES = dg.RetryPolicy(
    max_retries=2, delay=2.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def _concurrency(context: dg.AssetExecutionContext) -> int | None:
    tagged = tag_value(context.run.tags, CONCURRENCY_TAG)
    if tagged:
        return int(tagged)
    return train_pool_limit(context.instance)


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
    frame = features.parquet("features.parquet")
    splits = Splits.from_json_dict(features.json("split_indices.json"))
    run = _training_run(context, training, artifacts)
    with (
        _training_lock(context),
        stage(context, run.layout.root, "train") as timing,
        permanent_errors_fail_fast(),
        symbol_deadline(run.symbol, run.timeout_minutes * 60.0) as d,
    ):
        adopted = adopted_model(context, run.made)  # asked for while another run trained it
        if adopted is not None:
            yield adopted
            yield _adopted_tree_floor(adopted.value, run)
            return
        trainer = load_trainer(training.trainer_path())
        job = run.training_input(frame, splits, deadline_monotonic=d)
        started = time.perf_counter()
        fits = _fit(context, trainer, job)
    train_s = time.perf_counter() - started
    yield from _trained_outputs(
        context, run, trainer, fits, job, frame=frame, train_s=train_s, timing=timing
    )


@dataclass(frozen=True)
class _TrainingRun:
    """What one materialization of `model` trains with, read once from its run and resources:
    the partition, whether it is a smoke test, the training settings, the artifact layout,
    the per-symbol timeout and the provenance the model will carry."""

    date: str
    symbol: str
    dry_run: bool  # a smoke test: the tiny training budget
    params: TrainingParams
    layout: ArtifactLayout
    timeout_minutes: float
    made: Provenance

    @property
    def name(self) -> str:
        """The symbol-day as the checks' descriptions name it."""
        return f"{self.symbol} {self.date}"

    @property
    def floor(self) -> int:
        """The tree floor a live model is held to: `min_trees`; a dry run's tiny budget instead
        when that is less (a smoke test is not a model to trade)."""
        return tree_floor_of(self.params) if self.dry_run else self.params.min_trees

    def training_input(
        self, frame: pd.DataFrame, splits: Splits, *, deadline_monotonic: float | None
    ) -> TrainingInput:
        """The trainer's input, its snapshots in a folder of the partition's own (so an
        attempt killed mid-training resumes from them)."""
        return training_input(
            self.symbol,
            self.date,
            frame,
            splits,
            self.params,
            self.layout.checkpoint_dir(self.symbol, self.date, self.dry_run),
            dry_run=self.dry_run,
            deadline_monotonic=deadline_monotonic,
        )


def _training_run(
    context: dg.AssetExecutionContext,
    training: TrainingResource,
    artifacts: ArtifactRootResource,
) -> _TrainingRun:
    """The run's `_TrainingRun`: its partition and tags, the hardware and the `train` pool."""
    date, symbol = split_partition_key(context.partition_key)
    dry_run = is_dry_run(context.run.tags)
    return _TrainingRun(
        date=date,
        symbol=symbol,
        dry_run=dry_run,
        params=training.params(detect_hardware(), _concurrency(context), dry_run),
        layout=artifacts.layout(),
        timeout_minutes=_timeout_minutes(context, training),
        made=derived_provenance(context, "model", method_of(training), training.trainer_path()),
    )


def _fit(
    context: dg.AssetExecutionContext, trainer: Trainer, job: TrainingInput
) -> SymbolDayModels:
    """Both fits of the symbol-day (`train_symbol_day`), unless a cancel cut them short.

    A cancel is refused whether it interrupts CatBoost (as a KeyboardInterrupt) or lets the
    training return normally, so a cut-short model is never recorded.
    """
    try:
        fits = train_symbol_day(trainer, job)
    except KeyboardInterrupt:  # CatBoost's form of a signal: a cancel is not retried
        _refuse_if_canceled(context)
        raise
    _refuse_if_canceled(context)
    drop_checkpoint(job)  # accepted: a forced retrain starts afresh
    return fits


def _adopted_tree_floor(adopted: ArtifactFiles, run: _TrainingRun) -> dg.AssetCheckResult:
    """The `tree_floor` check of a model another run trained, read from its config.json."""
    adopted_config = adopted.json("config.json")
    trees = int(adopted_config["live_fit"]["trees"])
    best = (adopted_config.get("held_out_fit") or {}).get("best_iteration")
    return check_result(tree_floor(run.name, trees, run.floor, best))


def _trained_outputs(
    context: dg.AssetExecutionContext,
    run: _TrainingRun,
    trainer: Trainer,
    fits: SymbolDayModels,
    job: TrainingInput,
    *,
    frame: pd.DataFrame,
    train_s: float,
    timing: StageReport,
) -> Iterator[dg.Output[ArtifactFiles] | dg.AssetCheckResult]:
    """The trained model's files (model.bin, its held-out twin, config and log) with their
    metadata, then its `tree_floor` check. The live model is fingerprinted first."""
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
    config = _config(live, fits, job, run, live_fit=live_fit, log=log, health=health)
    files = {
        "model.bin": live.model_bytes,
        "held_out_model.bin": fits.held_out.model_bytes,
        "config.json": json_bytes(config),
        "training_log.json": json_bytes(log),
    }
    output = dg.Output(
        ArtifactFiles(files),
        metadata={
            **provenance_metadata(run.made),
            **_training_metadata(run, fits, log, live_fit, fingerprint, train_s),
            **health_metadata(health),
            **timing.metadata(),
        },
    )
    yield output.with_metadata(unplotted(output.metadata))
    best = log.get("best_iteration")
    yield check_result(tree_floor(run.name, live_fit["trees"], run.floor, best))


def _config(
    live: TrainedModel,
    fits: SymbolDayModels,
    job: TrainingInput,
    run: _TrainingRun,
    *,
    live_fit: dict[str, Any],
    log: dict[str, Any],
    health: dict[str, Any],
) -> dict[str, Any]:
    """config.json: the live model's own config, its health and provenance, whether a dry run
    made it, how the live fit was made, and where its held-out twin is and what that is for."""
    return {
        **live.config,
        HEALTH_KEY: health,
        "provenance": run.made.to_json_dict(),
        "dry_run": run.dry_run,
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


def _training_metadata(
    run: _TrainingRun,
    fits: SymbolDayModels,
    log: dict[str, Any],
    live_fit: dict[str, Any],
    fingerprint: PredictionFingerprint,
    train_s: float,
) -> dict[str, dg.MetadataValue]:
    """How the training went, as materialization metadata: its time against the timeout, the
    trees, the calibration, the live fit's rows, the fingerprint and the hardware used."""
    params = run.params
    return {
        "train_minutes": dg.MetadataValue.float(round(train_s / 60.0, 4)),
        "timeout_minutes": dg.MetadataValue.float(run.timeout_minutes),
        "best_iteration": dg.MetadataValue.int(int(log.get("best_iteration", 0))),
        "live_trees": dg.MetadataValue.int(live_fit["trees"]),
        "min_trees": dg.MetadataValue.int(params.min_trees),
        "calibration_slope": dg.MetadataValue.float(fits.calibration.slope),
        "calibration_rows": dg.MetadataValue.int(fits.calibration.rows),
        "live_rows": dg.MetadataValue.int(live_fit["rows"]),
        "live_through": dg.MetadataValue.text(live_fit["last_labelled_row"]),
        "prediction_fingerprint": dg.MetadataValue.text(fingerprint.sha256),
        "resumed_from_snapshot": dg.MetadataValue.bool(bool(log.get("resumed_from_snapshot"))),
        "thread_count": dg.MetadataValue.int(params.thread_count),
        "task_type": dg.MetadataValue.text(params.task_type),
        "gpu_seconds": dg.MetadataValue.float(
            round(train_s if params.task_type == "GPU" else 0.0, 3)
        ),
    }


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
