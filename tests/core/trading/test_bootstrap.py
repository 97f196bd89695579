import math

import numpy as np
import pytest

from retrain_assets.core.trading.bootstrap import (
    default_mean_block,
    mean_interval,
    stationary_bootstrap_means,
    t_quantile,
)

SIMULATIONS = 200
TRUE_MEAN = 0.5


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """`n` values of a stationary AR(1) with unit innovations around TRUE_MEAN."""
    e = rng.standard_normal(n + 200)
    x = np.empty_like(e)
    x[0] = e[0] / math.sqrt(1.0 - phi**2)
    for i in range(1, e.size):
        x[i] = phi * x[i - 1] + e[i]
    return TRUE_MEAN + x[200:]


def coverage(n: int, phi: float, mean_block: float | None = None) -> float:
    """Share of SIMULATIONS series whose 95% interval holds the true mean."""
    rng = np.random.default_rng(12345)
    hits = 0
    for s in range(SIMULATIONS):
        low, high = mean_interval(ar1(rng, n, phi), mean_block=mean_block, resamples=999, seed=s)
        hits += low <= TRUE_MEAN <= high
    return hits / SIMULATIONS


@pytest.mark.parametrize(
    ("n", "phi"),
    [
        (40, 0.0),  # iid, about the fewest trades a model may be ranked with
        (120, 0.0),
        (120, 0.3),  # neighbouring trades that move together
        (150, 0.5),
    ],
)
def test_intervals_cover_the_true_mean_at_about_the_nominal_rate(n, phi):
    assert 0.88 <= coverage(n, phi) <= 0.99


def test_resampling_single_values_undercovers_dependent_data_so_blocks_matter():
    # The same check with blocks of one value (an iid bootstrap) on strongly dependent data
    # fails it: the coverage test above can tell a bad interval from a good one.
    iid = coverage(150, 0.7, mean_block=1)
    assert iid < 0.85
    assert coverage(150, 0.7) > iid + 0.1


@pytest.mark.parametrize("values", [[], [12.5]])
def test_fewer_than_two_values_have_no_interval_rather_than_a_zero_width_one(values):
    assert mean_interval(np.array(values)) is None


def test_the_interval_is_reproducible_for_a_seed_and_holds_the_sample_mean():
    x = ar1(np.random.default_rng(1), 50, 0.2)
    first = mean_interval(x, seed=7)
    assert mean_interval(x, seed=7) == first
    assert mean_interval(x, seed=8) != first
    assert first[0] < x.mean() < first[1]


def test_constant_values_give_a_point_interval():
    assert mean_interval(np.full(10, 3.0)) == pytest.approx((3.0, 3.0))


def test_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="finite"):
        mean_interval(np.array([1.0, np.nan, 2.0]))


def test_blocks_of_the_stationary_bootstrap_are_consecutive_values():
    # Resampling 0, 1, ..., n-1 with very long blocks: a resample is a wrapped run of
    # consecutive values, so its mean is that of a rotation, the series mean.
    x = np.arange(20.0)
    means = stationary_bootstrap_means(x, 1e9, 50, np.random.default_rng(0))
    assert means == pytest.approx(np.full(50, x.mean()))


@pytest.mark.parametrize(("n", "block"), [(1, 2), (8, 4), (30, 8), (1000, 20)])
def test_the_default_mean_block_is_twice_the_cube_root_rounded_up(n, block):
    assert default_mean_block(n) == block


@pytest.mark.parametrize(
    ("df", "quantile"),
    [(1, 12.7062), (2, 4.3027), (5, 2.5706), (30, 2.0423), (math.inf, 1.95996)],
)
def test_t_quantiles_match_the_tables(df, quantile):
    assert t_quantile(0.95, df) == pytest.approx(quantile, abs=1e-4)
