"""The steps of one symbol-day, composed from the core: features and splits, the training
input, the test rows. Assets and the engine benchmark call these, so both do the same work."""

from pathlib import Path

import pandas as pd

from retrain_assets.core.features import FEATURE_NAMES, LabelSpec, build_features
from retrain_assets.core.splits import Splits, purged_split
from retrain_assets.core.training import TrainingInput, TrainingParams

BARS_PER_DAY = 24


def feature_set(
    bars: pd.DataFrame, symbol: str, horizon: int, test_days: int, validation_days: int
) -> tuple[pd.DataFrame, Splits]:
    """Features with their labels, and the purged train / validation / test split."""
    frame = build_features(bars, LabelSpec(horizon=horizon))
    splits = purged_split(
        frame["timestamp"],
        horizon=horizon,
        test_bars=BARS_PER_DAY * test_days,
        validation_bars=BARS_PER_DAY * validation_days,
        labelled_rows=int(frame["label"].notna().sum()),
        symbol=symbol,
    )
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


def test_rows(frame: pd.DataFrame, splits: Splits) -> pd.DataFrame:
    """The out-of-sample rows the model is evaluated on."""
    test = splits.test
    return frame.iloc[test.start_row : test.end_row].reset_index(drop=True)
