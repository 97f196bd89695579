"""Costs are point-in-time: a window's costs never change when bars in or after it change."""

import json

import numpy as np
import pandas as pd
import pytest

from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.data.synthetic import SyntheticSource
from retrain_assets.core.lifecycle.pipeline import feature_set
from retrain_assets.core.trading.costs import FeeSchedule, estimate_costs, evaluation_cost_as_of

DATE_END = pd.Timestamp("2025-06-01", tz="UTC")  # the close of partition 2025-05-31
TEST_DAYS, HORIZON = 30, 4


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    """200 days of synthetic BTC bars up to DATE_END, with realistic volume."""
    frame, _ = SyntheticSource().load("BTCUSDT", DATE_END, pd.Timedelta(days=200))
    return frame


def costs_json(bars: pd.DataFrame, as_of: pd.Timestamp) -> str:
    """The costs.json text the asset would write for these bars."""
    costs = estimate_costs(bars, "BTCUSDT", FeeSchedule(), as_of)
    return json.dumps(costs.to_json_dict(), sort_keys=True)


def scramble(bars: pd.DataFrame, rows: pd.Series, seed: int = 1) -> pd.DataFrame:
    """The same bars with wild prices and volumes on `rows`."""
    out = bars.copy()
    rng = np.random.default_rng(seed)
    k = int(rows.sum())
    for col in ("open", "high", "low", "close"):
        out.loc[rows, col] *= rng.uniform(0.5, 1.5, k)
    prices = out.loc[rows, ["open", "high", "low", "close"]]
    out.loc[rows, "high"], out.loc[rows, "low"] = prices.max(axis=1), prices.min(axis=1)
    out.loc[rows, "volume"] *= 1000.0
    return out


def first_test_row(bars: pd.DataFrame) -> pd.Timestamp:
    """The first test row's time, as the `features` asset splits these bars."""
    _, splits = feature_set(bars, "BTCUSDT", HORIZON, TEST_DAYS, 20)
    return splits.test.start_ts


def test_evaluation_costs_are_estimated_at_the_midnight_before_the_test_window(bars):
    # 2025-06-01 - 30 days - 4 unlabelled bars = 2025-05-01 20:00, floored to the day.
    assert first_test_row(bars) == pd.Timestamp("2025-05-01 20:00", tz="UTC")
    assert evaluation_cost_as_of(first_test_row(bars)) == pd.Timestamp("2025-05-01", tz="UTC")


@pytest.mark.parametrize("missing_bars", [1, 12, 30])
def test_missing_bars_move_the_cost_window_back_with_the_test_window(bars, missing_bars):
    # Why the asset reads the split rather than `date - test_days`: a gap in the test window
    # (and the feature rows it blanks) moves the test segment's start earlier.
    holes = bars.index[-24 * 10 : -24 * 10 + missing_bars]
    start = first_test_row(bars.drop(holes).reset_index(drop=True))
    assert start < first_test_row(bars)
    assert (
        evaluation_cost_as_of(start) <= start < evaluation_cost_as_of(start) + pd.Timedelta(days=1)
    )


@pytest.mark.parametrize(
    "where",
    [
        "inside the test window",
        "after the date",
        "from as_of on, bars deleted",
    ],
)
def test_costs_for_a_window_are_bit_identical_when_later_bars_change(bars, where):
    as_of = evaluation_cost_as_of(first_test_row(bars))
    before = costs_json(bars, as_of)
    ts = bars["timestamp"]
    if where == "inside the test window":
        changed = scramble(bars, ts >= as_of)
    elif where == "after the date":
        later, _ = SyntheticSource(seed=99).load(
            "BTCUSDT", DATE_END + pd.Timedelta(days=5), pd.Timedelta(days=5)
        )
        changed = pd.concat([bars, scramble(later, later["close"] > 0)], ignore_index=True)
    else:
        changed = bars.loc[ts < as_of].reset_index(drop=True)
    assert costs_json(changed, as_of) == before


def test_costs_do_change_when_a_bar_before_the_window_end_changes(bars):
    # The control: the test above would pass trivially if nothing moved the estimate.
    as_of = evaluation_cost_as_of(first_test_row(bars))
    ts = bars["timestamp"]
    last_day = (ts >= as_of - pd.Timedelta(days=1)) & (ts < as_of)
    assert costs_json(scramble(bars, last_day), as_of) != costs_json(bars, as_of)


def test_real_btc_costs_at_2021_06_01_ignore_the_test_window(binance_dir):
    source = FileSource(binance_dir)
    bars, _ = source.load("BTCUSDT", pd.Timestamp("2021-06-02", tz="UTC"), pd.Timedelta(days=180))
    start = first_test_row(bars)
    as_of = evaluation_cost_as_of(start)
    changed = scramble(bars, bars["timestamp"] >= start)
    assert first_test_row(changed) == start
    assert costs_json(changed, as_of) == costs_json(bars, as_of)
