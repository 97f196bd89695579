"""Feature drift: the latest week's PSI against limits from the feature's own training weeks."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.drift_real import scaled_week
from resources.training import TrainingResource
from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.data.data_checks import ERROR, WARN
from retrain_assets.core.lifecycle.pipeline import feature_set
from retrain_assets.core.model.drift import (
    DriftPolicy,
    DriftReport,
    FeatureDrift,
    feature_drift,
    measure_drift,
    population_stability,
    psi_by_feature,
    training_weeks,
    typical_week_psi,
)
from retrain_assets.core.model.features import FEATURE_NAMES

FEATURES = ("logret_1", "rvol_168", "dist_sma_168", "volume_z_24")
CALENDAR = ("hour_sin", "hour_cos", "dow_sin", "dow_cos")
WEEK = 24 * 7
WEEKS = 13
TRAIN = (0, 8 * WEEK)  # as `Splits.row_ranges()["train"]` gives it
END = pd.Timestamp("2024-07-01", tz="UTC")


def _frame(seed: int = 0) -> pd.DataFrame:
    """Thirteen weeks of hourly rows of independent normal features, calendar from the clock."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-01-01", periods=WEEKS * WEEK, freq="h", tz="UTC")
    frame = pd.DataFrame({name: rng.standard_normal(WEEKS * WEEK) for name in FEATURES})
    hour = stamps.hour.to_numpy() * 2 * np.pi / 24
    dow = stamps.day_of_week.to_numpy() * 2 * np.pi / 7
    frame = frame.assign(
        hour_sin=np.sin(hour), hour_cos=np.cos(hour), dow_sin=np.sin(dow), dow_cos=np.cos(dow)
    )
    frame.insert(0, "timestamp", stamps)
    return frame


def _as_of_end(frame: pd.DataFrame) -> pd.Timestamp:
    return frame["timestamp"].iloc[-1] + pd.Timedelta(hours=1)


def _shift_weeks(frame: pd.DataFrame, name: str, by: float, weeks: int = 1) -> pd.DataFrame:
    """The frame with `name` moved by `by` over its last `weeks` weeks."""
    frame = frame.copy()
    frame.loc[frame.index[-weeks * WEEK :], name] += by
    return frame


def _check(frame: pd.DataFrame, names=FEATURES, policy: DriftPolicy | None = None):
    return feature_drift(measure_drift(frame, TRAIN, names, _as_of_end(frame), policy))


def _gbm_bars(seed: int, days: int = 180, vol: float = 0.01) -> pd.DataFrame:
    """Hourly bars of a random walk with constant volatility and i.i.d. volume: no drift."""
    rng = np.random.default_rng(seed)
    n = days * 24
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    open_ = np.append(100.0, close[:-1])
    wicks = np.abs(rng.normal(0.0, vol / 2, (2, n)))
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(end=END - pd.Timedelta(hours=1), periods=n, freq="h"),
            "open": open_,
            "high": np.maximum(open_, close) * np.exp(wicks[0]),
            "low": np.minimum(open_, close) * np.exp(-wicks[1]),
            "close": close,
            "volume": rng.lognormal(7.0, 0.5, n),
        }
    )


def _pipeline_check(bars: pd.DataFrame, end: pd.Timestamp = END):
    frame, splits = feature_set(bars, "TESTUSDT", 4, 30, 20)
    report = measure_drift(frame, splits.row_ranges()["train"], FEATURE_NAMES, end)
    return report, feature_drift(report)


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


def test_a_constant_reference_has_one_edge_and_bins_outside_its_range():
    constant = np.full(500, 3.0)
    assert population_stability(constant, constant) == pytest.approx(0.0)
    assert population_stability(constant, np.full(100, 2.0)) > 0.25


def test_a_week_beyond_the_training_range_scores_above_a_week_in_its_top_decile():
    # Both weeks fill one decile bin; only the one the model never saw lands in an empty bin.
    rng = np.random.default_rng(6)
    reference = rng.uniform(0.0, 1.0, 8 * WEEK)
    inside = population_stability(reference, rng.uniform(0.91, 0.99, WEEK))
    beyond = population_stability(reference, rng.uniform(1.01, 1.09, WEEK))
    assert 4.0 < inside < 7.0 < beyond < 12.0


def test_a_week_of_iid_noise_scores_about_ten_times_the_inverse_sample_sizes():
    # Sampling noise alone: PSI is about chi2(k) / n with k between the 9 degrees of freedom
    # of the deciles and the 11 of all 12 bins (the two outside the range stay nearly empty):
    # 0.06 to 0.07 for a week against 8 weeks.
    rng = np.random.default_rng(5)
    scores = [
        population_stability(rng.standard_normal(8 * WEEK), rng.standard_normal(WEEK))
        for _ in range(200)
    ]
    inverse = 1 / WEEK + 1 / (8 * WEEK)
    assert 9 * inverse < np.mean(scores) < 11 * inverse


def test_a_slow_feature_s_typical_week_scores_far_above_noise_with_nothing_wrong():
    # A 168-bar mean of noise: a week of it holds about one independent value.
    rng = np.random.default_rng(7)
    frame = _frame()
    frame["slow"] = pd.Series(rng.standard_normal(len(frame))).rolling(168, min_periods=1).mean()
    reference = frame.iloc[slice(*TRAIN)]
    weeks = training_weeks(reference, 7)
    assert len(weeks) == 8 and all(mask.sum() == WEEK for mask in weeks)
    fast = typical_week_psi(reference["logret_1"].to_numpy(), weeks, 10, 48)
    slow = typical_week_psi(reference["slow"].to_numpy(), weeks, 10, 48)
    assert fast < 0.15 and slow > 1.0


@pytest.mark.parametrize("seed", range(5))
def test_the_typical_week_is_the_median_of_each_week_s_psi_against_the_rest_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    values = np.round(rng.standard_normal(8 * WEEK), 1)  # ties on the quantile edges
    values[rng.integers(0, values.size, 200)] = np.nan
    values[rng.integers(0, values.size, 5)] = np.inf
    values[:150] = np.nan  # the oldest week too short to score
    reference = _frame().iloc[slice(*TRAIN)]
    weeks = training_weeks(reference, 7)
    scores = [population_stability(values[~m], values[m], 10, 48) for m in weeks]
    assert scores[-1] is None  # the masks count back from the last row
    expected = float(np.median([s for s in scores if s is not None]))
    assert typical_week_psi(values, weeks, 10, 48) == expected


def test_an_undrifted_frame_passes_naming_the_feature_nearest_its_limit():
    frame = _frame()
    outcome = _check(frame, FEATURES + CALENDAR)
    assert outcome.passed, outcome.description
    assert outcome.description.startswith("none of the 4 features is above its limits; nearest: ")
    assert outcome.metadata["worst_feature"] in outcome.description
    assert outcome.metadata["above_error_limit"] == "none"
    assert outcome.metadata["rows"] == f"168 latest, {8 * WEEK:,} training in 8 weeks"


def test_a_feature_shifted_several_deviations_in_the_latest_week_fails_named_first():
    frame = _shift_weeks(_frame(), "dist_sma_168", 4.0)
    outcome = _check(frame)
    assert (outcome.passed, outcome.severity) == (False, ERROR)
    worst = outcome.metadata["worst_feature"]
    assert worst.startswith("dist_sma_168 PSI ")
    assert outcome.description.startswith(worst)
    assert "1 of 4 features above the error limit" in outcome.description
    assert outcome.metadata["above_error_limit"] == "dist_sma_168"


def test_drift_that_began_weeks_after_training_is_still_an_error():
    # The limits come from the training weeks only: weeks of drift since then set no limit.
    frame = _shift_weeks(_frame(), "volume_z_24", 4.0, weeks=4)
    outcome = _check(frame)
    assert (outcome.passed, outcome.severity) == (False, ERROR), outcome.description


def test_an_unusual_training_week_leaves_an_ordinary_latest_week_passing():
    # Every other week, the latest one included, misses the unusual week's share of the
    # reference alike: their PSIs rise together, so the ordinary latest week stays typical.
    frame = _frame()
    frame.loc[frame.index[3 * WEEK : 4 * WEEK], "logret_1"] += 4.0
    report = measure_drift(frame, TRAIN, FEATURES, _as_of_end(frame))
    logret = next(f for f in report.features if f.name == "logret_1")
    assert logret.typical_week > 0.25 and logret.psi < logret.warn_limit
    assert feature_drift(report).passed


def test_a_moderate_shift_warns():
    frame = _shift_weeks(_frame(), "rvol_168", 0.6)
    outcome = _check(frame)
    assert (outcome.passed, outcome.severity) == (False, WARN), outcome.description
    assert outcome.metadata["worst_feature"].startswith("rvol_168 PSI ")
    assert outcome.metadata["above_warn_limit"] == "rvol_168"


def _report(*features: tuple[str, float, float, float]) -> DriftReport:
    """A report of (name, PSI, warn limit, error limit), in the order given."""
    found = tuple(FeatureDrift(n, p, None, w, e) for n, p, w, e in features)
    return DriftReport(found, 168, 2_870, 17)


@pytest.mark.parametrize(
    ("features", "severity", "worst"),
    [
        # The case: a huge PSI above its limit with a smaller one listed first.
        (
            [("volume_z_168", 0.41, 0.3, 0.5), ("rvol_168", 8.28, 0.72, 1.2)],
            ERROR,
            "rvol_168 PSI 8.28 (warn 0.72, error 1.20)",
        ),
        # At its error limit is a warning: the rule is "above".
        ([("a", 0.5, 0.3, 0.5), ("b", 0.31, 0.3, 0.5)], WARN, "a PSI 0.50 (warn 0.30, error 0.50)"),
        (
            [("a", 8.28, 18.0, 30.0), ("b", 0.2, 0.3, 0.5)],
            None,
            "b PSI 0.20 (warn 0.30, error 0.50)",
        ),
    ],
)
def test_the_verdict_follows_the_limits_and_the_description_names_the_metadata_s_feature(
    features, severity, worst
):
    outcome = feature_drift(_report(*features))
    assert (outcome.passed, outcome.severity if not outcome.passed else None) == (
        severity is None,
        severity,
    )
    assert outcome.metadata["worst_feature"] == worst
    named = outcome.description.split("nearest: ")[-1]
    assert named.startswith(worst), outcome.description


def test_no_feature_above_its_error_limit_ever_passes():
    rng = np.random.default_rng(8)
    for _ in range(200):
        psi, limit = rng.uniform(0, 10, (2, 5))
        report = _report(
            *((f"f{i}", p, 0.6 * e, e) for i, (p, e) in enumerate(zip(psi, limit, strict=True)))
        )
        outcome = feature_drift(report)
        assert (outcome.severity == ERROR and not outcome.passed) == bool((psi > limit).any())


def test_calendar_features_are_never_compared():
    # A latest week of one repeated hour is no drift of the market: the features are excluded.
    frame = _frame()
    for name in CALENDAR:
        frame = _shift_weeks(frame, name, 5.0)
    psi = psi_by_feature(frame, TRAIN, FEATURES + CALENDAR, _as_of_end(frame))
    assert list(psi) == list(FEATURES)
    assert _check(frame, FEATURES + CALENDAR).passed


def test_too_few_latest_rows_is_insufficient_not_drift():
    frame = _shift_weeks(_frame(), "logret_1", 10.0)
    frame = frame.iloc[:-150]  # the week before the as-of end holds 24 rows
    end = _as_of_end(frame) + pd.Timedelta(days=6)
    outcome = feature_drift(measure_drift(frame, TRAIN, FEATURES, end))
    assert outcome.passed
    assert outcome.description.startswith("insufficient rows: 24 latest")
    assert "worst_feature" not in outcome.metadata


@pytest.mark.parametrize("rows", [TRAIN, slice(*TRAIN), range(*TRAIN)])
def test_the_training_rows_may_be_a_row_range_a_slice_or_a_range(rows):
    frame = _shift_weeks(_frame(), "volume_z_24", 3.0)
    expected = measure_drift(frame, TRAIN, FEATURES, _as_of_end(frame))
    assert measure_drift(frame, rows, FEATURES, _as_of_end(frame)) == expected
    assert expected.psi()["volume_z_24"] > 0.25


def test_the_description_names_at_most_the_policy_s_worst_features():
    frame = _frame()
    for name in FEATURES:
        frame = _shift_weeks(frame, name, 3.0)
    outcome = _check(frame, policy=DriftPolicy(worst=2))
    assert outcome.description.count("PSI ") == 2
    assert "4 of 4 features above the error limit" in outcome.description


@pytest.mark.parametrize("seed", range(5))
def test_a_stationary_market_through_the_feature_pipeline_passes(seed):
    report, outcome = _pipeline_check(_gbm_bars(seed))
    assert outcome.passed, outcome.description
    assert report.weeks >= 17


@pytest.mark.parametrize("factor", [2.0, 3.0])
def test_a_latest_week_of_larger_moves_is_an_error_named_by_a_fast_feature(factor):
    _, outcome = _pipeline_check(scaled_week(_gbm_bars(0), END, factor))
    assert (outcome.passed, outcome.severity) == (False, ERROR), outcome.description
    worst = outcome.metadata["worst_feature"].split()[0]
    assert worst in {"range_1", "rvol_6", "logret_1", "body_1", "upper_wick_1", "lower_wick_1"}


def test_few_real_symbol_days_of_a_calm_month_are_errors(binance_dir: Path):
    # The calm window of bench/drift_real.py: the full bench measures 300 symbol-days.
    source, training = FileSource(binance_dir), TrainingResource()
    verdicts = []
    for day in ("2021-06-20", "2021-07-05"):
        end = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)
        for symbol in ("BTCUSDT", "ETHUSDT", "XRPUSDT", "LINKUSDT", "DOGEUSDT", "ADAUSDT"):
            bars, _ = source.load(symbol, end, pd.Timedelta(days=training.lookback_days))
            frame, splits = training.feature_set(bars, symbol)
            report = measure_drift(frame, splits.row_ranges()["train"], FEATURE_NAMES, end)
            outcome = feature_drift(report)
            verdicts.append("passed" if outcome.passed else outcome.severity)
    assert verdicts.count(ERROR) <= 1, verdicts
