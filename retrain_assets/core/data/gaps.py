"""Gaps and conflicting duplicates in a symbol's bars: warnings, and where to stop.

A short outage costs only the feature rows whose windows, lags or label touch it (see
`features.MIN_COVERAGE`), so gaps deep in the window are tolerated and only counted. A gap
near the date is different: the newest rows, the test segment's end and tomorrow's decision
read the last week of bars, so a long hole there (or bars that stop well before the date)
means the model would be built on a market the source did not see. Conflicting duplicates
(one hour, two different bars) mean the source is unsure of its own data.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.data.bars import ONE_HOUR, TIMESTAMP_DTYPE, BarsReport, missing_runs
from retrain_assets.core.errors import DataSourceError


@dataclass(frozen=True)
class GapPolicy:
    """When gaps and duplicates become warnings, and when they fail the symbol.

    Attributes:
        recent_hours: "Near the date": the hours before the window's end whose bars feed the
            newest rows (one week, the longest feature window).
        warn_gap_hours: A gap at least this long near the date is a warning.
        fail_gap_hours: A gap at least this long near the date, bars that end at least this
            long before the date, fail the symbol; one this long anywhere is a warning.
        fail_conflict_share: Conflicting duplicates above this share of the bars fail the
            symbol; any at all are a warning.
    """

    recent_hours: int = 7 * 24
    warn_gap_hours: int = 6
    fail_gap_hours: int = 24
    fail_conflict_share: float = 0.01


@dataclass(frozen=True)
class Gap:
    """`bars` missing bars in a row, the first of them at `start`."""

    start: pd.Timestamp
    bars: int

    def describe(self, timeframe: pd.Timedelta = ONE_HOUR) -> str:
        """`"18 h from 2021-02-11 04:00 UTC"`."""
        hours = self.bars * timeframe / pd.Timedelta(hours=1)
        return f"{hours:g} h from {self.start:%Y-%m-%d %H:%M} UTC"

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: `start` (ISO 8601) and `bars`."""
        return {"start": self.start.isoformat(), "bars": self.bars}


def find_gaps(
    timestamps: pd.Series, timeframe: pd.Timedelta = ONE_HOUR, end: pd.Timestamp | None = None
) -> tuple[Gap, ...]:
    """The runs of missing bars between sorted timestamps, and before `end` if given.

    Args:
        timestamps: Sorted, unique bar timestamps.
        timeframe: The length of one bar.
        end: The window's exclusive end; bars missing between the last bar and it are a gap.

    Returns:
        The gaps in time order.
    """
    stamps = timestamps.astype(TIMESTAMP_DTYPE).reset_index(drop=True)
    runs = missing_runs(stamps, timeframe)
    gaps = [Gap(stamps.iloc[i] + timeframe, int(runs[i])) for i in np.flatnonzero(runs)]
    if end is not None and len(stamps):
        trailing = int((end - stamps.iloc[-1]) // timeframe) - 1
        if trailing > 0:
            gaps.append(Gap(stamps.iloc[-1] + timeframe, trailing))
    return tuple(gaps)


@dataclass(frozen=True)
class BarsQuality:
    """Gaps and duplicates of one symbol's window, and the warnings they raise."""

    symbol: str
    gaps: tuple[Gap, ...]
    recent_gaps: tuple[Gap, ...]
    conflicting_duplicates: int
    warnings: tuple[str, ...]

    @property
    def longest_gap(self) -> Gap | None:
        """The gap with the most missing bars (the earliest of equals), or None."""
        return max(self.gaps, key=lambda g: g.bars, default=None)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for metadata."""
        longest = self.longest_gap
        return {
            "gaps": len(self.gaps),
            "missing_bars": sum(g.bars for g in self.gaps),
            "longest_gap": longest.to_json_dict() if longest else None,
            "recent_gaps": [g.to_json_dict() for g in self.recent_gaps],
            "conflicting_duplicates": self.conflicting_duplicates,
            "warnings": list(self.warnings),
        }


def _hours(gap: Gap, timeframe: pd.Timedelta) -> float:
    return gap.bars * timeframe / pd.Timedelta(hours=1)


def assess_bars(
    bars: pd.DataFrame,
    report: BarsReport,
    end: pd.Timestamp,
    policy: GapPolicy | None = None,
    timeframe: pd.Timedelta = ONE_HOUR,
) -> BarsQuality:
    """Finds gaps and conflicting duplicates; fails the symbol when they pass `policy`.

    Args:
        bars: Validated bars of one symbol's window.
        report: Their `BarsReport` (for the conflicting duplicates).
        end: The window's exclusive end (the close of the date).
        policy: The thresholds; `GapPolicy()` by default.
        timeframe: The length of one bar.

    Returns:
        The gaps, the gaps near the date and the warnings, for metadata and logs.

    Raises:
        DataSourceError: a gap near the date, or bars ending before it, of at least
            `policy.fail_gap_hours`, or too many conflicting duplicates.
    """
    policy = policy or GapPolicy()
    symbol = report.symbol
    gaps = find_gaps(bars["timestamp"], timeframe, end)
    recent_from = end - pd.Timedelta(hours=policy.recent_hours)
    recent = tuple(g for g in gaps if g.start + g.bars * timeframe > recent_from)
    worst = max(recent, key=lambda g: g.bars, default=None)
    if worst is not None and _hours(worst, timeframe) >= policy.fail_gap_hours:
        raise DataSourceError(
            f"{symbol}: no bars for {worst.describe(timeframe)}, within "
            f"{policy.recent_hours} h of the date (limit {policy.fail_gap_hours} h)"
        )
    conflicts = report.conflicting_duplicates
    if conflicts > policy.fail_conflict_share * max(report.rows, 1):
        raise DataSourceError(
            f"{symbol}: {conflicts:,} timestamps have conflicting duplicate bars "
            f"(limit {policy.fail_conflict_share:.0%} of {report.rows:,} bars)"
        )
    warnings = [
        f"{symbol}: gap of {g.describe(timeframe)} near the date"
        for g in recent
        if _hours(g, timeframe) >= policy.warn_gap_hours
    ]
    warnings += [
        f"{symbol}: gap of {g.describe(timeframe)}"
        for g in gaps
        if g not in recent and _hours(g, timeframe) >= policy.fail_gap_hours
    ]
    if conflicts:
        warnings.append(
            f"{symbol}: {conflicts:,} timestamps had conflicting duplicate bars (the last kept)"
        )
    return BarsQuality(symbol, gaps, recent, conflicts, tuple(warnings))
