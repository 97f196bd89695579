"""Rolling information coefficient of the live model: do its predictions rank what followed?

The walk-forward ledger records, for every traded bar, the live model's prediction at the
bar's close and the bar's buy-and-hold return. A decision at the close of bar t fills at the
open of bar t+1 and holds bars t+1 .. t+h (`fills`), and buy-and-hold's return of bar j
runs from its open to the next fill price (the next open, or the day's last close), so the
return a prediction at t could earn is the sum of buy-and-hold's returns over bars t+1 .. t+h,
summed like every per-bar figure of the ledger. It is defined only where those h bars exist
and follow t hour by hour (days chain across midnight; a missing day or bar breaks the run).

The IC is the Spearman rank correlation of prediction and that return over the pairs of the
last `window_days` days. Its interval is a stationary block bootstrap (`bootstrap`) of the
correlation's influence values: to first order the Pearson correlation of the ranks `z_x, z_y`
(standardised, held fixed) is the mean of `rho + z_x z_y - rho (z_x^2 + z_y^2) / 2`, so
`bootstrap.mean_interval` of those values is the correlation's interval. Blocks matter twice
here: neighbouring pairs share h - 1 bars of their returns, and predictions are autocorrelated.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retrain_assets.core.data.check_outcome import ERROR, WARN, CheckOutcome, Metadata
from retrain_assets.core.trading.bootstrap import default_mean_block, mean_interval
from retrain_assets.core.trading.walk_forward import TRADED, DayPnl

NAME = "live_ic"
_HOUR_NS = pd.Timedelta(hours=1).value


@dataclass(frozen=True)
class ICPolicy:
    """How much of the ledger the IC reads and how its interval is drawn.

    Attributes:
        window_days: The days read: those within this many days up to the latest day given.
        min_pairs: Fewest (prediction, return) pairs for an IC; fewer is insufficient evidence.
        resamples: Bootstrap resamples of the interval.
        seed: The bootstrap's seed, so a rerun gives the same interval.
        mean_block: Mean block length in pairs; None is `bootstrap.default_mean_block`, and
            never shorter than the horizon, the pairs one return overlaps.
    """

    window_days: int = 20
    min_pairs: int = 60
    resamples: int = 1000
    seed: int = 0
    mean_block: float | None = None


def _window(days: Sequence[DayPnl], window_days: int) -> list[DayPnl]:
    """The traded days with predictions within `window_days` up to the latest day, in order."""
    symbols = {d.symbol for d in days}
    if len(symbols) > 1:
        raise ValueError(f"live_ic reads one symbol's days, got {sorted(symbols)}")
    dates = [d.day for d in days]
    if len(set(dates)) != len(dates):
        raise ValueError("live_ic got the same day twice")
    if not days:
        return []
    first = pd.Timestamp(max(dates)) - pd.Timedelta(days=window_days - 1)
    return sorted(
        (d for d in days if d.status == TRADED and d.prediction and pd.Timestamp(d.day) >= first),
        key=lambda d: d.day,
    )


def forward_pairs(days: Sequence[DayPnl], horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Each bar's prediction and the buy-and-hold return of the `horizon` bars after it.

    Args:
        days: One symbol's days, in time order, each with predictions.
        horizon: Bars a decision holds, the label's horizon.

    Returns:
        (predictions, forward returns) of the bars whose next `horizon` bars exist and follow
        each other hour by hour.
    """
    if horizon < 1:
        raise ValueError(f"horizon {horizon} must be at least 1 bar")
    if not days:
        return np.zeros(0), np.zeros(0)
    stamps = pd.to_datetime([t for d in days for t in d.timestamps], utc=True)
    ts = stamps.as_unit("ns").asi8
    pred = np.array([p for d in days for p in d.prediction], dtype=float)
    bh = np.array([r for d in days for r in d.buy_and_hold_gross], dtype=float)
    if not ts.size == pred.size == bh.size:
        raise ValueError("a day's predictions or returns do not match its timestamps")
    n = ts.size - horizon
    if n < 1:
        return np.zeros(0), np.zeros(0)
    steps = np.concatenate(([0], np.cumsum(np.diff(ts) == _HOUR_NS)))
    sums = np.concatenate(([0.0], np.cumsum(bh)))
    t = np.arange(n)
    consecutive = steps[t + horizon] - steps[t] == horizon
    forward = sums[t + horizon + 1] - sums[t + 1]
    keep = consecutive & np.isfinite(pred[:n]) & np.isfinite(forward)
    return pred[:n][keep], forward[keep]


def _standard_ranks(x: np.ndarray) -> np.ndarray | None:
    r = pd.Series(x).rank(method="average").to_numpy()
    sd = r.std()
    return None if sd == 0 else (r - r.mean()) / sd


def spearman_interval(
    x: np.ndarray, y: np.ndarray, policy: ICPolicy, horizon: int
) -> tuple[float, float, float] | None:
    """The Spearman correlation of `x` and `y` in time order, and its 95% interval.

    Args:
        x, y: Paired values in time order.
        policy: The bootstrap's resamples, seed and block.
        horizon: The pairs' overlap, the shortest mean block.

    Returns:
        (ic, low, high), the interval clipped to [-1, 1]; None when either side is constant.
    """
    zx, zy = _standard_ranks(x), _standard_ranks(y)
    if zx is None or zy is None:
        return None
    rho = float(np.mean(zx * zy))
    influence = rho + zx * zy - rho * (zx**2 + zy**2) / 2.0
    block = policy.mean_block or max(default_mean_block(x.size), horizon)
    interval = mean_interval(
        influence, mean_block=block, resamples=policy.resamples, seed=policy.seed
    )
    low, high = interval if interval is not None else (rho, rho)
    return rho, max(low, -1.0), min(high, 1.0)


def live_ic(days: Sequence[DayPnl], horizon: int, policy: ICPolicy | None = None) -> CheckOutcome:
    """The `live_ic` check: the live model's rank correlation with what followed.

    Args:
        days: One symbol's `DayPnl`s in any order; untraded days and days recorded
            without predictions are skipped.
        horizon: Bars each decision holds, the label's horizon.
        policy: Window and bootstrap; `ICPolicy()` by default.

    Returns:
        ERROR when the interval's upper bound is below 0 (the model is reliably wrong), WARN
        when the IC is at most 0 or undefined (constant predictions), else passed; passed
        with `ic` None below `min_pairs` pairs ("insufficient evidence").

    Raises:
        ValueError: days of several symbols, a day twice, or series that do not match.
    """
    policy = policy or ICPolicy()
    window = _window(days, policy.window_days)
    pred, forward = forward_pairs(window, horizon)
    metadata: Metadata = {"ic": None, "ic_lo": None, "ic_hi": None, "pairs": pred.size}
    metadata["days"] = len(window)
    if pred.size < policy.min_pairs:
        text = f"insufficient evidence: {pred.size} pairs (need {policy.min_pairs})"
        return CheckOutcome(NAME, True, WARN, text, metadata)
    result = spearman_interval(pred, forward, policy, horizon)
    if result is None:
        text = f"IC undefined: constant predictions or returns over {pred.size} pairs"
        return CheckOutcome(NAME, False, WARN, text, metadata)
    ic, low, high = result
    metadata |= {"ic": ic, "ic_lo": low, "ic_hi": high}
    text = f"IC {ic:.3f} [{low:.3f}, {high:.3f}] over {pred.size} pairs, {len(window)} days"
    if high < 0:
        return CheckOutcome(NAME, False, ERROR, f"{text}: reliably wrong", metadata)
    if ic <= 0:
        return CheckOutcome(NAME, False, WARN, f"{text}: no edge", metadata)
    return CheckOutcome(NAME, True, WARN, text, metadata)
