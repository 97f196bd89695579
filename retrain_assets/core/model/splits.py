"""Time-ordered train / validation / test segments with a purge gap between them.

A label at row t looks `horizon` bars ahead, so the last rows of a segment carry outcomes
from the start of the next one. Leaving `purge_bars >= horizon` rows out between segments
(AFML ch. 7) means no label window crosses a boundary. Rows, not hours, are counted: rows
are unique hourly bars, so h rows always span at least h hours.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from retrain_assets.core.errors import InsufficientHistoryError, PermanentError


@dataclass(frozen=True)
class Segment:
    """Rows `[start_row, end_row)` of the feature frame; `end_ts` is the last row's time."""

    name: str
    start_row: int
    end_row: int
    start_ts: pd.Timestamp
    end_ts: pd.Timestamp

    @property
    def rows(self) -> int:
        """Number of rows in the segment."""
        return self.end_row - self.start_row

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with ISO timestamps."""
        return {
            "name": self.name,
            "start_row": self.start_row,
            "end_row": self.end_row,
            "start_ts": self.start_ts.isoformat(),
            "end_ts": self.end_ts.isoformat(),
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "Segment":
        """Rebuild the segment written by `to_json_dict`."""
        return cls(
            name=str(data["name"]),
            start_row=int(data["start_row"]),
            end_row=int(data["end_row"]),
            start_ts=pd.Timestamp(data["start_ts"]),
            end_ts=pd.Timestamp(data["end_ts"]),
        )


@dataclass(frozen=True)
class Splits:
    """The three segments of one training, in time order, and the purge that separates them."""

    train: Segment
    validation: Segment
    test: Segment
    purge_bars: int
    horizon: int

    def row_ranges(self) -> dict[str, tuple[int, int]]:
        """`{"train": (start, end), "validation": ..., "test": ...}`, ends exclusive."""
        return {s.name: (s.start_row, s.end_row) for s in (self.train, self.validation, self.test)}

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: one object per segment plus `purge_bars` and `horizon`."""
        return {
            "train": self.train.to_json_dict(),
            "validation": self.validation.to_json_dict(),
            "test": self.test.to_json_dict(),
            "purge_bars": self.purge_bars,
            "horizon": self.horizon,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "Splits":
        """Rebuild the splits written by `to_json_dict`."""
        return cls(
            train=Segment.from_json_dict(data["train"]),
            validation=Segment.from_json_dict(data["validation"]),
            test=Segment.from_json_dict(data["test"]),
            purge_bars=int(data["purge_bars"]),
            horizon=int(data["horizon"]),
        )


def _segment(name: str, timestamps: pd.Series, start: int, end: int) -> Segment:
    return Segment(
        name,
        start,
        end,
        pd.Timestamp(timestamps.iloc[start]),
        pd.Timestamp(timestamps.iloc[end - 1]),
    )


def rows_needed(
    horizon: int,
    test_bars: int = 24 * 30,
    validation_bars: int = 24 * 20,
    purge_bars: int | None = None,
    min_train_bars: int = 24 * 60,
) -> int:
    """Fewest labelled rows `purged_split` accepts with these sizes (its arguments' defaults)."""
    purge = horizon if purge_bars is None else purge_bars
    return min_train_bars + validation_bars + test_bars + 2 * purge


def purged_split(
    timestamps: pd.Series,
    horizon: int,
    test_bars: int = 24 * 30,
    validation_bars: int = 24 * 20,
    purge_bars: int | None = None,
    *,
    labelled_rows: int | None = None,
    min_train_bars: int = 24 * 60,
    symbol: str = "?",
) -> Splits:
    """Split the rows of a feature frame into train, validation and test, purged.

    Test is the last `test_bars` labelled rows, validation the `validation_bars` rows ending
    `purge_bars` rows before test starts, train every row from 0 up to `purge_bars` rows before
    validation. Rows from `labelled_rows` on (the tail of `build_features` whose label is not
    known yet) belong to no segment; pass `labelled_rows=int(frame["label"].notna().sum())`.

    Args:
        timestamps: the frame's `timestamp` column (sorted, positional rows).
        horizon: label horizon in bars.
        test_bars: rows in the test segment.
        validation_bars: rows in the validation segment.
        purge_bars: rows left out between segments; defaults to `horizon`, must be >= it.
        labelled_rows: number of leading rows with a known label; default all rows.
        min_train_bars: fewest train rows accepted.
        symbol: for the error message.

    Raises:
        PermanentError: `purge_bars < horizon` or non-positive segment sizes.
        InsufficientHistoryError: the train segment would hold fewer than `min_train_bars` rows.
    """
    purge = horizon if purge_bars is None else purge_bars
    if horizon < 1 or purge < horizon:
        raise PermanentError(f"purge_bars ({purge}) must be >= horizon ({horizon}) >= 1")
    if test_bars < 1 or validation_bars < 1:
        raise PermanentError("test_bars and validation_bars must be positive")
    n = len(timestamps) if labelled_rows is None else min(labelled_rows, len(timestamps))
    test_start = n - test_bars
    val_start = test_start - purge - validation_bars
    train_end = val_start - purge
    if train_end < min_train_bars:
        needed = rows_needed(horizon, test_bars, validation_bars, purge, min_train_bars)
        raise InsufficientHistoryError(symbol, n, needed, unit="labelled feature rows")
    return Splits(
        train=_segment("train", timestamps, 0, train_end),
        validation=_segment("validation", timestamps, val_start, val_start + validation_bars),
        test=_segment("test", timestamps, test_start, n),
        purge_bars=purge,
        horizon=horizon,
    )
