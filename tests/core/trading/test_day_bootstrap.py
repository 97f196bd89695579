import numpy as np
import pytest

from retrain_assets.core.trading.day_bootstrap import day_block_interval


def test_the_interval_is_about_the_ratio_of_sums_to_counts_and_seeded():
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 6, size=12)
    sums = rng.normal(0.001, 0.01, size=12) * counts
    low, high = day_block_interval(sums, counts, seed=1, resamples=500)
    assert low < sums.sum() / counts.sum() < high
    assert day_block_interval(sums, counts, seed=1, resamples=500) == (low, high)
    assert day_block_interval(sums, counts, seed=2, resamples=500) != (low, high)


def test_one_day_has_no_interval():
    assert day_block_interval(np.array([0.01]), np.array([5])) is None


def test_days_that_all_agree_give_a_point_interval():
    low, high = day_block_interval(np.array([0.02, 0.04]), np.array([1, 2]), resamples=50)
    assert low == pytest.approx(0.02) and high == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("sums", "counts"),
    [([0.01, np.nan], [1, 1]), ([0.01, 0.02], [1, 0]), ([0.01, 0.02], [1])],
)
def test_bad_input_raises(sums, counts):
    with pytest.raises(ValueError, match="day_block_interval"):
        day_block_interval(np.array(sums), np.array(counts))
