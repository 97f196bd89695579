"""Rolling IC of the live model: its predictions against the returns its trades could earn."""

import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.data.data_checks import ERROR, WARN
from retrain_assets.core.model.rolling_ic import ICPolicy, forward_pairs, live_ic
from retrain_assets.core.trading.walk_forward import (
    NO_LIVE_MODEL,
    DayPnl,
    day_rows,
    trade_day,
    untraded_day,
)
from tests.fakes.costs import fee_only_costs

H = 4
FIRST_DAY = pd.Timestamp("2024-03-01", tz="UTC")


def _days(
    predict: Callable[[np.ndarray, np.random.Generator], np.ndarray], days: int = 20, seed: int = 0
) -> list[DayPnl]:
    """`days` traded days of 24 bars; `predict` maps each bar's forward return to a prediction."""
    rng = np.random.default_rng(seed)
    bh = rng.normal(0.0, 0.01, 24 * days)
    sums = np.r_[0.0, np.cumsum(bh)]
    t = np.arange(bh.size)
    forward = np.where(t + H < bh.size, sums[np.minimum(t + H + 1, bh.size)] - sums[t + 1], 0.0)
    pred = predict(forward, rng)
    stamps = pd.date_range(FIRST_DAY, periods=bh.size, freq="h")
    return [
        DayPnl(
            symbol="BTCUSDT",
            day=f"{stamps[24 * d]:%Y-%m-%d}",
            model_as_of=f"{stamps[24 * d] - pd.Timedelta(days=1):%Y-%m-%d}",
            status="traded",
            costs_as_of=stamps[24 * d].isoformat(),
            mean_cost_per_side_bps=5.0,
            timestamps=tuple(s.isoformat() for s in stamps[24 * d : 24 * d + 24]),
            position=(0.0,) * 24,
            prediction=tuple(float(p) for p in pred[24 * d : 24 * d + 24]),
            buy_and_hold_gross=tuple(float(r) for r in bh[24 * d : 24 * d + 24]),
            buy_and_hold_net=tuple(float(r) for r in bh[24 * d : 24 * d + 24]),
        )
        for d in range(days)
    ]


def _perfect(forward: np.ndarray, _: np.random.Generator) -> np.ndarray:
    return forward


def _negated(forward: np.ndarray, _: np.random.Generator) -> np.ndarray:
    return -forward


def _random(forward: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(forward.size)


def test_predictions_equal_to_the_future_return_have_an_ic_of_one_and_pass():
    outcome = live_ic(_days(_perfect), H)
    assert outcome.passed
    assert outcome.metadata["ic"] == pytest.approx(1.0)
    assert outcome.metadata["ic_lo"] == pytest.approx(1.0)
    # 20 days of 24 bars, less the last H bars whose return is not known yet.
    assert (outcome.metadata["pairs"], outcome.metadata["days"]) == (20 * 24 - H, 20)


def test_negated_predictions_are_reliably_wrong_and_fail():
    outcome = live_ic(_days(_negated), H)
    assert (outcome.passed, outcome.severity) == (False, ERROR)
    assert outcome.metadata["ic"] == pytest.approx(-1.0)
    assert outcome.metadata["ic_hi"] < 0
    assert outcome.description.endswith("reliably wrong")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_predictions_have_an_interval_containing_zero_and_never_fail(seed):
    outcome = live_ic(_days(_random, seed=seed), H)
    assert outcome.severity == WARN
    assert outcome.metadata["ic_lo"] < 0 < outcome.metadata["ic_hi"]
    assert outcome.passed == (outcome.metadata["ic"] > 0)


def test_a_weak_but_real_edge_passes_with_an_interval_above_zero():
    def weak(forward: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return forward + rng.normal(0.0, 2 * forward.std(), forward.size)

    outcome = live_ic(_days(weak), H)
    assert outcome.passed
    assert 0 < outcome.metadata["ic_lo"] < outcome.metadata["ic"] < 0.9


def test_too_few_pairs_is_insufficient_evidence_not_a_verdict():
    outcome = live_ic(_days(_negated, days=2), H)
    assert outcome.passed
    assert outcome.description == "insufficient evidence: 44 pairs (need 60)"
    assert outcome.metadata["ic"] is None and outcome.metadata["ic_hi"] is None


def test_constant_predictions_leave_the_ic_undefined_and_warn():
    outcome = live_ic(_days(lambda f, _: np.zeros(f.size)), H)
    assert (outcome.passed, outcome.severity) == (False, WARN)
    assert outcome.metadata["ic"] is None


def test_a_day_without_a_live_model_breaks_the_chain_of_returns():
    days = _days(_perfect)
    days[9] = untraded_day("BTCUSDT", days[9].day, NO_LIVE_MODEL)
    outcome = live_ic(days, H)
    # Day 9's 24 bars are gone, and day 8's last H bars have no next H hours.
    assert outcome.metadata["pairs"] == 19 * 24 - 2 * H
    assert outcome.metadata["days"] == 19


def test_only_the_last_window_days_are_read_in_time_order():
    days = _days(_perfect, days=30)
    outcome = live_ic(list(reversed(days)), H, ICPolicy(window_days=20))
    assert outcome.metadata["days"] == 20
    assert outcome.metadata["pairs"] == 20 * 24 - H


def test_days_recorded_before_predictions_were_kept_are_skipped():
    days = _days(_perfect)
    old = json.loads(json.dumps(days[0].to_json_dict()))
    del old["prediction"]
    days[0] = DayPnl.from_json_dict(old)
    assert days[0].prediction == ()
    assert live_ic(days, H).metadata["days"] == 19


def test_days_of_two_symbols_are_refused():
    days = _days(_perfect, days=2)
    with pytest.raises(ValueError, match="one symbol"):
        live_ic([days[0], replace(days[1], symbol="ETHUSDT")], H)


def test_the_forward_return_of_a_decision_is_what_its_trade_earned():
    # On 2024-03-02 the price steps from 100 to 110 within the 05:00 bar (each open the
    # previous close): a long decided at 03:00's close fills at 04:00's open and holds 4 bars.
    stamps = pd.date_range("2024-03-01", periods=72, freq="h", tz="UTC")
    close = np.where(stamps < pd.Timestamp("2024-03-02 05:00", tz="UTC"), 100.0, 110.0)
    frame = pd.DataFrame(
        {"timestamp": stamps, "close": close, "open": np.r_[100.0, close[:-1]], "sigma": 0.01}
    )
    signal = np.zeros(24)
    signal[3] = 1.0
    day = trade_day(
        "BTCUSDT",
        "2024-03-02",
        "2024-03-01",
        day_rows(frame, "2024-03-02"),
        signal,
        fee_only_costs(5.0),
        costs_as_of="2024-03-02T00:00:00+00:00",
        horizon=H,
    )
    pred, forward = forward_pairs([day], H)
    assert day.prediction == tuple(signal)
    assert forward[3] == pytest.approx(day.trades[0].gross) and day.trades[0].gross > 0.09
    assert pred.size == 24 - H
