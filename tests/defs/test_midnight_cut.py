"""The midnight-cut measurement: day-cut and continuous executions of one signal, compared."""

import numpy as np
import pandas as pd
import pytest

from bench.midnight_cut import (
    HOURS,
    READY_HOUR,
    flat_costs,
    full_day_rows,
    lag1_predictions,
    measure_symbol,
    planted_frame,
    summarize,
)

HORIZON = 4


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """Eight full days of a planted lag-1 market strong enough to trade often."""
    return full_day_rows(planted_frame("AAAUSDT", 0.5, pd.Timestamp("2021-03-01", tz="UTC"), 8, 0))


def _measure(rows: pd.DataFrame, pred: np.ndarray) -> dict:
    sample = measure_symbol(
        "AAAUSDT", rows, pred, flat_costs(15.0), horizon=HORIZON, ready_hour=READY_HOUR
    )
    return summarize(sample) | {"sample": sample}


def test_counts_are_consistent_and_the_midnight_bar_is_never_held(rows: pd.DataFrame) -> None:
    report = _measure(rows, lag1_predictions(rows, 0.5, HORIZON))
    sample = report["sample"]
    assert report["symbol_days"] == 8 and report["bars"] == 8 * HOURS
    assert report["trades"] > 20  # the oracle trades: the figures below are not vacuous
    assert len(sample.cut_trade_net) + len(sample.full_trade_net) == report["trades"]
    assert 0 < report["cut_trades"] < report["trades"]
    assert report["never_tradable_bar_share"] == pytest.approx(1 / HOURS, abs=1e-4)
    # The day-cut ledger never holds 00:00, so it differs there exactly where continuous holds.
    assert sample.differing_by_hour[0] == sample.continuous_held_midnight > 0
    lost = np.sum(sample.continuous_day_net) - np.sum(sample.cut_day_net)
    assert 1e4 * lost / 8 == pytest.approx(report["lost_per_day_bps"], abs=0.01)


def test_a_signal_silent_around_midnight_executes_identically_both_ways(
    rows: pd.DataFrame,
) -> None:
    # No decision from 19:00's close on: nothing is held at 23:00, nothing crosses midnight.
    hours = pd.to_datetime(rows["timestamp"], utc=True).dt.hour.to_numpy()
    pred = lag1_predictions(rows, 0.5, HORIZON)
    silent = np.where(hours >= HOURS - HORIZON - 1, np.nan, pred)
    report = _measure(rows, silent)
    sample = report["sample"]
    assert report["trades"] > 10
    assert report["cut_trades"] == 0 and sample.continuous_held_midnight == 0
    assert sum(sample.differing_by_hour) == 0
    np.testing.assert_allclose(sample.cut_day_net, sample.continuous_day_net, atol=1e-12)


def test_decisions_before_the_schedule_hour_are_flat_in_the_live_variant(
    rows: pd.DataFrame,
) -> None:
    # A signal deciding only before the model of D-1 exists trades in the ledger, not live.
    hours = pd.to_datetime(rows["timestamp"], utc=True).dt.hour.to_numpy()
    pred = np.where(hours < READY_HOUR, 1.0, np.nan)
    sample = _measure(rows, pred)["sample"]
    assert all(net == 0.0 for net in sample.live_day_net)
    assert any(net != 0.0 for net in sample.cut_day_net)


def test_the_ready_hour_is_the_daily_schedules_hour() -> None:
    from retrain_assets.defs.schedules import SCHEDULE_CRON

    minute, hour = SCHEDULE_CRON.split()[:2]
    assert (int(minute), int(hour)) == (0, READY_HOUR)
