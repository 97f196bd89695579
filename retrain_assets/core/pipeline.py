"""The steps of one symbol-day, composed from the core: features and splits, the training
input, the test rows. Assets and the engine benchmark call these, so both do the same work."""

from dataclasses import replace
from functools import partial
from pathlib import Path

import pandas as pd

from retrain_assets.core.errors import InsufficientHistoryError
from retrain_assets.core.feature_rows import account_rows
from retrain_assets.core.features import FEATURE_NAMES, LabelSpec, build_features
from retrain_assets.core.fingerprint import PredictionFingerprint, fingerprint_predictions
from retrain_assets.core.splits import Splits, purged_split, rows_needed
from retrain_assets.core.training import TrainedModel, Trainer, TrainingInput, TrainingParams

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
