"""Intervals for a mean that is looked at every day: always-valid and fixed-sample (pure).

The promotion gate re-reads a growing record every day. A 95% interval checked daily is not a
5% test: at zero edge some look crosses zero far more often than 5% of the time (10-15% in 30
looks for one symbol, measured in `docs/lifecycle.md`). An *always-valid confidence sequence*
bounds the chance that the mean ever leaves the interval, over every look at once, so the gate
may look daily, forever, and keep its error rate.

`confidence_sequence` is the asymptotic confidence sequence of Waudby-Smith, Arnold, Wu,
Ramdas & Waudby-Smith ("Time-uniform central limit theory and asymptotic confidence
sequences", Annals of Statistics 2024), the normal-mixture (Robbins) boundary applied to the
standardised mean:

    mean_t +- sd_t * sqrt( 2 (t r^2 + 1) / (t^2 r^2) * log( sqrt(t r^2 + 1) / alpha ) )

with `r` tuned so the boundary is tightest near `planned_looks` values. It is two-sided at
`alpha`, so each side's chance of ever being crossed is at most `alpha` too. At `alpha` = 5%
its half-width is about 3.0-3.2 standard errors from 10 to 90 values, against 1.96 for a
fixed-sample interval: the price of looking every day.

`fixed_interval` is the plain normal interval of one look, for decisions whose errors only
cost opportunity (the demotion of a losing champion), where a daily look's extra alarms are
the safe side.

The values are days (one per day, each the net of a day's trades): trades within a day share
the day's market, so the day is the unit that is close to independent.
"""

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

# Below this many values the sample deviation means little and no interval is given.
MIN_VALUES = 3


def _mean_sd(values: Sequence[float]) -> tuple[int, float, float] | None:
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n < MIN_VALUES or not np.all(np.isfinite(x)):
        return None
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return None
    return n, float(x.mean()), sd


def mixture_tuning(planned_looks: int, alpha: float) -> float:
    """The mixture's `r^2`, which makes the boundary tightest after `planned_looks` values."""
    if planned_looks < 1 or not 0.0 < alpha < 1.0:
        raise ValueError(f"need planned_looks >= 1 and 0 < alpha < 1, got {planned_looks}, {alpha}")
    log_term = -2.0 * math.log(alpha)
    return (log_term + math.log(log_term + 1.0)) / planned_looks


def half_width_in_sds(n: int, alpha: float, planned_looks: int) -> float:
    """The confidence sequence's half-width after `n` values, in standard errors of the mean."""
    r2 = mixture_tuning(planned_looks, alpha)
    spread = 2.0 * (n * r2 + 1.0) / (n * n * r2) * math.log(math.sqrt(n * r2 + 1.0) / alpha)
    return math.sqrt(spread) * math.sqrt(n)


def confidence_sequence(
    values: Sequence[float], *, alpha: float = 0.05, planned_looks: int = 30
) -> tuple[float, float] | None:
    """The always-valid interval for the mean after these values (in time order).

    Args:
        values: The series so far, one value per look's unit (a day).
        alpha: The chance, over every look at once, that the mean is ever outside.
        planned_looks: Where the boundary is tightest; valid at every other length too.

    Returns:
        (low, high); None with fewer than `MIN_VALUES` values or no variation.
    """
    found = _mean_sd(values)
    if found is None:
        return None
    n, mean, sd = found
    half = half_width_in_sds(n, alpha, planned_looks) * sd / math.sqrt(n)
    return mean - half, mean + half


def t_statistic(values: Sequence[float]) -> float | None:
    """The mean in standard errors from zero; None as `confidence_sequence`."""
    found = _mean_sd(values)
    if found is None:
        return None
    n, mean, sd = found
    return mean / (sd / math.sqrt(n))


def fixed_interval(values: Sequence[float], *, level: float = 0.95) -> tuple[float, float] | None:
    """The two-sided normal interval of one look at the mean; None as `confidence_sequence`."""
    found = _mean_sd(values)
    if found is None:
        return None
    n, mean, sd = found
    half = NormalDist().inv_cdf(0.5 + level / 2.0) * sd / math.sqrt(n)
    return mean - half, mean + half
