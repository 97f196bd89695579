"""The steps of one symbol-day, composed from the core: features and splits, the training
input, the test rows. Assets and the engine benchmark call these, so both do the same work."""

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pandas as pd

from retrain_assets.core.errors import InsufficientHistoryError
from retrain_assets.core.model.calibration import (
    CALIBRATION_KEY,
    UNCALIBRATED_SLOPE,
    Calibration,
    fit_calibration,
)
from retrain_assets.core.model.feature_rows import account_rows
from retrain_assets.core.model.features import FEATURE_NAMES, LabelSpec, build_features
from retrain_assets.core.model.fingerprint import PredictionFingerprint, fingerprint_predictions
from retrain_assets.core.model.splits import Splits, purged_split, rows_needed
from retrain_assets.core.model.training import (
    TrainedModel,
    Trainer,
    TrainingInput,
    TrainingParams,
    rows,
    tree_floor_of,
)

BARS_PER_DAY = 24


def feature_set(
    bars: pd.DataFrame, symbol: str, horizon: int, test_days: int, validation_days: int
) -> tuple[pd.DataFrame, Splits]:
    """Features with their labels, and the purged train / validation / test split.

    Raises:
        InsufficientHistoryError: too few usable (labelled) feature rows; the message says
            how many bars there were and what the warm-up, gaps and the unlabelled end cost.
    """
    sizes = {
        "test_bars": BARS_PER_DAY * test_days,
        "validation_bars": BARS_PER_DAY * validation_days,
    }
    if bars.empty:
        needed = rows_needed(horizon, **sizes)
        raise InsufficientHistoryError(
            symbol, 0, needed, unit="usable feature rows", reasons="no bars in the window"
        )
    frame = build_features(bars, LabelSpec(horizon=horizon))
    labelled = int(frame["label"].notna().sum())
    try:
        splits = purged_split(
            frame["timestamp"], horizon, **sizes, labelled_rows=labelled, symbol=symbol
        )
    except InsufficientHistoryError as exc:
        reasons = account_rows(bars, frame, horizon).describe(horizon)
        raise InsufficientHistoryError(
            symbol, exc.found, exc.needed, unit="usable feature rows", reasons=reasons
        ) from None
    return frame, splits


def training_input(
    symbol: str,
    as_of: str,
    frame: pd.DataFrame,
    splits: Splits,
    params: TrainingParams,
    work_dir: Path,
    *,
    dry_run: bool,
    deadline_monotonic: float | None = None,
) -> TrainingInput:
    """What a trainer gets for one symbol-day."""
    return TrainingInput(
        symbol=symbol,
        as_of=as_of,
        frame=frame,
        feature_names=FEATURE_NAMES,
        segments=splits.row_ranges(),
        label={
            "column": "label",
            "kind": "forward_log_return",
            "horizon_bars": splits.horizon,
            "dry_run": dry_run,
        },
        params=params,
        work_dir=work_dir,
        deadline_monotonic=deadline_monotonic,
    )


@dataclass(frozen=True)
class SymbolDayModels:
    """The two fits of one symbol-day.

    `held_out` is fit on the train segment and early-stopped on validation: it has never seen
    the test segment, so it is the one evaluated there (a diagnostic of the method). `live` is
    refit with the same tree count on every labelled row through the date: `model.bin`, the
    model that trades the next day and whose record is the walk-forward ledger. `calibration`
    is the held-out model's slope on validation, recorded in the live model's config.
    """

    live: TrainedModel
    held_out: TrainedModel
    live_job: TrainingInput
    calibration: Calibration


def live_input(job: TrainingInput, iterations: int) -> TrainingInput:
    """The live fit's input: every labelled row (through the test segment's end), no
    validation, exactly `iterations` trees, its own checkpoint folder."""
    last_labelled = job.segments["test"][1]
    return replace(
        job,
        segments={"train": (0, last_labelled)},
        params=replace(job.params, iterations=max(1, iterations)),
        label={**job.label, "fit": "live"},
        work_dir=job.work_dir / "live",
    )


def chosen_iterations(held_out: TrainedModel, params: TrainingParams) -> int:
    """Trees the held-out fit kept (its best iteration + 1), else the configured bound, and
    never fewer than the floor (`tree_floor_of`): one noisy early stop on a few weeks of
    validation often picks 1 tree, a model too shrunk to trade."""
    trees = held_out.training_log.get("tree_count")
    chosen = int(trees) if trees else params.iterations
    return max(chosen, tree_floor_of(params))


def calibrate(trainer: Trainer, held_out: TrainedModel, job: TrainingInput) -> Calibration:
    """The held-out model's calibration slope on the validation segment (`core.calibration`);
    with calibration off, slope 1 (recorded as such, with no fitted slope)."""
    segment = job.segments["validation"]
    if not job.params.calibrate:
        return Calibration(UNCALIBRATED_SLOPE, None, 0, job.params.calibration_max_slope)
    predictions = trainer.predict(held_out.model_bytes, rows(job.frame, segment, job.feature_names))
    labels = job.frame["label"].iloc[slice(*segment)].to_numpy(dtype=float)
    stamps = job.frame["timestamp"].iloc[slice(*segment)]
    window = (pd.Timestamp(stamps.iloc[0]).isoformat(), pd.Timestamp(stamps.iloc[-1]).isoformat())
    return fit_calibration(predictions, labels, job.params.calibration_max_slope, window)


def train_symbol_day(trainer: Trainer, job: TrainingInput) -> SymbolDayModels:
    """Choose the tree count on train/validation, calibrate the held-out model's predictions
    on validation, then refit through the date with that count; the live model's config
    records the calibration."""
    held_out = trainer.train(replace(job, label={**job.label, "fit": "held_out"}))
    calibration = calibrate(trainer, held_out, job)
    live_job = live_input(job, chosen_iterations(held_out, job.params))
    live = trainer.train(live_job)
    live = replace(live, config={**live.config, CALIBRATION_KEY: calibration.to_json_dict()})
    return SymbolDayModels(live, held_out, live_job, calibration)


def with_fingerprint(
    trainer: Trainer, trained: TrainedModel, job: TrainingInput
) -> tuple[TrainedModel, PredictionFingerprint]:
    """The trained model with its prediction fingerprint in its config and training log.

    Uses `trainer.predict`, so it works for any trainer, not only CatBoost.
    """
    fingerprint = fingerprint_predictions(
        partial(trainer.predict, trained.model_bytes), job.frame, job.feature_names
    )
    record = {"prediction_fingerprint": fingerprint.to_json_dict()}
    marked = replace(
        trained,
        config={**trained.config, **record},
        training_log={**trained.training_log, **record},
    )
    return marked, fingerprint


def test_rows(frame: pd.DataFrame, splits: Splits) -> pd.DataFrame:
    """The out-of-sample rows the model is evaluated on."""
    test = splits.test
    return frame.iloc[test.start_row : test.end_row].reset_index(drop=True)
