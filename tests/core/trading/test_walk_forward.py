"""One walk-forward day: yesterday's live model trades today's bars, filled at the next open."""

import json

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.trading.walk_forward import (
    NO_BARS,
    TRADED,
    DayPnl,
    day_rows,
    trade_day,
)
from tests.fakes.costs import fee_only_costs

DAY = "2024-03-02"


def _frame() -> pd.DataFrame:
    """Three days of hourly bars; on DAY the price steps from 100 to 110 within the 05:00 bar."""
    stamps = pd.date_range("2024-03-01", periods=72, freq="h", tz="UTC")
    close = np.where(stamps < pd.Timestamp(f"{DAY} 05:00", tz="UTC"), 100.0, 110.0)
    return pd.DataFrame(
        {"timestamp": stamps, "close": close, "open": np.r_[100.0, close[:-1]], "sigma": 0.01}
    )


def _day(predictions: np.ndarray, horizon: int = 4) -> DayPnl:
    rows = day_rows(_frame(), DAY)
    return trade_day(
        "BTCUSDT",
        DAY,
        "2024-03-01",
        rows,
        predictions,
        fee_only_costs(5.0),
        costs_as_of=f"{DAY}T00:00:00+00:00",
        horizon=horizon,
    )


def test_only_the_traded_days_bars_are_traded():
    rows = day_rows(_frame(), DAY)
    assert len(rows) == 24
    assert rows["timestamp"].iloc[0] == pd.Timestamp(DAY, tz="UTC")


def test_a_signal_at_a_close_fills_at_the_next_open_and_holds_the_horizon():
    signal = np.zeros(24)
    signal[3] = 1.0  # decided at 03:00's close (04:00), filled at 04:00's open
    day = _day(signal)
    (trade,) = day.trades
    assert trade.entry == f"{DAY}T04:00:00+00:00"
    assert trade.exit == f"{DAY}T08:00:00+00:00"
    assert trade.bars == 4
    assert trade.gross == pytest.approx(0.10)  # 100 at 04:00's open, 110 at 08:00's open
    assert trade.net == pytest.approx(0.10 - 2 * 5e-4)
    assert day.status == TRADED


def test_a_signal_on_the_bar_that_moved_misses_the_move():
    signal = np.zeros(24)
    signal[5] = 1.0  # decided at 05:00's close, 110 already: fills at 06:00's open, 110
    (trade,) = _day(signal).trades
    assert trade.gross == pytest.approx(0.0)


def test_the_day_ends_flat_and_a_late_position_pays_its_exit_at_the_last_close():
    signal = np.zeros(24)
    signal[21] = -1.0
    day = _day(signal)
    (trade,) = day.trades
    assert trade.exit == "2024-03-03T00:00:00+00:00"
    assert trade.bars == 2
    assert day.position[0] == 0.0 and day.turnover == pytest.approx(2.0)


def test_buy_and_hold_holds_every_bar_and_pays_no_cost_within_the_day():
    day = _day(np.zeros(24))
    assert day.trades == ()
    assert sum(day.net) == 0.0
    assert sum(day.buy_and_hold_gross) == pytest.approx(0.10)
    assert day.buy_and_hold_net == day.buy_and_hold_gross


def test_the_day_round_trips_through_json_deterministically():
    signal = np.zeros(24)
    signal[3] = 1.0
    day = _day(signal)
    text = json.dumps(day.to_json_dict(), sort_keys=True)
    assert DayPnl.from_json_dict(json.loads(text)) == day
    assert json.dumps(_day(signal).to_json_dict(), sort_keys=True) == text


def test_predictions_that_do_not_match_the_bars_are_refused():
    with pytest.raises(ValueError, match="23 predictions for 24 bars"):
        _day(np.zeros(23))


def test_a_day_without_bars_is_recorded_as_such():
    empty = day_rows(_frame(), "2024-03-09")
    day = trade_day(
        "BTCUSDT",
        "2024-03-09",
        "2024-03-08",
        empty,
        np.zeros(0),
        fee_only_costs(5.0),
        costs_as_of="2024-03-09T00:00:00+00:00",
        horizon=4,
    )
    assert day.status == NO_BARS and day.trades == ()
