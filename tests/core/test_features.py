import time

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.errors import PermanentError
from retrain_assets.core.features import FEATURE_NAMES, LabelSpec, build_features
from retrain_assets.core.splits import purged_split


def random_bars(n: int, seed: int = 0) -> pd.DataFrame:
    """A geometric random walk with consistent OHLC and lognormal volume."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.005, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    wick = np.exp(np.abs(rng.normal(0.0, 0.002, (2, n))))
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * wick[0],
            "low": np.minimum(open_, close) / wick[1],
            "close": close,
            "volume": rng.lognormal(5.0, 1.0, n),
        }
    )


def perturb_after(bars: pd.DataFrame, t: int, seed: int = 1) -> pd.DataFrame:
    """Rescale every price and volume of the bars after row t by random factors."""
    rng = np.random.default_rng(seed)
    out = bars.copy()
    rows = out.index > t
    factor = rng.uniform(0.5, 1.5, rows.sum())
    for col in ("open", "high", "low", "close"):
        out.loc[rows, col] = out.loc[rows, col] * factor
    out.loc[rows, "volume"] = out.loc[rows, "volume"] * rng.uniform(0.1, 10.0, rows.sum())
    return out


def test_frame_has_the_documented_columns_and_no_missing_features():
    frame = build_features(random_bars(1000), LabelSpec())
    assert list(frame.columns) == ["timestamp", *FEATURE_NAMES, "close", "sigma", "label"]
    assert 25 <= len(FEATURE_NAMES) <= 40
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame[[*FEATURE_NAMES, "sigma"]].notna().all().all()
    # The longest window is 168 bars: the first row with every feature is bar 168.
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(
        hours=168
    )


@pytest.mark.parametrize("horizon", [1, 4, 12])
def test_label_is_the_forward_log_return_and_unknown_at_the_end(horizon):
    bars = random_bars(600)
    frame = build_features(bars, LabelSpec(horizon=horizon))
    close = bars.set_index("timestamp")["close"]
    later = close.reindex(frame["timestamp"] + pd.Timedelta(hours=horizon)).to_numpy()
    expected = np.log(later / frame["close"].to_numpy())
    np.testing.assert_allclose(frame["label"].to_numpy(), expected, equal_nan=True)
    assert frame["label"].tail(horizon).isna().all()
    assert frame["label"].iloc[:-horizon].notna().all()


@pytest.mark.parametrize("t", [300, 555, 998])
def test_changing_bars_after_t_changes_no_feature_or_split_at_or_before_t(t):
    # The leakage test: features, close and sigma of every row up to t, labels whose window
    # ends by t, and the split boundaries must not see any bar after t.
    bars = random_bars(2000)
    spec = LabelSpec(horizon=4)
    base = build_features(bars, spec)
    moved = build_features(perturb_after(bars, t), spec)
    cutoff = bars["timestamp"].iloc[t]
    upto = base["timestamp"] <= cutoff
    columns = ["timestamp", *FEATURE_NAMES, "close", "sigma"]
    pd.testing.assert_frame_equal(base.loc[upto, columns], moved.loc[upto, columns])
    settled = base["timestamp"] <= cutoff - pd.Timedelta(hours=spec.horizon)
    pd.testing.assert_series_equal(base.loc[settled, "label"], moved.loc[settled, "label"])
    assert not np.allclose(base.loc[~upto, "logret_1"], moved.loc[~upto, "logret_1"])
    split_args = {"horizon": 4, "test_bars": 100, "validation_bars": 100, "min_train_bars": 500}
    rows = int(base["label"].notna().sum())
    assert purged_split(base["timestamp"], labelled_rows=rows, **split_args) == purged_split(
        moved["timestamp"], labelled_rows=int(moved["label"].notna().sum()), **split_args
    )


def test_features_on_bars_cut_at_t_equal_features_on_the_full_history():
    # Walk-forward backfills must reproduce what would have been built on day t itself.
    bars = random_bars(1500)
    full = build_features(bars, LabelSpec())
    cut = build_features(bars.iloc[:1200], LabelSpec())
    columns = ["timestamp", *FEATURE_NAMES, "close", "sigma"]
    pd.testing.assert_frame_equal(full.loc[: len(cut) - 1, columns], cut[columns])


def test_a_missing_bar_drops_rows_whose_windows_or_label_touch_it():
    bars = random_bars(1000).drop(index=[500]).reset_index(drop=True)
    frame = build_features(bars, LabelSpec(horizon=4))
    hours = (frame["timestamp"] - pd.Timestamp("2024-01-01", tz="UTC")) // pd.Timedelta(hours=1)
    # Bar 496's label is ln(close[500] / close[496]): unknown, row dropped; 497..499 reach 501+.
    # Bar 500 is missing and the 168-bar windows span it up to bar 668 (logret_168 reads 500).
    dropped = {496, *range(500, 669)}
    assert not hours.isin(dropped).any()
    assert hours.isin([495, 497, 498, 499, 669]).sum() == 5
    # Known labels form a prefix: only the last rows lack one.
    known = frame["label"].notna().to_numpy()
    assert known[: known.sum()].all()


def test_unsorted_timestamps_are_a_permanent_error():
    bars = random_bars(300)
    with pytest.raises(PermanentError, match="sorted"):
        build_features(bars.iloc[::-1].reset_index(drop=True), LabelSpec())


def test_ten_thousand_bars_build_well_under_a_second():
    bars = random_bars(10_000)
    start = time.perf_counter()
    build_features(bars, LabelSpec())
    assert time.perf_counter() - start < 1.0


def test_timestamps_off_the_hourly_grid_are_a_permanent_error():
    bars = random_bars(300)
    bars.loc[150:, "timestamp"] += pd.Timedelta(minutes=30)
    with pytest.raises(PermanentError, match="grid"):
        build_features(bars, LabelSpec())
