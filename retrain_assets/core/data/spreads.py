"""What 1h bars say about trading costs: spread estimators, daily volume and volatility.

The estimators only look at pairs of adjacent bars (exactly one bar apart), so a gap in the
data never reads as a price jump within a bar pair.
"""

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from retrain_assets.core.errors import PermanentError

BAR = pd.Timedelta(hours=1)
BARS_PER_DAY = 24
# A day with fewer bars gives too noisy a daily estimate to keep.
MIN_BARS_PER_DAY = 12


def _logs(bars: pd.DataFrame, *cols: str) -> list[np.ndarray]:
    return [np.log(bars[c].to_numpy(dtype=float)) for c in cols]


def _adjacent(bars: pd.DataFrame) -> np.ndarray:
    """True for each pair (t-1, t) of rows exactly one bar apart; estimators skip the rest."""
    return (bars["timestamp"].diff().iloc[1:] == BAR).to_numpy()


def corwin_schultz_spread(bars: pd.DataFrame) -> float:
    """Corwin & Schultz (2012) high-low spread, as a fraction.

    Two-bar estimates on adjacent bars with the gap adjustment (bar t's high and low shifted
    so that the previous close lies inside its range), averaged signed, then floored at 0.
    Returns NaN with no pair of adjacent bars.
    """
    h, lo, c = (bars[k].to_numpy(dtype=float) for k in ("high", "low", "close"))
    gap = np.maximum(0.0, c[:-1] - h[1:]) + np.minimum(0.0, c[:-1] - lo[1:])
    h1, l1 = h[1:] + gap, lo[1:] + gap
    beta = np.log(h[:-1] / lo[:-1]) ** 2 + np.log(h1 / l1) ** 2
    gamma = np.log(np.maximum(h[:-1], h1) / np.minimum(lo[:-1], l1)) ** 2
    k = 3.0 - 2.0 * np.sqrt(2.0)
    alpha = (np.sqrt(2.0 * beta) - np.sqrt(beta)) / k - np.sqrt(gamma / k)
    s = 2.0 * (np.exp(alpha) - 1.0) / (1.0 + np.exp(alpha))
    s = s[_adjacent(bars)]
    return float(max(s.mean(), 0.0)) if s.size else float("nan")


def abdi_ranaldo_spread(bars: pd.DataFrame) -> float:
    """Abdi & Ranaldo (2017) close-high-low spread, as a fraction.

    `sqrt(max(mean(4 (c_t - eta_t)(c_t - eta_{t+1})), 0))` over adjacent bars, with `eta` the
    mid-range in logs. Returns NaN with no pair of adjacent bars.
    """
    h, lo, c = _logs(bars, "high", "low", "close")
    eta = (h + lo) / 2.0
    s2 = 4.0 * (c[:-1] - eta[:-1]) * (c[:-1] - eta[1:])
    s2 = s2[_adjacent(bars)]
    return float(np.sqrt(max(s2.mean(), 0.0))) if s2.size else float("nan")


def edge_spread(bars: pd.DataFrame) -> float:
    """EDGE estimator of Ardia, Guidotti & Kroencke (2024, JFE 161), as a fraction.

    Combines the two open-based moment conditions of the paper with variance weights and
    corrects for bars without trades (`tau`, the `phi` probabilities). The squared spread is
    floored at 0 like the other estimators. NaN when the moments are undefined.
    """
    o, h, lo, c = _logs(bars, "open", "high", "low", "close")
    m = (h + lo) / 2.0
    keep = _adjacent(bars)
    h0, l0, c0, m0 = (x[:-1][keep] for x in (h, lo, c, m))
    o, h, lo, m = (x[1:][keep] for x in (o, h, lo, m))
    tau = (h != lo) | (lo != c0)
    pt = tau.mean() if tau.size else 0.0
    po = ((o != h) & tau).mean() + ((o != lo) & tau).mean() if tau.size else 0.0
    pc = ((c0 != h0) & tau).mean() + ((c0 != l0) & tau).mean() if tau.size else 0.0
    if min(pt, po, pc) == 0.0:
        return float("nan")
    r1, r2, r3, r4, r5 = m - o, o - m0, m - c0, c0 - m0, o - c0
    d1, d3, d5 = (r - tau * r.mean() / pt for r in (r1, r3, r5))
    x1 = -4.0 / po * d1 * r2 - 4.0 / pc * d3 * r4
    x2 = -4.0 / po * d1 * r5 - 4.0 / pc * d5 * r4
    e1, e2 = x1.mean(), x2.mean()
    v1, v2 = x1.var(), x2.var()
    s2 = (v2 * e1 + v1 * e2) / (v1 + v2) if v1 + v2 > 0 else (e1 + e2) / 2.0
    return float(np.sqrt(max(s2, 0.0)))


ESTIMATORS: dict[str, Callable[[pd.DataFrame], float]] = {
    "corwin_schultz": corwin_schultz_spread,
    "abdi_ranaldo": abdi_ranaldo_spread,
    "edge": edge_spread,
}


def daily_spreads(bars: pd.DataFrame, estimator: str = "edge") -> pd.Series:
    """One spread estimate (fraction) per UTC day with at least `MIN_BARS_PER_DAY` bars."""
    if estimator not in ESTIMATORS:
        raise PermanentError(f"unknown spread estimator {estimator!r}; pick one of {ESTIMATORS}")
    fn = ESTIMATORS[estimator]
    days = bars["timestamp"].dt.floor("D")
    out = {
        day: fn(group.reset_index(drop=True))
        for day, group in bars.groupby(days, sort=True)
        if len(group) >= MIN_BARS_PER_DAY
    }
    return pd.Series(out, dtype=float).dropna()


def average_daily_quote_volume(bars: pd.DataFrame) -> float:
    """Mean quote volume (close x base volume) per bar, times 24: missing bars do not count."""
    if bars.empty:
        return 0.0
    return float((bars["close"] * bars["volume"]).mean() * BARS_PER_DAY)


def median_daily_quote_volume(bars: pd.DataFrame) -> tuple[float, int]:
    """The median over UTC days of each day's quote volume, and how many days it read.

    A day counts when it has at least `MIN_BARS_PER_DAY` bars; its volume is its mean quote
    volume (close x base volume) per bar times 24, so a missing bar does not read as a quiet
    hour. The median, unlike the mean, is not carried by a few frenzied days (ETC/USDT in the
    30 days to 2021-06-01: mean 1.12bn USDT a day, median 713m). `(0.0, 0)` without such a day.
    """
    if bars.empty:
        return 0.0, 0
    quote = bars["close"] * bars["volume"]
    per_day = quote.groupby(bars["timestamp"].dt.floor("D")).agg(["mean", "size"])
    kept = per_day.loc[per_day["size"] >= MIN_BARS_PER_DAY, "mean"] * BARS_PER_DAY
    return (float(kept.median()), len(kept)) if len(kept) else (0.0, 0)


def daily_volatility(bars: pd.DataFrame) -> float:
    """`sqrt(24)` times the std of 1-bar log returns over adjacent bars; NaN under 2 pairs."""
    r = np.diff(np.log(bars["close"].to_numpy(dtype=float)))[_adjacent(bars)]
    return float(np.std(r, ddof=1) * math.sqrt(BARS_PER_DAY)) if r.size >= 2 else float("nan")
