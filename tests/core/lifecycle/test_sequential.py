"""Always-valid and one-look intervals for a mean."""

import numpy as np
import pytest

from retrain_assets.core.lifecycle.sequential import (
    confidence_sequence,
    fixed_interval,
    half_width_in_sds,
)


def test_the_always_valid_interval_is_about_three_standard_errors_wide_where_a_fixed_one_is_two():
    for n in (10, 30, 90):
        assert 2.9 <= half_width_in_sds(n, 0.05, 30) <= 3.3
    x = np.random.default_rng(0).normal(0.0, 1.0, 30)
    always, once = confidence_sequence(x), fixed_interval(x)
    assert always[0] < once[0] < once[1] < always[1]


def test_a_mean_looked_at_every_day_stays_inside_at_the_stated_rate():
    rng = np.random.default_rng(1)
    ever_out = 0
    for _ in range(400):
        x = rng.normal(0.0, 1.0, 90)
        for n in range(7, 91):
            low, high = confidence_sequence(x[:n])
            if low > 0 or high < 0:
                ever_out += 1
                break
    assert ever_out / 400 <= 0.05


def test_too_few_or_constant_values_give_no_interval():
    assert confidence_sequence([1.0, 2.0]) is None
    assert fixed_interval([0.0, 0.0, 0.0, 0.0]) is None
    assert confidence_sequence([1.0, float("nan"), 2.0, 3.0]) is None


def test_impossible_tuning_is_refused():
    with pytest.raises(ValueError):
        confidence_sequence([1.0, 2.0, 3.0], alpha=0.0)
