"""Data checks of one symbol's bars for a date: fresh, gap-free, traded, sane, enough of them.

Each check returns a `CheckOutcome` a desk can read without the code: passed, or failed with
a severity (`WARN`: worth a look, the day still runs; `ERROR`: the features must not be
published), a one-line description naming the numbers, and the figures as metadata. The
window that matters is the last `recent_hours` before the date's close: the newest feature
rows, the test segment's end and tomorrow's decision read it (see `gaps`). Shares are compared
strictly ("above the limit"), hours inclusively ("at least the limit"), as in `GapPolicy`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retrain_assets.core.data.bars import ONE_HOUR, PRICE_COLUMNS, BarsReport, BrokenPriceBar
from retrain_assets.core.data.check_outcome import (
    ERROR,
    WARN,
    CheckOutcome,
    Metadata,
    failed_errors,
    graded,
)
from retrain_assets.core.data.gaps import Gap, GapPolicy, find_gaps

# Re-exported: the callers of the data checks read their outcome's names from here too.
__all__ = [
    "DATA_CHECK_NAMES",
    "ERROR",
    "WARN",
    "CheckOutcome",
    "DataCheckPolicy",
    "Metadata",
    "bar_checks",
    "data_freshness",
    "describe_broken_prices",
    "failed_errors",
    "gaps_and_duplicates",
    "graded",
    "no_bars",
    "price_sanity",
    "usable_rows",
    "zero_volume_share",
]

DATA_CHECK_NAMES: tuple[str, ...] = (
    "data_freshness",
    "gaps_and_duplicates",
    "usable_rows",
    "zero_volume",
    "price_sanity",
)


@dataclass(frozen=True)
class DataCheckPolicy:
    """The thresholds of the data checks (gap and conflict defaults are `GapPolicy`'s).

    Attributes:
        recent_hours: "Near the date": the hours before the close whose bars feed the newest
            rows (one week, the longest feature window).
        warn_stale_hours: Bars ending at least this long before the close are a warning.
        fail_stale_hours: Bars ending at least this long before the close are an error.
        warn_gap_hours: A gap at least this long near the date is a warning.
        fail_gap_hours: A gap at least this long near the date is an error.
        fail_conflict_share: Conflicting duplicates above this share of the bars are an
            error; any at all, or any dropped duplicate, a warning.
        warn_zero_volume_share: Zero-volume bars above this share of the recent window are
            a warning: the market may have stopped trading or the feed repeats stale bars.
        fail_zero_volume_share: Above this share, an error.
        fail_invalid_share: Rows dropped as invalid above this share of the rows the source
            returned are an error; any at all are a warning. A bar dropped for an impossible
            price (NaN, infinite, not positive) near the date is an error whatever the share.
        warn_jump_log_return: A single 1 h |log return| at least this big near the date is
            a warning: it may be real, but it is worth a look.
    """

    recent_hours: int = GapPolicy.recent_hours
    warn_stale_hours: float = 1.0
    fail_stale_hours: float = 4.0
    warn_gap_hours: float = GapPolicy.warn_gap_hours
    fail_gap_hours: float = GapPolicy.fail_gap_hours
    fail_conflict_share: float = GapPolicy.fail_conflict_share
    warn_zero_volume_share: float = 0.05
    fail_zero_volume_share: float = 0.5
    fail_invalid_share: float = 0.01
    warn_jump_log_return: float = 0.5


def _utc(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d %H:%M} UTC"


def _recent(bars: pd.DataFrame, end: pd.Timestamp, policy: DataCheckPolicy) -> pd.DataFrame:
    """The bars starting within `recent_hours` before `end`."""
    ts = bars["timestamp"]
    return bars.loc[(ts >= end - pd.Timedelta(hours=policy.recent_hours)) & (ts < end)]


def data_freshness(bars: pd.DataFrame, end: pd.Timestamp, policy: DataCheckPolicy) -> CheckOutcome:
    """How long before the date's close the bars stop.

    Args:
        bars: Validated bars of the window.
        end: The date's exclusive end (its 00:00 UTC plus one day).
        policy: The thresholds.

    Returns:
        ERROR when the last bar ends at least `fail_stale_hours` before `end` or there are no
        bars; WARN from `warn_stale_hours`; else passed.
    """
    name = "data_freshness"
    if bars.empty:
        return CheckOutcome(name, False, ERROR, "no bars at all", {"last_bar": None})
    last = pd.Timestamp(bars["timestamp"].max())
    stale = max((end - (last + ONE_HOUR)) / pd.Timedelta(hours=1), 0.0)
    metadata: Metadata = {"last_bar": last.isoformat(), "stale_hours": stale}
    text = f"last bar {_utc(last)}, {stale:g} h before the close"
    errors, warnings = [], []
    if stale >= policy.fail_stale_hours:
        errors.append(f"{text} (limit {policy.fail_stale_hours:g} h)")
    elif stale >= policy.warn_stale_hours:
        warnings.append(f"{text} (warn at {policy.warn_stale_hours:g} h)")
    return graded(name, metadata, errors=errors, warnings=warnings, clean=text)


def _recent_gaps(bars: pd.DataFrame, end: pd.Timestamp, recent_hours: int) -> tuple[Gap, ...]:
    """The gaps that end within `recent_hours` before `end`; no bars is one gap over it all."""
    recent_from = end - pd.Timedelta(hours=recent_hours)
    if bars.empty:
        return (Gap(recent_from, recent_hours),)
    gaps = find_gaps(bars["timestamp"], ONE_HOUR, end)
    return tuple(g for g in gaps if g.start + g.bars * ONE_HOUR > recent_from)


def gaps_and_duplicates(
    bars: pd.DataFrame, report: BarsReport, end: pd.Timestamp, policy: DataCheckPolicy
) -> CheckOutcome:
    """The longest gap near the date (bars ending early included) and the duplicates.

    Args:
        bars: Validated bars of the window.
        report: Their `BarsReport` (rows, conflicting and dropped duplicates).
        end: The date's exclusive end.
        policy: The thresholds.

    Returns:
        ERROR for a recent gap of at least `fail_gap_hours` or conflicting duplicates above
        `fail_conflict_share` of the rows; WARN for a recent gap of at least `warn_gap_hours`
        or any duplicate; else passed.
    """
    recent = _recent_gaps(bars, end, policy.recent_hours)
    longest = max(recent, key=lambda g: g.bars, default=None)
    hours = None if longest is None else longest.bars * ONE_HOUR / pd.Timedelta(hours=1)
    conflicts, dropped = report.conflicting_duplicates, report.dropped_duplicates
    metadata: Metadata = {
        "recent_gaps": len(recent),
        "longest_recent_gap_hours": hours,
        "conflicting_duplicates": conflicts,
        "dropped_duplicates": dropped,
    }
    errors, warnings = [], []
    near = f"within {policy.recent_hours} h of the close"
    if longest is not None and hours is not None and hours >= policy.fail_gap_hours:
        errors.append(f"gap of {longest.describe()} {near} (limit {policy.fail_gap_hours:g} h)")
    elif longest is not None and hours is not None and hours >= policy.warn_gap_hours:
        warnings.append(f"gap of {longest.describe()} {near} (warn at {policy.warn_gap_hours:g} h)")
    if conflicts > policy.fail_conflict_share * max(report.rows, 1):
        errors.append(
            f"{conflicts:,} conflicting duplicate timestamps of {report.rows:,} bars "
            f"(limit {policy.fail_conflict_share:.0%})"
        )
    elif conflicts or dropped:
        warnings.append(f"{dropped:,} duplicate rows dropped, {conflicts:,} of them conflicting")
    clean = f"no gap of {policy.warn_gap_hours:g} h or more {near}, no duplicates"
    return graded("gaps_and_duplicates", metadata, errors=errors, warnings=warnings, clean=clean)


def usable_rows(found: int, needed: int, *, unit: str = "labelled feature rows") -> CheckOutcome:
    """Whether there are enough rows to split, train and test.

    Args:
        found: The rows found, such as the labelled feature rows or an
            `InsufficientHistoryError`'s `found`.
        needed: The rows the split needs (`splits.rows_needed`, or the error's `needed`).
        unit: What the rows are, for the description.

    Returns:
        ERROR when `found < needed`, else passed.
    """
    text = f"{found:,} {unit}, {needed:,} needed"
    return graded(
        "usable_rows",
        {"found": found, "needed": needed},
        errors=[text] if found < needed else [],
        warnings=[],
        clean=text,
    )


def zero_volume_share(
    bars: pd.DataFrame, end: pd.Timestamp, policy: DataCheckPolicy
) -> CheckOutcome:
    """The share of the recent window's bars that traded nothing.

    Args:
        bars: Validated bars of the window.
        end: The date's exclusive end.
        policy: The thresholds.

    Returns:
        ERROR above `fail_zero_volume_share`, WARN above `warn_zero_volume_share`, else
        passed; passed with a share of None when no bar is recent (freshness fails then).
    """
    name = "zero_volume"
    recent = _recent(bars, end, policy)
    if recent.empty:
        text = f"no bars within {policy.recent_hours} h of the close"
        metadata: Metadata = {"zero_volume_bars": 0, "recent_bars": 0, "share": None}
        return CheckOutcome(name, True, WARN, text, metadata)
    zeros = int((recent["volume"] == 0).sum())
    share = zeros / len(recent)
    metadata: Metadata = {"zero_volume_bars": zeros, "recent_bars": len(recent), "share": share}
    text = f"{zeros:,} of {len(recent):,} recent bars ({share:.1%}) with zero volume"
    errors, warnings = [], []
    if share > policy.fail_zero_volume_share:
        errors.append(f"{text} (limit {policy.fail_zero_volume_share:.0%})")
    elif share > policy.warn_zero_volume_share:
        warnings.append(f"{text} (warn above {policy.warn_zero_volume_share:.0%})")
    return graded(name, metadata, errors=errors, warnings=warnings, clean=text)


def _broken_prices(bars: pd.DataFrame) -> dict[str, int]:
    """Counts of bars whose prices cannot be a real bar's, by kind."""
    prices = bars[PRICE_COLUMNS].to_numpy(dtype=float)
    o, h, lo, c = prices.T
    return {
        "non_positive_prices": int((~(prices > 0)).any(axis=1).sum()),
        "high_below_body": int((h < np.maximum(o, c)).sum()),
        "low_above_body": int((lo > np.minimum(o, c)).sum()),
    }


def _largest_move(
    bars: pd.DataFrame, end: pd.Timestamp, policy: DataCheckPolicy
) -> tuple[float | None, pd.Timestamp | None]:
    """The biggest 1 h |log close-to-close return| ending at a recent bar, and that bar."""
    ts = bars["timestamp"].reset_index(drop=True)
    close = bars["close"].to_numpy(dtype=float)
    log_close = np.log(np.where(close > 0, close, np.nan))
    moves = np.abs(np.diff(log_close))
    after = ts.iloc[1:].reset_index(drop=True)
    consecutive = (after - ts.iloc[:-1].reset_index(drop=True) == ONE_HOUR).to_numpy()
    recent_from = end - pd.Timedelta(hours=policy.recent_hours)
    recent = ((after >= recent_from) & (after < end)).to_numpy()
    moves = np.where(consecutive & recent & np.isfinite(moves), moves, np.nan)
    if not np.isfinite(moves).any():
        return None, None
    i = int(np.nanargmax(moves))
    return float(moves[i]), pd.Timestamp(after.iloc[i])


def _span(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """`"from 2025-04-29 03:00 to 08:00 UTC"`, the second date only when it differs."""
    if first == last:
        return f"at {first:%Y-%m-%d %H:%M} UTC"
    until = f"{last:%H:%M}" if last.date() == first.date() else f"{last:%Y-%m-%d %H:%M}"
    return f"from {first:%Y-%m-%d %H:%M} to {until} UTC"


def _recent_broken_prices(
    report: BarsReport, end: pd.Timestamp, policy: DataCheckPolicy
) -> tuple[BrokenPriceBar, ...]:
    """The bars dropped for an impossible price within `recent_hours` before `end`."""
    recent_from = end - pd.Timedelta(hours=policy.recent_hours)
    return tuple(b for b in report.broken_price_bars if recent_from <= b.timestamp < end)


def describe_broken_prices(bars: tuple[BrokenPriceBar, ...]) -> str:
    """`"6 bars with NaN open/close from 2025-04-29 03:00 to 08:00 UTC"` (bars in time order)."""
    faults = " or ".join(dict.fromkeys(b.fault for b in bars))
    noun = "bar" if len(bars) == 1 else "bars"
    return f"{len(bars):,} {noun} with {faults} {_span(bars[0].timestamp, bars[-1].timestamp)}"


def _price_problems(
    broken: dict[str, int],
    invalid_share: float | None,
    report: BarsReport,
    policy: DataCheckPolicy,
    recent_broken: tuple[BrokenPriceBar, ...],
) -> tuple[list[str], list[str]]:
    errors = [f"{n:,} bars with {kind.replace('_', ' ')}" for kind, n in broken.items() if n]
    if recent_broken:
        # Dropped, these bars would pass as a short gap; a feed sending impossible prices
        # near the date is broken, and the newest rows and tomorrow's decision read it.
        near = f"within {policy.recent_hours} h of the close"
        errors.insert(0, f"{describe_broken_prices(recent_broken)}, {near}")
    warnings = []
    if invalid_share is not None and invalid_share > policy.fail_invalid_share:
        errors.append(
            f"{report.dropped_invalid:,} invalid rows dropped ({invalid_share:.1%}, "
            f"limit {policy.fail_invalid_share:.0%})"
        )
    elif report.dropped_invalid:
        warnings.append(f"{report.dropped_invalid:,} invalid rows dropped")
    return errors, warnings


def price_sanity(
    bars: pd.DataFrame, report: BarsReport, end: pd.Timestamp, policy: DataCheckPolicy
) -> CheckOutcome:
    """Prices that cannot be a real bar's, invalid rows dropped, and jumps near the date.

    Validation drops impossible prices (NaN, infinite, not positive) and high below low, but
    not a high below the body or a low above it; this check looks at the bars as given, so it
    catches both, and at the report's dropped bars, so an impossible price near the date
    fails it rather than passing as a short gap.

    Args:
        bars: The bars of the window (validated, or not).
        report: Their `BarsReport`; the invalid share is of the rows the source returned.
        end: The date's exclusive end.
        policy: The thresholds.

    Returns:
        ERROR for any broken price, any bar dropped for an impossible price within
        `recent_hours` of `end` or invalid rows above `fail_invalid_share`; WARN for any
        invalid row dropped or a recent 1 h |log return| of at least `warn_jump_log_return`.
    """
    broken = _broken_prices(bars)
    recent_broken = _recent_broken_prices(report, end, policy)
    source_rows = report.rows + report.dropped_invalid + report.dropped_duplicates
    invalid_share = report.dropped_invalid / source_rows if source_rows else None
    move, at = _largest_move(bars, end, policy)
    metadata: Metadata = {
        **broken,
        "recent_broken_price_bars": len(recent_broken),
        "dropped_invalid": report.dropped_invalid,
        "invalid_share": invalid_share,
        "max_abs_log_return": move,
        "max_move_at": None if at is None else at.isoformat(),
    }
    errors, warnings = _price_problems(broken, invalid_share, report, policy, recent_broken)
    moved = "" if at is None else f"largest 1 h move {move:.3f} (log) in the {_utc(at)} bar"
    if move is not None and move >= policy.warn_jump_log_return:
        warnings.append(f"{moved} (warn at {policy.warn_jump_log_return:g})")
    clean = f"prices consistent, no invalid rows; {moved or 'no recent 1 h move'}"
    return graded("price_sanity", metadata, errors=errors, warnings=warnings, clean=clean)


def bar_checks(
    bars: pd.DataFrame,
    report: BarsReport,
    end: pd.Timestamp,
    policy: DataCheckPolicy | None = None,
) -> tuple[CheckOutcome, ...]:
    """The four checks of the bars, in a fixed order: freshness, gaps, zero volume, prices.

    Args:
        bars: Validated bars of the window.
        report: Their `BarsReport`.
        end: The date's exclusive end (its 00:00 UTC plus one day).
        policy: The thresholds; `DataCheckPolicy()` by default.

    Returns:
        One outcome per check; `usable_rows` is left to the caller, which knows the rows.
    """
    policy = policy or DataCheckPolicy()
    return (
        data_freshness(bars, end, policy),
        gaps_and_duplicates(bars, report, end, policy),
        zero_volume_share(bars, end, policy),
        price_sanity(bars, report, end, policy),
    )


def no_bars(reason: str) -> CheckOutcome:
    """The freshness check when the source has no bars for the window at all (an ERROR)."""
    return CheckOutcome("data_freshness", False, ERROR, f"no bars: {reason}", {})
