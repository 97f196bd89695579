import json
import math

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.costs import CostItem, Costs
from retrain_assets.core.evaluation import (
    Metrics,
    evaluate,
    positions_from_predictions,
    rank_auc,
    spearman_ic,
    strategy_stats,
)

# Six bars worked by hand. Position p[t] is held over bar t+1; the last one is forced flat.
CLOSE = np.array([100.0, 102.0, 100.05, 103.0, 100.0, 99.0])
COST = np.array([0.001, 0.001, 0.001, 0.002, 0.001, 0.001])
POSITIONS = np.array([1.0, 1.0, 0.0, -1.0, -1.0, 1.0])  # effective: [1, 1, 0, -1, -1, 0]


def test_strategy_stats_on_a_hand_computed_example():
    # r[t+1] = [0.02, -0.0191176, 0.0294853, -0.0291262, -0.01, (none) 0]
    # g = p r  = [0.02, -0.0191176, 0, 0.0291262, 0.01, 0]            sum 0.0400086
    # tau      = [1, 0, 1, 1, 0, 1]  (enter, -, exit, enter short, -, exit at the last close)
    # c tau    = [0.001, 0, 0.001, 0.002, 0, 0.001]                     sum 0.005
    # n        = [0.019, -0.0191176, -0.001, 0.0271262, 0.01, -0.001]  sum 0.0350086
    # Trade 1, long bars 0 -> 2: 100.05 / 100 - 1 = +0.0005, less 0.001 + 0.001 = -15 bps.
    # Trade 2, short bars 3 -> 5: -(99 / 103 - 1) = +0.0388350, less 0.002 + 0.001 = +358.35 bps.
    stats = strategy_stats(POSITIONS, CLOSE, COST)
    assert stats.trades == 2
    assert stats.net_bps_after_costs == pytest.approx((-15.0 + 358.349515) / 2)  # 171.67
    assert stats.gross_bps_per_trade == pytest.approx((5.0 + 388.349515) / 2)
    assert stats.hit_rate == 0.5
    assert stats.gross_bps_per_bar == pytest.approx(1e4 * 0.0400086 / 6, abs=1e-3)  # 66.68
    assert stats.net_bps_per_bar == pytest.approx(1e4 * 0.0350086 / 6, abs=1e-3)  # 58.35
    assert stats.turnover == pytest.approx(4 / 6)
    # Break-even per-side cost: sum(g) / sum(tau) = 0.0400086 / 4 = 100.02 bps.
    assert stats.break_even_cost_bps == pytest.approx(100.0214, abs=1e-3)
    # Summed equity: 0.019, -0.000118, -0.001118, ...: peak 0.019 to trough -0.001118.
    assert stats.max_drawdown == pytest.approx(0.019 + 0.0011176, abs=1e-6)
    # mean(n) = 0.00583476, std(n) (population) = 0.01505573, x sqrt(8760) = 36.27.
    assert stats.sharpe == pytest.approx(0.00583476 / 0.01505573 * math.sqrt(8760), rel=1e-5)


def test_a_flip_from_long_to_short_ends_one_trade_and_starts_the_next_at_the_same_close():
    close = np.array([100.0, 110.0, 99.0, 99.0])
    cost = np.full(4, 0.001)
    # Long bar 0 -> 1: +10% - 0.2% ; short bar 1 -> 3: +10% - 0.2%. tau = [1, 2, 0, 1].
    stats = strategy_stats(np.array([1.0, -1.0, -1.0, -1.0]), close, cost)
    assert stats.trades == 2
    assert stats.net_bps_after_costs == pytest.approx(980.0)
    assert stats.turnover == pytest.approx(4 / 4)
    assert stats.net_bps_per_bar == pytest.approx(1e4 * (0.1 + 0.1 - 0.004) / 4)


def test_no_position_means_zero_trades_and_zero_after_cost_return():
    stats = strategy_stats(np.zeros(6), CLOSE, COST)
    assert (stats.trades, stats.net_bps_after_costs, stats.hit_rate) == (0, 0.0, 0.0)
    assert (stats.sharpe, stats.max_drawdown, stats.turnover) == (0.0, 0.0, 0.0)
    assert stats.break_even_cost_bps is None


def test_buy_and_hold_is_one_trade_from_the_first_to_the_last_close():
    # 99 / 100 - 1 = -1%, less 10 bps in and 10 bps out: -120 bps.
    stats = strategy_stats(np.ones(6), CLOSE, COST)
    assert stats.trades == 1
    assert stats.net_bps_after_costs == pytest.approx(-120.0)
    assert stats.turnover == pytest.approx(2 / 6)


@pytest.mark.parametrize(
    ("pred", "allow_short", "expected"),
    [
        (0.0021, True, 1.0),  # beats the 20 bps round trip
        (0.0020, True, 0.0),  # only equals it
        (-0.0021, True, -1.0),
        (-0.0021, False, 0.0),  # long-only desks stay flat instead
        (float("nan"), True, 0.0),  # no prediction, no position
    ],
)
def test_positions_enter_only_when_the_move_beats_the_round_trip_cost(pred, allow_short, expected):
    got = positions_from_predictions(np.array([pred]), np.array([0.001]), allow_short)
    assert got.tolist() == [expected]


def test_rank_auc_and_spearman_ic_on_small_examples():
    # Positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of 4 pairs ordered right.
    assert rank_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])) == 0.75
    assert rank_auc(np.array([1.0, 1.0]), np.array([True, False])) == 0.5  # a tie counts half
    assert rank_auc(np.array([1.0, 2.0]), np.array([True, True])) is None
    assert spearman_ic(np.array([1.0, 2.0, 3.0]), np.array([10.0, 40.0, 90.0])) == pytest.approx(1)
    assert spearman_ic(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1)
    assert spearman_ic(np.array([1.0, 1.0]), np.array([1.0, 2.0])) is None


def flat_costs(fee_bps: float) -> Costs:
    """A cost model with only a taker fee: 0 spread, 0 slippage."""
    return Costs(
        taker_fee_bps=CostItem(fee_bps, "config", "test"),
        maker_fee_bps=CostItem(fee_bps, "config", "test"),
        median_spread_bps=CostItem(0.0, "estimated", "test"),
        slippage_bps_per_sigma=CostItem(0.0, "config", "test"),
        spread_estimator="corwin_schultz",
        raw_spread_bps=0.0,
        window_days=30,
        as_of="2024-01-01T00:00:00+00:00",
    )


def test_evaluate_scores_the_strategy_and_both_baselines_on_the_same_bars():
    frame = pd.DataFrame(
        {
            "close": CLOSE,
            "sigma": np.full(6, 0.01),
            "label": np.log(np.r_[CLOSE[1:], np.nan] / CLOSE),
        }
    )
    # 10 bps per side: predictions beyond +-20 bps give the positions of the worked example.
    pred = np.array([0.01, 0.01, 0.0, -0.01, -0.01, 0.01])
    metrics = evaluate(frame, pred, flat_costs(10.0))
    assert metrics.strategy.trades == 2
    # Same trades, but 10 bps on every side: (5 - 20 + 388.35 - 20) / 2 = 176.67 bps.
    assert metrics.strategy.net_bps_after_costs == pytest.approx(176.674757)
    assert metrics.flat.net_bps_per_bar == 0.0
    assert metrics.buy_and_hold.net_bps_after_costs == pytest.approx(-120.0)
    assert (metrics.test_bars, metrics.labelled_bars) == (6, 5)  # the last label is unknown
    assert metrics.mean_cost_per_side_bps == pytest.approx(10.0)
    # Labels: [+, -, +, -, -]; predictions [0.01, 0.01, 0, -0.01, -0.01].
    assert metrics.auc == pytest.approx(rank_auc(pred[:5], frame["label"].to_numpy()[:5] > 0))
    assert metrics.rmse == pytest.approx(np.sqrt(np.mean((pred[:5] - frame["label"][:5]) ** 2)))


def test_metrics_json_is_flat_with_nested_baselines_and_round_trips():
    frame = pd.DataFrame({"close": CLOSE, "sigma": 0.01, "label": 0.001})
    metrics = evaluate(frame, np.zeros(6), flat_costs(10.0))
    data = json.loads(json.dumps(metrics.to_json_dict(), allow_nan=False))
    for key in (
        "status", "net_bps_after_costs", "trades", "hit_rate", "gross_bps_per_bar",
        "net_bps_per_bar", "sharpe", "max_drawdown", "turnover", "break_even_cost_bps",
        "auc", "ic", "rmse",
    ):  # fmt: skip
        assert key in data
    assert data["status"] == "ok"
    assert set(data["baselines"]) == {"flat", "buy_and_hold"}
    assert data["break_even_cost_bps"] is None  # never traded
    assert data["auc"] is None  # every label positive: a single class
    assert Metrics.from_json_dict({**data, "symbol": "BTC/USDT"}) == metrics
