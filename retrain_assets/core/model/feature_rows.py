"""Where a window's bars went: usable feature rows, and why the others are unusable.

"Not enough history" is only actionable when it says what was lost: a symbol listed last
month, the warm-up, an outage. These counts feed that message and the `features` metadata.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.data.gaps import Gap, find_gaps
from retrain_assets.core.model.features import BAR, WARMUP_BARS


@dataclass(frozen=True)
class RowAccount:
    """What became of a window's bars: usable feature rows, and why the others are not.

    Every bar is counted once: kept as a row, or lost to the warm-up, to a gap, or to an
    undefined feature. Kept rows are usable for training once their label is known.

    Attributes:
        bars: Bars in the window.
        rows: Feature rows kept by `build_features`.
        labelled: Kept rows with a known label: the rows a training can use.
        warmup: Bars lost to the warm-up (the first `WARMUP_BARS` hours of the window).
        near_gaps: Bars lost whose windows, lags or label reach a missing bar.
        undefined: Bars lost with no gap in reach: a feature undefined, e.g. a flat week.
        unlabelled: Kept rows whose label is not known yet (the last `horizon` bars).
        gaps: The runs of missing bars between the first bar and the last.
        first: The first bar's time, or None without bars.
    """

    bars: int
    rows: int
    labelled: int
    warmup: int
    near_gaps: int
    undefined: int
    unlabelled: int
    gaps: tuple[Gap, ...] = ()
    first: pd.Timestamp | None = None

    @property
    def longest_gap(self) -> Gap | None:
        """The gap with the most missing bars (the earliest of equals), or None."""
        return max(self.gaps, key=lambda g: g.bars, default=None)

    def describe(self, horizon: int) -> str:
        """`"3,020 bars, 168 rows lost to the 168-bar warm-up, 20 to a gap of 18 h from ..."`."""
        since = f" from {self.first:%Y-%m-%d %H:%M} UTC" if self.first is not None else ""
        parts = [
            f"{self.bars:,} bars{since}",
            f"{self.warmup:,} rows lost to the {WARMUP_BARS}-bar warm-up",
        ]
        longest = self.longest_gap
        if self.near_gaps and longest is not None:
            where = (
                f"a gap of {longest.describe()}"
                if len(self.gaps) == 1
                else f"{len(self.gaps)} gaps (longest {longest.describe()})"
            )
            parts.append(f"{self.near_gaps:,} to {where}")
        if self.undefined:
            parts.append(f"{self.undefined:,} to undefined features (e.g. flat prices)")
        if self.unlabelled:
            parts.append(f"{self.unlabelled:,} at the end whose {horizon}-bar label is unknown yet")
        return ", ".join(parts)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for metadata."""
        longest = self.longest_gap
        return {
            "bars": self.bars,
            "rows": self.rows,
            "labelled_rows": self.labelled,
            "lost_to_warmup": self.warmup,
            "lost_to_gaps": self.near_gaps,
            "lost_to_undefined_features": self.undefined,
            "unlabelled_rows": self.unlabelled,
            "gaps": len(self.gaps),
            "longest_gap": longest.to_json_dict() if longest else None,
            "first_bar": self.first.isoformat() if self.first is not None else None,
        }


def account_rows(bars: pd.DataFrame, frame: pd.DataFrame, horizon: int) -> RowAccount:
    """Says which of `bars` became rows of `frame` (from `build_features`) and why not.

    Args:
        bars: The validated bars features were built from.
        frame: `build_features(bars, LabelSpec(horizon=horizon))`.
        horizon: The label horizon in bars.

    Returns:
        The counts; a lost bar is put on the warm-up first, then on a gap in its reach.
    """
    labelled = int(frame["label"].notna().sum())
    if bars.empty:
        return RowAccount(0, len(frame), labelled, 0, 0, 0, len(frame) - labelled)
    grid = pd.date_range(bars["timestamp"].iloc[0], bars["timestamp"].iloc[-1], freq=BAR)
    has_bar = grid.isin(bars["timestamp"])
    pos = np.arange(len(grid))
    lost = has_bar & ~grid.isin(frame["timestamp"])
    warm = lost & (pos < WARMUP_BARS)
    # Row t reads the bars from t - WARMUP_BARS to t + horizon: count the missing ones there.
    missing = np.concatenate(([0], np.cumsum(~has_bar)))
    reach = missing[np.minimum(pos + horizon, len(grid) - 1) + 1]
    touched = reach - missing[np.maximum(pos - WARMUP_BARS, 0)] > 0
    return RowAccount(
        bars=int(has_bar.sum()),
        rows=len(frame),
        labelled=labelled,
        warmup=int(warm.sum()),
        near_gaps=int((lost & ~warm & touched).sum()),
        undefined=int((lost & ~warm & ~touched).sum()),
        unlabelled=len(frame) - labelled,
        gaps=find_gaps(bars["timestamp"], BAR),
        first=grid[0],
    )
