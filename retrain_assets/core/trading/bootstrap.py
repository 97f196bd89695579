"""Block-bootstrap confidence intervals for the mean of a time-ordered series (pure numpy).

A model's per-trade returns are not independent: volatility clusters and an edge drifts, so
neighbouring trades move together and an iid bootstrap would give intervals that are too
narrow. The stationary bootstrap (Politis & Romano 1994, JASA 89(428)) resamples blocks of
consecutive values whose lengths are geometric with mean `mean_block`, wrapping around the
end; it keeps short-range dependence and, unlike fixed blocks, resamples a stationary series.

The interval is the percentile interval of the resampled means, widened about the sample mean
by `t(df) / z` with `df = n / mean_block - 1` (at least 1), the number of blocks less one. A
variance estimated from a few dozen blocks is itself noisy, and the plain percentile interval
covered only about 0.81-0.88 of the time on 30-50 AR(1) or iid values in simulation; widened,
0.90-0.96 (200 to 1,000 values: 0.92-0.95 either way).

Blocks are counted in trades. `evaluation` never lets trades overlap and holds each one for at
least the label horizon, so a single trade already spans at least the holding period in bars.
The default mean block, `2 * ceil(n ** (1/3))` trades, has the rate-optimal order for the
variance of a mean (Hall, Horowitz & Jing 1995, Biometrika 82(3)); the factor 2 is a cautious
constant: for AR(1) with coefficient 0.5 the optimal one (Politis & White 2004) is about 1.2.
"""

import math

import numpy as np

DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
# Resamples are drawn in chunks of about this many values, so memory stays small for long series.
_CHUNK_VALUES = 1_000_000


def default_mean_block(n: int) -> int:
    """The default mean block length, in values (trades), for a series of `n` values."""
    return 2 * max(1, math.ceil(n ** (1.0 / 3.0)))


def stationary_bootstrap_means(
    x: np.ndarray, mean_block: float, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Means of `resamples` stationary-bootstrap resamples of `x`.

    Args:
        x: The series, in time order (at least one value).
        mean_block: Mean block length in values; 1 is the iid bootstrap.
        resamples: How many resamples to draw.
        rng: The random generator (seeded by the caller for reproducibility).

    Returns:
        One mean per resample.
    """
    n = x.size
    t = np.arange(n)
    means = np.empty(resamples)
    rows = max(1, _CHUNK_VALUES // n)
    for first_row in range(0, resamples, rows):
        b = min(rows, resamples - first_row)
        new_block = rng.random((b, n)) < 1.0 / mean_block
        new_block[:, 0] = True
        starts = rng.integers(0, n, size=(b, n))
        # Position at which each value's block began, then the block's start plus the offset.
        began = np.maximum.accumulate(np.where(new_block, t, 0), axis=1)
        index = (np.take_along_axis(starts, began, axis=1) + (t - began)) % n
        means[first_row : first_row + b] = x[index].mean(axis=1)
    return means


def mean_interval(
    x: np.ndarray,
    *,
    level: float = DEFAULT_LEVEL,
    mean_block: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float] | None:
    """Stationary block-bootstrap percentile interval for the mean of `x`.

    Args:
        x: The series in time order, such as one model's net return per trade.
        level: Coverage of the interval, 0.95 for a 95% interval.
        mean_block: Mean block length in values; default `default_mean_block(len(x))`.
        resamples: Bootstrap resamples.
        seed: Seed of the generator: the same series and seed give the same interval.

    Returns:
        (low, high), or None with fewer than two values: one value says nothing of its spread.

    Raises:
        ValueError: A value is not finite, or a parameter is out of range.
    """
    x = np.asarray(x, dtype=float).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("mean_interval needs finite values")
    if not 0.0 < level < 1.0 or resamples < 1:
        raise ValueError(f"level {level} must be in (0, 1) and resamples {resamples} >= 1")
    if x.size < 2:
        return None
    block = default_mean_block(x.size) if mean_block is None else mean_block
    if block < 1:
        raise ValueError(f"mean_block {block} must be at least 1")
    means = stationary_bootstrap_means(x, block, resamples, np.random.default_rng(seed))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    widen = t_quantile(level, max(x.size / block - 1.0, 1.0)) / t_quantile(level, math.inf)
    centre = float(x.mean())
    return centre + (float(low) - centre) * widen, centre + (float(high) - centre) * widen


def t_quantile(level: float, df: float) -> float:
    """The two-sided `level` quantile of Student's t with `df >= 1` degrees of freedom.

    With `t = sqrt(df) tan(theta)` the density becomes `cos(theta) ** (df - 1)` on
    `[0, pi/2)`, bounded and smooth, so a trapezoid rule is accurate (1e-6 relative) without
    scipy. `df = inf` gives the normal quantile.
    """
    if math.isinf(df):
        return math.sqrt(2.0) * _inverse_erf(level)
    theta = np.linspace(0.0, math.pi / 2.0, 20_001)
    density = np.cos(theta) ** (df - 1.0)
    cdf = np.concatenate(([0.0], np.cumsum(density[1:] + density[:-1])))
    return math.sqrt(df) * math.tan(float(np.interp(level, cdf / cdf[-1], theta)))


def _inverse_erf(y: float) -> float:
    """`erf^-1(y)` by Newton's method from a close start; y in (0, 1)."""
    x = math.sqrt(-math.log((1.0 - y) / 2.0))  # the tail's leading order
    for _ in range(50):
        step = (math.erf(x) - y) / (2.0 / math.sqrt(math.pi) * math.exp(-x * x))
        x -= step
        if abs(step) < 1e-15:
            break
    return x
