import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.costs import (
    Costs,
    FeeSchedule,
    abdi_ranaldo_spread,
    corwin_schultz_spread,
    edge_spread,
    estimate_costs,
    per_side_cost,
)
from retrain_assets.core.errors import InsufficientHistoryError

DATA = Path("/work/shared/data/binance-spot-1h")
START = pd.Timestamp("2024-01-01", tz="UTC")


def make_bars(rows: list[tuple[float, float, float, float]], start: pd.Timestamp = START):
    """Hourly bars from (open, high, low, close) rows."""
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    ts = pd.date_range(start, periods=len(rows), freq="h")
    return pd.DataFrame(
        {"timestamp": ts, "open": o, "high": h, "low": lo, "close": c, "volume": 1.0}
    )


def simulate_bars(n: int, spread: float, vol_per_trade: float, seed: int = 0) -> pd.DataFrame:
    """Bars built from 60 trades each at the efficient price times exp(+-spread/2)."""
    rng = np.random.default_rng(seed)
    log_mid = np.cumsum(rng.normal(0.0, vol_per_trade, n * 60))
    side = rng.choice([-1.0, 1.0], n * 60)
    trades = (100.0 * np.exp(log_mid + side * spread / 2.0)).reshape(n, 60)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(START, periods=n, freq="h"),
            "open": trades[:, 0],
            "high": trades.max(axis=1),
            "low": trades.min(axis=1),
            "close": trades[:, -1],
            "volume": 1.0,
        }
    )


def cs_pair(h0: float, l0: float, h1: float, l1: float) -> float:
    """Corwin-Schultz two-bar estimate written out from the paper's formulas."""
    beta = math.log(h0 / l0) ** 2 + math.log(h1 / l1) ** 2
    gamma = math.log(max(h0, h1) / min(l0, l1)) ** 2
    k = 3 - 2 * math.sqrt(2)
    alpha = (math.sqrt(2 * beta) - math.sqrt(beta)) / k - math.sqrt(gamma / k)
    return 2 * (math.exp(alpha) - 1) / (1 + math.exp(alpha))


def test_corwin_schultz_reads_two_identical_bars_as_pure_spread():
    # H=101, L=99 twice: beta = 2 ln(101/99)^2 = 8.0005e-4, gamma = ln(101/99)^2 = 4.0003e-4,
    # alpha = (sqrt(2 beta) - sqrt(beta)) / k - sqrt(gamma / k) = 0.0200007, S = 0.0200000:
    # a range that does not move from one bar to the next is read as all spread.
    bars = make_bars([(100, 101, 99, 100), (100, 101, 99, 100)])
    assert corwin_schultz_spread(bars) == pytest.approx(0.02, rel=1e-9)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Close 101 at the top, next bar 95..97: gap = max(0, 101 - 97) = +4 -> 99..101.
        ((100, 101, 99, 101), (96, 97, 95, 96)),
        # Close 99 at the bottom, next bar 103..105: gap = min(0, 99 - 103) = -4 -> 99..101.
        ((100, 101, 99, 99), (104, 105, 103, 104)),
    ],
)
def test_corwin_schultz_shifts_a_bar_that_gapped_away_from_the_previous_close(first, second):
    # Shifted, the second bar equals the first, so the estimate is the 0.02 of identical bars;
    # unshifted, the pair would read far below zero.
    assert cs_pair(101, 99, second[1], second[2]) < -0.05
    assert corwin_schultz_spread(make_bars([first, second])) == pytest.approx(0.02, rel=1e-9)


def test_corwin_schultz_averages_signed_estimates_before_flooring():
    # Pair 1: identical 100.2/99.8 bars, S = +0.004. Pair 2: 100.2/99.8 then 101.0/100.2 (close
    # 100.2 is inside the new range: no gap), S = -0.0073649. Mean -0.0016825 -> floored to 0,
    # where flooring each pair first would have read 0.002.
    bars = make_bars([(100, 100.2, 99.8, 100.1), (100, 100.2, 99.8, 100.2), (101, 101, 100.2, 101)])
    assert cs_pair(100.2, 99.8, 101.0, 100.2) == pytest.approx(-0.0073649420, rel=1e-6)
    assert corwin_schultz_spread(bars) == 0.0
    two_positive = make_bars([(100, 101, 99, 100)] * 3)
    assert corwin_schultz_spread(two_positive) == pytest.approx(0.02, rel=1e-9)


def test_spread_estimators_skip_pairs_across_a_missing_bar():
    # Bars 0 and 1 are identical (S = 0.02); bar 2 comes two hours after bar 1, so the
    # (1, 2) pair, which would read negative, is left out.
    bars = make_bars([(100, 101, 99, 100), (100, 101, 99, 100), (120, 121, 119, 120)])
    bars.loc[2, "timestamp"] += pd.Timedelta(hours=1)
    assert corwin_schultz_spread(bars) == pytest.approx(0.02, rel=1e-9)


def test_abdi_ranaldo_matches_a_hand_computation():
    bars = make_bars([(100, 101, 99, 100.5), (100, 102, 100, 100.2), (101, 103, 100, 101)])
    # eta = (ln H + ln L) / 2 = [4.6051202, 4.6150715, 4.6199496]
    # s2[0] = 4 (ln 100.5 - eta0)(ln 100.5 - eta1) = -9.9013e-5
    # s2[1] = 4 (ln 100.2 - eta1)(ln 100.2 - eta2) = +4.0406e-4
    # S = sqrt(max(mean(s2), 0)) = sqrt(1.52524e-4) = 0.0123501
    eta = [(math.log(h) + math.log(lo)) / 2 for h, lo in [(101, 99), (102, 100), (103, 100)]]
    s2 = [
        4 * (math.log(c) - eta[t]) * (math.log(c) - eta[t + 1])
        for t, c in enumerate([100.5, 100.2])
    ]
    assert math.sqrt(sum(s2) / 2) == pytest.approx(0.0123500626, rel=1e-6)
    assert abdi_ranaldo_spread(bars) == pytest.approx(math.sqrt(sum(s2) / 2), rel=1e-12)


def test_abdi_ranaldo_floors_a_negative_mean_at_zero():
    # The close sits at the top of bar 0 and the next mid is far above: s2 < 0.
    bars = make_bars([(100, 101, 99, 101), (110, 111, 109, 110)])
    assert abdi_ranaldo_spread(bars) == 0.0


@pytest.mark.parametrize(
    ("estimator", "tolerance"),
    [(edge_spread, 0.1), (abdi_ranaldo_spread, 0.15), (corwin_schultz_spread, 0.2)],
)
def test_estimators_recover_a_simulated_one_percent_spread(estimator, tolerance):
    bars = simulate_bars(24 * 60, spread=0.01, vol_per_trade=0.0005)
    assert estimator(bars) == pytest.approx(0.01, rel=tolerance)


def test_edge_is_nan_when_no_bar_traded():
    bars = make_bars([(100, 100, 100, 100)] * 5)
    assert math.isnan(edge_spread(bars))


def test_estimate_costs_clamps_a_tiny_spread_to_the_floor():
    bars = simulate_bars(24 * 40, spread=0.0, vol_per_trade=0.0005)
    end = bars["timestamp"].iloc[-1].floor("D")
    costs = estimate_costs(bars, "BTC/USDT", FeeSchedule(), end, spread_floor_bps=0.5)
    assert costs.raw_spread_bps < 0.5
    assert costs.median_spread_bps.bps == 0.5
    assert costs.median_spread_bps.source == "estimated"


def test_estimate_costs_clamps_a_huge_spread_to_the_cap():
    bars = simulate_bars(24 * 40, spread=0.02, vol_per_trade=0.0005)
    end = bars["timestamp"].iloc[-1].floor("D")
    costs = estimate_costs(bars, "X/USDT", FeeSchedule(), end, spread_cap_bps=50.0)
    assert costs.raw_spread_bps > 100.0
    assert costs.median_spread_bps.bps == 50.0


def test_estimate_costs_ignores_bars_at_or_after_as_of_end():
    bars = simulate_bars(24 * 40, spread=0.002, vol_per_trade=0.0005)
    end = START + pd.Timedelta(days=35)
    changed = bars.copy()
    after = changed["timestamp"] >= end
    changed.loc[after, ["high"]] *= 1.05
    fees = FeeSchedule()
    assert estimate_costs(changed, "A", fees, end) == estimate_costs(bars, "A", fees, end)


def test_estimate_costs_without_bars_in_the_window_is_insufficient_history():
    bars = simulate_bars(24 * 3, spread=0.002, vol_per_trade=0.0005)
    with pytest.raises(InsufficientHistoryError, match="ETH/USDT"):
        estimate_costs(bars, "ETH/USDT", FeeSchedule(), START - pd.Timedelta(days=1))


def test_costs_round_trip_through_json_with_nested_items():
    bars = simulate_bars(24 * 40, spread=0.002, vol_per_trade=0.0005)
    fees = FeeSchedule(per_symbol={"BNB/USDT": (7.5, 7.5)})
    costs = estimate_costs(bars, "BNB/USDT", fees, START + pd.Timedelta(days=30), window_days=30)
    data = json.loads(json.dumps(costs.to_json_dict()))
    assert data["taker_fee_bps"] == {
        "bps": 7.5,
        "source": "config",
        "detail": "binance fee for BNB/USDT (taker)",
    }
    assert data["slippage_bps_per_sigma"]["bps"] == pytest.approx(500.0)
    assert Costs.from_json_dict(data) == costs


def test_per_side_cost_adds_fee_half_spread_and_kappa_sigma():
    bars = simulate_bars(24 * 40, spread=0.0, vol_per_trade=0.0005)
    costs = estimate_costs(bars, "A", FeeSchedule(), START + pd.Timedelta(days=31))
    # 10 bps fee + 0.5 * 0.5 bps floor spread + 0.05 * sigma: sigma 0.004 adds 2 bps.
    got = per_side_cost(costs, np.array([0.0, 0.004]))
    np.testing.assert_allclose(got, [10.25e-4, 12.25e-4])


@pytest.mark.skipif(not (DATA / "BTC_USDT-1h.json").exists(), reason="no Binance 1h data")
def test_btc_spread_estimate_on_real_bars_is_clamped_into_range(capsys):
    raw = np.array(json.loads((DATA / "BTC_USDT-1h.json").read_text()), dtype=float)
    bars = pd.DataFrame(raw[:, 1:], columns=["open", "high", "low", "close", "volume"])
    bars.insert(0, "timestamp", pd.to_datetime(raw[:, 0].astype("int64"), unit="ms", utc=True))
    end = bars["timestamp"].iloc[-1].floor("D")
    readings = {}
    for estimator in ("corwin_schultz", "abdi_ranaldo", "edge"):
        costs = estimate_costs(bars, "BTC/USDT", FeeSchedule(), end, estimator=estimator)
        assert 0.5 <= costs.median_spread_bps.bps <= 50.0
        readings[estimator] = round(costs.raw_spread_bps, 2)
    with capsys.disabled():
        print(f"\nBTC/USDT raw median daily spread (bps) for 30 days to {end}: {readings}")
