"""Feature drift: the PSI of the latest week's features against the training segment's."""

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.data_checks import ERROR, WARN
from retrain_assets.core.drift import (
    DriftPolicy,
    feature_drift,
    population_stability,
    psi_by_feature,
)

FEATURES = ("logret_1", "rvol_168", "dist_sma_168", "volume_z_24")
CALENDAR = ("hour_sin", "hour_cos", "dow_sin", "dow_cos")
WEEK = 24 * 7
WEEKS = 13
TRAIN = (0, 8 * WEEK)  # as `Splits.row_ranges()["train"]` gives it


def _weekly_shuffles(rng: np.random.Generator) -> np.ndarray:
    """Every week the same 168 normal values in a new order: no week differs from another."""
    week = rng.standard_normal(WEEK)
    return np.concatenate([rng.permutation(week) for _ in range(WEEKS)])


def _frame(seed: int = 0) -> pd.DataFrame:
    """Thirteen weeks of hourly rows whose features do not drift, calendar from the clock."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-01-01", periods=WEEKS * WEEK, freq="h", tz="UTC")
    frame = pd.DataFrame({name: _weekly_shuffles(rng) for name in FEATURES})
    hour = stamps.hour.to_numpy() * 2 * np.pi / 24
    dow = stamps.day_of_week.to_numpy() * 2 * np.pi / 7
    frame = frame.assign(
        hour_sin=np.sin(hour), hour_cos=np.cos(hour), dow_sin=np.sin(dow), dow_cos=np.cos(dow)
    )
    frame.insert(0, "timestamp", stamps)
    return frame


def _as_of_end(frame: pd.DataFrame) -> pd.Timestamp:
    return frame["timestamp"].iloc[-1] + pd.Timedelta(hours=1)


def _shift_latest_week(frame: pd.DataFrame, name: str, by: float) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[frame.index[-WEEK:], name] += by
    return frame


def test_the_psi_of_a_sample_against_itself_is_zero():
    x = np.random.default_rng(1).standard_normal(2_000)
    assert population_stability(x, x) == pytest.approx(0.0, abs=1e-12)


def test_the_psi_of_two_large_samples_of_one_distribution_is_near_zero():
    rng = np.random.default_rng(2)
    assert population_stability(rng.standard_normal(20_000), rng.standard_normal(20_000)) < 0.01


def test_a_shift_of_one_standard_deviation_is_a_major_psi():
    rng = np.random.default_rng(3)
    assert population_stability(rng.standard_normal(5_000), rng.standard_normal(500) + 1) > 0.25


def test_nans_are_dropped_and_too_few_finite_values_give_no_psi():
    rng = np.random.default_rng(4)
    reference = rng.standard_normal(1_000)
    latest = np.r_[rng.standard_normal(47), np.full(100, np.nan)]
    assert population_stability(reference, latest, min_rows=48) is None
    assert population_stability(reference, np.r_[latest, 0.0], min_rows=48) is not None


def test_a_constant_reference_has_one_edge_and_open_outer_bins():
    constant = np.full(500, 3.0)
    assert population_stability(constant, constant) == pytest.approx(0.0)
    assert population_stability(constant, np.full(100, 2.0)) > 0.25


def test_an_undrifted_frame_passes():
    frame = _frame()
    outcome = feature_drift(frame, TRAIN, FEATURES + CALENDAR, _as_of_end(frame))
    assert outcome.passed, outcome.description
    assert outcome.metadata["max_psi"] == pytest.approx(0.0, abs=1e-12)
    assert outcome.metadata["latest_rows"] == WEEK
    assert outcome.metadata["reference_rows"] == 8 * WEEK


def test_a_week_of_iid_noise_scores_about_nine_times_the_inverse_sample_sizes():
    # Sampling noise alone: PSI is about chi2(bins - 1) / n_eff, here 9 * (1/168 + 1/1344)
    # = 0.06 on average, so with many features some week of pure noise crosses warn_psi.
    rng = np.random.default_rng(5)
    scores = [
        population_stability(rng.standard_normal(8 * WEEK), rng.standard_normal(WEEK))
        for _ in range(200)
    ]
    assert np.mean(scores) == pytest.approx(9 * (1 / WEEK + 1 / (8 * WEEK)), rel=0.2)


def test_a_feature_shifted_several_deviations_in_the_latest_week_fails_named_first():
    frame = _shift_latest_week(_frame(), "dist_sma_168", 4.0)
    outcome = feature_drift(frame, TRAIN, FEATURES, _as_of_end(frame))
    assert (outcome.passed, outcome.severity) == (False, ERROR)
    assert outcome.description.startswith("dist_sma_168 PSI ")
    assert outcome.description.endswith(
        "(fail: ≥ 0.25 and > 2x its largest weekly value since training began)"
    )
    assert outcome.metadata["worst_feature"] == "dist_sma_168"
    assert outcome.metadata["features_fail"] == 1


def test_a_shift_the_feature_already_made_in_an_earlier_week_is_not_an_error():
    """Crypto regimes recur: a week as far from training as one seen before is not new drift."""
    frame = _shift_latest_week(_frame(), "dist_sma_168", 4.0)
    earlier = frame.index[10 * WEEK : 11 * WEEK]  # a week after training, before the latest
    frame.loc[earlier, "dist_sma_168"] += 4.0
    outcome = feature_drift(frame, TRAIN, FEATURES, _as_of_end(frame))
    assert outcome.metadata["max_psi"] >= 0.25
    assert outcome.severity != ERROR or outcome.passed, outcome.description
    assert outcome.metadata["worst_feature_history_psi"] >= 0.25


def test_a_moderate_shift_warns():
    frame = _shift_latest_week(_frame(), "rvol_168", 0.3)
    outcome = feature_drift(frame, TRAIN, FEATURES, _as_of_end(frame))
    assert (outcome.passed, outcome.severity) == (False, WARN), outcome.description
    assert outcome.metadata["worst_feature"] == "rvol_168"
    assert 0.1 <= outcome.metadata["max_psi"] < 0.25


def test_calendar_features_are_never_compared():
    # A latest week of one repeated hour is no drift of the market: the features are excluded.
    frame = _frame()
    for name in CALENDAR:
        frame = _shift_latest_week(frame, name, 5.0)
    psi = psi_by_feature(frame, TRAIN, FEATURES + CALENDAR, _as_of_end(frame))
    assert list(psi) == list(FEATURES)
    assert feature_drift(frame, TRAIN, FEATURES + CALENDAR, _as_of_end(frame)).passed


def test_too_few_latest_rows_is_insufficient_not_drift():
    frame = _shift_latest_week(_frame(), "logret_1", 10.0)
    frame = frame.iloc[:-150]  # the week before the as-of end holds 24 rows
    outcome = feature_drift(frame, TRAIN, FEATURES, _as_of_end(frame) + pd.Timedelta(days=6))
    assert outcome.passed
    assert outcome.description.startswith("insufficient rows: 24 latest")
    assert outcome.metadata["max_psi"] is None and outcome.metadata["worst_feature"] is None


@pytest.mark.parametrize("rows", [TRAIN, slice(*TRAIN), range(*TRAIN)])
def test_the_training_rows_may_be_a_row_range_a_slice_or_a_range(rows):
    frame = _shift_latest_week(_frame(), "volume_z_24", 3.0)
    expected = psi_by_feature(frame, TRAIN, FEATURES, _as_of_end(frame))
    assert psi_by_feature(frame, rows, FEATURES, _as_of_end(frame)) == expected
    assert expected["volume_z_24"] > 0.25


def test_the_description_names_at_most_the_policy_s_worst_features():
    frame = _frame()
    for name in FEATURES:
        frame = _shift_latest_week(frame, name, 3.0)
    outcome = feature_drift(frame, TRAIN, FEATURES, _as_of_end(frame), DriftPolicy(worst=2))
    assert outcome.description.count("PSI") == 1 and outcome.description.count(",") == 1
    assert outcome.metadata["features_fail"] == 4
