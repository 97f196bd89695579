import time

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.errors import InsufficientHistoryError, PermanentError
from retrain_assets.core.lifecycle.pipeline import feature_set
from retrain_assets.core.model.feature_rows import account_rows
from retrain_assets.core.model.features import (
    FEATURE_NAMES,
    RET_LAGS,
    WARMUP_BARS,
    LabelSpec,
    build_features,
    min_periods,
)
from retrain_assets.core.model.splits import purged_split


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
    pd.testing.assert_frame_equal(
        base.loc[upto, columns], moved.loc[upto, columns], check_exact=True
    )
    settled = base["timestamp"] <= cutoff - pd.Timedelta(hours=spec.horizon)
    pd.testing.assert_series_equal(
        base.loc[settled, "label"], moved.loc[settled, "label"], check_exact=True
    )
    assert not np.allclose(base.loc[~upto, "logret_1"], moved.loc[~upto, "logret_1"])
    split_args = {"horizon": 4, "test_bars": 100, "validation_bars": 100, "min_train_bars": 500}
    rows = int(base["label"].notna().sum())
    assert purged_split(base["timestamp"], labelled_rows=rows, **split_args) == purged_split(
        moved["timestamp"], labelled_rows=int(moved["label"].notna().sum()), **split_args
    )


def _outages(bars: pd.DataFrame) -> pd.DataFrame:
    return bars.drop(index=[*range(200, 203), 400, *range(640, 700)]).reset_index(drop=True)


@pytest.mark.parametrize("t", [201, 420, 650, 900])
def test_with_outages_bars_after_t_leave_every_value_at_or_before_t_bit_identical(t):
    # Partial windows must stay causal: rescaling or deleting later bars changes nothing at t.
    bars = _outages(random_bars(1500))
    cutoff = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=t)
    after = int((bars["timestamp"] <= cutoff).sum()) - 1
    columns = ["timestamp", *FEATURE_NAMES, "close", "sigma"]
    base = build_features(bars, LabelSpec())
    upto = base["timestamp"] <= cutoff
    # A later outage past t + horizon: no label up to t reads it.
    later_gap = bars.drop(index=range(after + 5, after + 40)).reset_index(drop=True)
    for moved in (
        build_features(perturb_after(bars, after), LabelSpec()),
        build_features(later_gap, LabelSpec()),
    ):
        got = moved.loc[moved["timestamp"] <= cutoff, columns]
        pd.testing.assert_frame_equal(base.loc[upto, columns], got, check_exact=True)


def test_features_on_bars_cut_at_t_equal_features_on_the_full_history():
    # Walk-forward backfills must reproduce what would have been built on day t itself.
    bars = random_bars(1500)
    full = build_features(bars, LabelSpec())
    cut = build_features(bars.iloc[:1200], LabelSpec())
    columns = ["timestamp", *FEATURE_NAMES, "close", "sigma"]
    pd.testing.assert_frame_equal(full.loc[: len(cut) - 1, columns], cut[columns])


def _hours(frame: pd.DataFrame) -> pd.Series:
    return (frame["timestamp"] - pd.Timestamp("2024-01-01", tz="UTC")) // pd.Timedelta(hours=1)


def test_a_missing_bar_costs_only_the_rows_whose_lags_short_windows_or_label_touch_it():
    bars = random_bars(1000).drop(index=[500]).reset_index(drop=True)
    frame = build_features(bars, LabelSpec(horizon=4))
    # Bar 496's label is ln(close[500] / close[496]); rvol_6 needs 5 of its 6 returns, and
    # bar 500 costs returns 500 and 501, so rows 501..505 lose it; each lag k reads bar 500
    # from row 500 + k. The 24- to 168-bar windows still hold 3/4 of their bars: kept.
    lost = {496, *range(501, 506), *(500 + k for k in RET_LAGS)}
    assert lost == {496, 501, 502, 503, 504, 505, 508, 512, 524, 572, 668}
    assert set(range(WARMUP_BARS, 1000)) - set(_hours(frame)) == lost | {500}
    # Known labels form a prefix: only the last rows lack one.
    known = frame["label"].notna().to_numpy()
    assert known[: known.sum()].all()


@pytest.mark.parametrize("outage", [3, 24, 43, 60])
def test_a_window_counts_only_while_three_quarters_of_its_bars_are_present(outage):
    bars = random_bars(1200)
    gapped = bars.drop(index=range(500, 500 + outage)).reset_index(drop=True)
    frame = build_features(gapped, LabelSpec(horizon=4))
    # rvol_168 reads the 168 one-bar returns up to t; an outage of n bars removes n + 1.
    present = bars["close"].where(~bars.index.isin(range(500, 500 + outage)))
    returns = np.log(present).diff().notna().rolling(168).sum()
    kept = _hours(frame).to_numpy()
    assert (returns.iloc[kept] >= min_periods(168)).all()
    starved = np.flatnonzero(returns < min_periods(168))
    assert not np.isin(starved[starved >= WARMUP_BARS], kept).any()
    if outage + 1 <= 168 - min_periods(168):
        assert len(set(range(500 + outage + 168, 1196)) - set(kept)) == 0


def test_row_account_puts_every_bar_on_a_row_the_warm_up_a_gap_or_undefined_features():
    bars = random_bars(1000)
    # Flat prices from bar 700 to 899: rvol_168 = 0 (vol_ratio undefined) from bar 868 on.
    flat = (bars.index >= 700) & (bars.index < 900)
    bars.loc[flat, ["open", "high", "low", "close"]] = 100.0
    bars = bars.drop(index=[500, 501, 502]).reset_index(drop=True)
    frame = build_features(bars, LabelSpec(horizon=4))
    account = account_rows(bars, frame, 4)
    assert (account.bars, account.warmup, account.unlabelled) == (997, WARMUP_BARS, 4)
    assert account.undefined == 900 - 868
    assert account.bars == account.rows + account.warmup + account.near_gaps + account.undefined
    assert account.labelled == account.rows - account.unlabelled
    assert account.longest_gap is not None and account.longest_gap.bars == 3


def test_not_enough_history_says_usable_rows_found_and_what_warm_up_and_gaps_cost():
    bars = random_bars(2000).drop(index=range(900, 918)).reset_index(drop=True)
    with pytest.raises(InsufficientHistoryError) as caught:
        feature_set(bars, "SOLUSDT", horizon=4, test_days=30, validation_days=20)
    message = str(caught.value)
    frame = build_features(bars, LabelSpec(horizon=4))
    usable = int(frame["label"].notna().sum())
    assert caught.value.found == usable
    assert f"SOLUSDT: not enough history: {usable:,} usable feature rows found, 2,648 needed" in (
        message
    )
    assert "1,982 bars from 2024-01-01 00:00 UTC" in message
    assert "168 rows lost to the 168-bar warm-up" in message
    assert "to a gap of 18 h from 2024-02-07 12:00 UTC" in message
    assert "4 at the end whose 4-bar label is unknown yet" in message


def test_no_bars_at_all_is_insufficient_history_not_a_crash():
    with pytest.raises(InsufficientHistoryError, match="0 usable feature rows found"):
        feature_set(random_bars(10).iloc[:0], "SOLUSDT", 4, 30, 20)


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
