import json
import math

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.trading.evaluation import (
    INSUFFICIENT_EVIDENCE,
    OK,
    Metrics,
    evaluate,
    rank_auc,
    spearman_ic,
    strategy_stats,
)
from retrain_assets.core.trading.fills import (
    bar_opens,
    execution_prices,
    held_positions,
    positions_from_predictions,
)
from tests.fakes.costs import fee_only_costs

# Six bars worked by hand. These examples used to fill every entry and exit at close[t], the
# price the decision saw, and re-decide every bar; the evaluation now fills at the next open
# and holds for the label horizon, so the expectations were recomputed for that. Every open
# differs from the previous close, so the two conventions cannot give the same numbers.
OPEN = np.array([100.0, 102.0, 103.0, 101.0, 100.0, 97.0])
CLOSE = np.array([101.0, 103.0, 102.0, 100.0, 98.0, 99.0])
COST = np.array([0.001, 0.001, 0.002, 0.001, 0.001, 0.0005])
# With a horizon of 2: long decided at close 0 holds bars 1-2, the -1 at bar 1 is inside that
# hold and ignored, flat at close 2 exits, short decided at close 3 holds bars 4-5.
SIGNAL = np.array([1.0, -1.0, 0.0, -1.0, 0.0, 0.0])
HELD = np.array([0.0, 1.0, 1.0, 0.0, -1.0, -1.0])


@pytest.mark.parametrize(
    ("signal", "horizon", "held"),
    [
        (SIGNAL.tolist(), 2, HELD.tolist()),
        # Horizon 1 re-decides every close; the last bar's signal has no next open to fill at.
        ([1, 1, 0, -1, -1, 1], 1, [0, 1, 1, 0, -1, -1]),
        # The opposite signal at the end of a hold flips at the next open.
        ([1, 0, 0, 0, -1, 0, 0, 0, 0, 0], 4, [0, 1, 1, 1, 1, -1, -1, -1, -1, 0]),
        # Signals inside a hold are ignored: no overlapping holds.
        ([1, -1, -1, -1, 0, 0], 4, [0, 1, 1, 1, 1, 0]),
        # The same side at the end of a hold renews it: one trade, no costs in between.
        ([1, 0, 0, 0, 1, 0, 0, 0, 0], 4, [0, 1, 1, 1, 1, 1, 1, 1, 1]),
        ([0, 0, 1], 4, [0, 0, 0]),
    ],
)
def test_a_decision_is_filled_at_the_next_open_and_held_for_the_horizon(signal, horizon, held):
    assert held_positions(np.array(signal, dtype=float), horizon).tolist() == held


def test_strategy_stats_on_a_hand_computed_example():
    # P = opens, then the last close: [100, 102, 103, 101, 100, 97, 99].
    # Long: in at P[1] = 102 (cost c[0]), out at P[3] = 101 (cost c[2]):
    #   101 / 102 - 1 = -0.00980392, less 0.001 + 0.002: -128.0392 bps.
    # Short: in at P[4] = 100 (c[3]), closed at the last close P[6] = 99 (c[5]):
    #   +0.01, less 0.001 + 0.0005: +85 bps.
    stats = strategy_stats(HELD, execution_prices(OPEN, CLOSE), COST)
    assert stats.trades == 2
    assert stats.net_bps_after_costs == pytest.approx((-128.039216 + 85.0) / 2)  # -21.52
    assert stats.gross_bps_per_trade == pytest.approx((-98.039216 + 100.0) / 2)
    assert stats.hit_rate == 0.5
    assert (stats.long.n_trades, stats.short.n_trades) == (1, 1)
    assert stats.long.net_bps == pytest.approx(-128.039216)
    assert stats.short.net_bps == pytest.approx(85.0)
    assert stats.long.interval is None and stats.short.interval is None  # one trade each
    low, high = stats.net_bps_interval
    assert low < stats.net_bps_after_costs < high
    # r = P[j+1] / P[j] - 1 = [.02, .00980392, -.01941748, -.00990099, -.03, .02061856]
    # g = q r = [0, .00980392, -.01941748, 0, .03, -.02061856]           sum -0.00023212
    # costs: c[0] at bar 1, c[2] at bar 3, c[3] at bar 4, c[5] closing   sum  0.0045
    assert stats.gross_bps_per_bar == pytest.approx(1e4 * -0.00023212 / 6, abs=1e-3)
    assert stats.net_bps_per_bar == pytest.approx(1e4 * -0.00473212 / 6, abs=1e-3)
    assert stats.turnover == pytest.approx(4 / 6)
    assert stats.break_even_cost_bps == pytest.approx(1e4 * -0.00023212 / 4, abs=1e-3)
    # Summed net equity: 0, .0088039, -.0106136, -.0126136, .0163864, -.0047321.
    assert stats.max_drawdown == pytest.approx(0.0088039 + 0.0126136, abs=1e-6)
    net = np.array([0.0, 0.00880392, -0.01941748, -0.002, 0.029, -0.02111856])
    assert stats.sharpe == pytest.approx(net.mean() / net.std() * math.sqrt(8760), rel=1e-5)


def test_an_entry_never_fills_at_the_close_that_decided_it():
    # The price jumps 10% between the deciding close and the next open: a fill at close[0]
    # would book that jump as profit; filled at the open there is nothing to book.
    open_ = np.array([100.0, 110.0, 110.0, 110.0])
    close = np.array([100.0, 110.0, 110.0, 110.0])
    held = held_positions(np.array([1.0, 0.0, 0.0, 0.0]), horizon=1)
    stats = strategy_stats(held, execution_prices(open_, close), np.zeros(4))
    assert stats.trades == 1
    assert stats.gross_bps_per_trade == pytest.approx(0.0)


def test_a_flip_at_the_end_of_a_hold_exits_and_enters_at_the_same_open():
    open_ = np.array([100.0, 100.0, 110.0, 99.0, 99.0])
    close = np.array([100.0, 110.0, 99.0, 99.0, 99.0])
    held = held_positions(np.array([1.0, -1.0, 0.0, 0.0, 0.0]), horizon=1)
    assert held.tolist() == [0, 1, -1, 0, 0]
    # Long P[1] = 100 -> P[2] = 110: +10% - 0.2%; short P[2] = 110 -> P[3] = 99: +10% - 0.2%.
    stats = strategy_stats(held, execution_prices(open_, close), np.full(5, 0.001))
    assert stats.trades == 2
    assert stats.net_bps_after_costs == pytest.approx(980.0)
    assert stats.turnover == pytest.approx(4 / 5)  # in, flip (2), out


def test_no_position_has_no_per_trade_figures_rather_than_a_break_even_zero():
    stats = strategy_stats(np.zeros(6), execution_prices(OPEN, CLOSE), COST)
    assert stats.trades == 0
    assert (stats.net_bps_after_costs, stats.gross_bps_per_trade, stats.hit_rate) == (None,) * 3
    assert stats.net_bps_interval is None and stats.long.net_bps is None
    assert (stats.sharpe, stats.break_even_cost_bps) == (None, None)
    assert (stats.net_bps_per_bar, stats.max_drawdown, stats.turnover) == (0.0, 0.0, 0.0)


def test_long_and_short_trades_are_reported_apart():
    held = np.array([0.0, 1.0, 0.0, 1.0, 0.0, -1.0])
    stats = strategy_stats(held, execution_prices(OPEN, CLOSE), np.zeros(6))
    # Long 102 -> 103 and 101 -> 100; short 97 -> 99.
    assert (stats.long.n_trades, stats.short.n_trades, stats.trades) == (2, 1, 3)
    assert stats.long.net_bps == pytest.approx(1e4 * (103 / 102 - 1 + 100 / 101 - 1) / 2)
    assert stats.short.net_bps == pytest.approx(-1e4 * (99 / 97 - 1))
    assert stats.long.interval is not None and stats.short.interval is None


def test_market_neutral_trades_are_net_of_the_symbols_drift():
    # Up 1% every bar: holding long earns the drift, which the market-neutral view removes.
    prices = 100.0 * 1.01 ** np.arange(9)
    held = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    stats = strategy_stats(held, prices, np.full(8, 0.0005))
    # Each trade: 1.01^2 - 1 = 0.0201 gross, less 10 bps; less 2 bars x 1% drift: 1 - 10 bps.
    assert stats.net_bps_after_costs == pytest.approx(191.0)
    assert stats.market_neutral.net_bps == pytest.approx(-9.0)
    assert stats.market_neutral.n_trades == 2


def test_intervals_are_reproducible_for_a_seed():
    rng = np.random.default_rng(7)
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 201)))
    held = np.append(0.0, np.where(rng.random(199) < 0.5, 1.0, -1.0))
    cost = np.full(200, 0.001)
    first = strategy_stats(held, prices, cost, seed=3)
    assert strategy_stats(held, prices, cost, seed=3) == first
    assert strategy_stats(held, prices, cost, seed=4).net_bps_interval != first.net_bps_interval


def test_buy_and_hold_enters_at_the_first_fill_and_holds_to_the_last_close():
    # In at open[1] = 102, out at the last close 99: -2.941%, less 10 + 5 bps.
    held = np.array([0.0, 1, 1, 1, 1, 1])
    stats = strategy_stats(held, execution_prices(OPEN, CLOSE), COST)
    assert stats.trades == 1
    assert stats.net_bps_after_costs == pytest.approx(1e4 * (99 / 102 - 1) - 15.0)
    assert stats.net_bps_interval is None  # one trade: no spread to estimate
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


flat_costs = fee_only_costs


def frame_of(open_: np.ndarray, close: np.ndarray) -> pd.DataFrame:
    """A test frame as the features asset writes it: `body_1`, no `open` column."""
    return pd.DataFrame(
        {
            "close": close,
            "body_1": np.log(close / open_),
            "sigma": np.full(close.size, 0.01),
            "label": np.log(np.r_[close[2:], np.nan, np.nan] / close),
        }
    )


def test_the_open_is_recovered_from_body_1_when_the_frame_has_none():
    assert bar_opens(frame_of(OPEN, CLOSE)) == pytest.approx(OPEN, rel=1e-14)
    assert bar_opens(pd.DataFrame({"open": OPEN, "close": CLOSE})).tolist() == OPEN.tolist()


def test_evaluate_scores_the_strategy_and_both_baselines_on_the_same_bars():
    frame = frame_of(OPEN, CLOSE)
    # 10 bps per side: predictions beyond +-20 bps give the signal of the worked example.
    pred = np.array([0.01, -0.01, 0.0, -0.01, 0.0, 0.0])
    metrics = evaluate(frame, pred, flat_costs(10.0), horizon=2)
    assert metrics.strategy.trades == 2
    # Same trades, 10 bps on every side: (-98.04 - 20 + 100 - 20) / 2 = -19.02 bps.
    assert metrics.strategy.net_bps_after_costs == pytest.approx((-98.039216 + 100.0) / 2 - 20)
    assert metrics.flat.net_bps_per_bar == 0.0 and metrics.flat.net_bps_after_costs is None
    assert metrics.buy_and_hold.net_bps_after_costs == pytest.approx(1e4 * (99 / 102 - 1) - 20)
    assert (metrics.test_bars, metrics.labelled_bars) == (6, 4)  # the last labels are unknown
    assert metrics.mean_cost_per_side_bps == pytest.approx(10.0)
    # Mean of r = P[j+1] / P[j] - 1 over the six bars (see the hand-computed example).
    assert metrics.drift_bps_per_bar == pytest.approx(-14.8267, abs=1e-3)
    assert metrics.auc == pytest.approx(rank_auc(pred[:4], frame["label"].to_numpy()[:4] > 0))
    assert metrics.rmse == pytest.approx(np.sqrt(np.mean((pred[:4] - frame["label"][:4]) ** 2)))


@pytest.mark.parametrize(("min_trades", "status"), [(30, INSUFFICIENT_EVIDENCE), (2, OK)])
def test_fewer_trades_than_the_minimum_is_insufficient_evidence(min_trades, status):
    pred = np.array([0.01, -0.01, 0.0, -0.01, 0.0, 0.0])
    metrics = evaluate(
        frame_of(OPEN, CLOSE), pred, flat_costs(10.0), horizon=2, min_trades=min_trades
    )
    assert metrics.status == status
    # Reported either way, with its interval: insufficient evidence is not a break-even 0.0.
    assert metrics.strategy.net_bps_after_costs == pytest.approx(-19.019608)
    assert metrics.strategy.net_bps_interval is not None


def test_a_model_that_never_trades_is_insufficient_evidence_with_no_net():
    metrics = evaluate(frame_of(OPEN, CLOSE), np.zeros(6), flat_costs(10.0))
    assert metrics.status == INSUFFICIENT_EVIDENCE
    assert metrics.strategy.trades == 0 and metrics.strategy.net_bps_after_costs is None


def test_metrics_json_keeps_the_read_keys_nests_the_new_figures_and_round_trips():
    frame = frame_of(OPEN, CLOSE).assign(label=0.001)
    pred = np.array([0.01, -0.01, 0.0, -0.01, 0.0, 0.0])
    metrics = evaluate(frame, pred, flat_costs(10.0), horizon=2, min_trades=2)
    data = json.loads(json.dumps(metrics.to_json_dict(), allow_nan=False))
    for key in (
        "status", "net_bps_after_costs", "net_bps_interval", "trades", "hit_rate",
        "gross_bps_per_bar", "net_bps_per_bar", "sharpe", "max_drawdown", "turnover",
        "break_even_cost_bps", "min_trades", "auc", "ic", "rmse",
    ):  # fmt: skip
        assert key in data
    assert data["status"] == "ok"
    assert set(data["baselines"]) == {"flat", "buy_and_hold"}
    for side in ("long", "short", "market_neutral"):
        assert set(data[side]) == {"n_trades", "net_bps", "interval"}
    assert len(data["net_bps_interval"]) == 2
    assert data["baselines"]["flat"]["net_bps_after_costs"] is None  # never traded
    assert data["auc"] is None  # every label positive: a single class
    assert data["execution"]["horizon_bars"] == 2
    assert Metrics.from_json_dict({**data, "symbol": "BTC/USDT"}) == metrics
