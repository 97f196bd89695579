"""The promotion gate: enough trades, net after costs clear of zero, better than the baselines."""

from dataclasses import replace

import pytest

from retrain_assets.core.gate import GatePolicy, promotion_gate
from retrain_assets.core.ledger_figures import LedgerFigures

WINNER = LedgerFigures(
    name="BTCUSDT",
    days=30,
    bars=720,
    trades=40,
    gross_bps_per_trade=40.0,
    net_bps_per_trade=12.0,
    net_bps_interval=(3.0, 21.0),
    hit_rate=0.6,
    long_trades=20,
    short_trades=20,
    turnover_per_day=2.0,
    total_gross_bps=1600.0,
    total_net_bps=480.0,
    max_drawdown_bps=120.0,
    buy_and_hold_net_bps=150.0,
    flat_net_bps=0.0,
    net_bps_per_day=16.0,
    net_bps_per_day_interval=(2.0, 30.0),
    buy_and_hold_bps_per_day=5.0,
    status="ok",
)


def _gate(figures: LedgerFigures | None, **policy):
    return promotion_gate("BTCUSDT", "2025-04-26", figures, GatePolicy(**policy))


def test_a_record_that_earns_its_keep_passes_every_condition():
    verdict = _gate(WINNER)
    assert verdict.passed and verdict.failing == ()
    assert [c.name for c in verdict.conditions] == [
        "evidence",
        "net_after_costs",
        "beats_flat",
        "beats_buy_and_hold",
    ]
    assert verdict.describe().startswith("passed: 40 trades over 30 days (need 30)")


def test_too_few_trades_fails_on_evidence_alone():
    verdict = _gate(replace(WINNER, trades=12))
    assert verdict.failing == ("evidence",)
    assert "12 trades over 30 days (need 30)" in verdict.describe()


def test_a_positive_mean_inside_noise_is_not_an_edge_unless_the_policy_says_so():
    noisy = replace(WINNER, net_bps_interval=(-4.0, 28.0))
    assert _gate(noisy).failing == ("net_after_costs",)
    assert _gate(noisy, require_interval_above_zero=False).passed


def test_losing_after_costs_fails_net_and_flat():
    loser = replace(WINNER, net_bps_per_trade=-8.0, net_bps_interval=(-15.0, -1.0))
    loser = replace(loser, total_net_bps=-320.0)
    assert _gate(loser).failing == ("net_after_costs", "beats_flat", "beats_buy_and_hold")


def test_buy_and_hold_doing_better_keeps_the_champion_unless_not_required():
    lagging = replace(WINNER, buy_and_hold_net_bps=900.0)
    assert _gate(lagging).failing == ("beats_buy_and_hold",)
    assert _gate(lagging, beat_buy_and_hold=False).passed


def test_no_walk_forward_day_fails_on_evidence_with_no_figures():
    verdict = _gate(None)
    assert verdict.failing == ("evidence",) and verdict.figures is None
    assert verdict.to_json_dict()["passed"] is False


def test_a_policy_asking_for_no_evidence_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        GatePolicy(min_trades=0)
