"""The promotion gate: the method proven on pooled days, each symbol guarded by its own record,
the newest models not worse than the champion, and production flat when the champion fails."""

import pytest

from retrain_assets.core.lifecycle.gate import (
    DayNet,
    GatePolicy,
    day_nets,
    demotion,
    pooled_daily,
    promotion_gate,
)
from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL, DayPnl, PnlTrade

POLICY = GatePolicy()


def _days(symbol: str, nets: list[float], trades: int = 3, first: int = 1) -> list[DayNet]:
    return [DayNet(symbol, f"2025-04-{first + i:02d}", v, trades) for i, v in enumerate(nets)]


def _method(nets_per_symbol: dict[str, list[float]]) -> list[DayNet]:
    return [n for symbol, nets in nets_per_symbol.items() for n in _days(symbol, nets)]


EDGE = [0.004, 0.006, 0.003, 0.005, 0.007, 0.004, 0.006, 0.005, 0.003, 0.006]
NOISE = [0.004, -0.006, 0.003, -0.005, 0.007, -0.004, 0.006, -0.003, 0.001, 0.002]


def _gate(method, own, champion=None, **policy):
    return promotion_gate(
        "BTCUSDT",
        "2025-04-12",
        method=method,
        own=own,
        champion_record=champion,
        policy=GatePolicy(**policy),
    )


def test_a_method_with_a_steady_pooled_edge_and_a_winning_symbol_passes():
    verdict = _gate(_method({"BTCUSDT": EDGE, "ETHUSDT": EDGE}), _days("BTCUSDT", EDGE, 3))
    assert verdict.passed, verdict.describe()
    assert [c.name for c in verdict.conditions] == [
        "method_evidence",
        "symbol_evidence",
        "symbol_not_losing",
    ]
    assert verdict.figures["method_days"] == 10 and verdict.figures["method_symbols"] == 2
    assert "always-valid 95%" in verdict.describe()


def test_noise_in_the_pooled_record_is_not_an_edge_even_when_the_mean_is_positive():
    verdict = _gate(_method({"BTCUSDT": NOISE}), _days("BTCUSDT", EDGE))
    assert sum(NOISE) > 0
    assert verdict.failing == ("method_evidence",)
    assert not verdict.losing  # too little evidence is a WARN, not "the record loses"


def test_the_method_test_waits_for_its_minimum_days():
    verdict = _gate(_method({"BTCUSDT": EDGE[:5]}), _days("BTCUSDT", EDGE))
    assert verdict.failing == ("method_evidence",)
    assert "(need 7 days)" in verdict.describe()


def test_a_symbol_losing_on_its_own_is_kept_out_while_the_method_works_elsewhere():
    losing = [-v for v in EDGE]
    verdict = _gate(_method({"ETHUSDT": EDGE, "SOLUSDT": EDGE}), _days("BTCUSDT", losing))
    assert verdict.failing == ("symbol_evidence", "symbol_not_losing")
    assert verdict.losing


def test_a_symbol_whose_own_mean_is_inside_one_standard_error_is_kept_out_as_no_evidence():
    verdict = _gate(_method({"ETHUSDT": EDGE}), _days("BTCUSDT", NOISE))
    assert sum(NOISE) > 0 and verdict.failing == ("symbol_evidence",)
    assert not verdict.losing and "standard errors from zero (need +1.00)" in verdict.describe()
    assert _gate(_method({"ETHUSDT": EDGE}), _days("BTCUSDT", NOISE), symbol_min_t=0.0).passed


def test_a_symbol_with_too_few_trades_is_kept_out():
    verdict = _gate(_method({"ETHUSDT": EDGE}), _days("BTCUSDT", EDGE, trades=1))
    assert verdict.failing == ("symbol_evidence",)
    assert "10 trades over 10 days (need 20)" in verdict.describe()


def test_the_newest_models_must_not_be_clearly_worse_than_the_champion_on_the_same_days():
    champion = _days("BTCUSDT", [v + 0.01 for v in EDGE])
    verdict = _gate(_method({"ETHUSDT": EDGE}), _days("BTCUSDT", EDGE), champion)
    assert verdict.failing == ("not_worse_than_champion",)
    assert verdict.figures["paired_days"] == 10
    same = _gate(_method({"ETHUSDT": EDGE}), _days("BTCUSDT", EDGE), _days("BTCUSDT", EDGE))
    assert same.passed  # identical records (the champion is the newest model): not worse


def test_pooled_days_are_the_mean_over_the_symbols_traded_each_day_in_day_order():
    nets = _days("A", [0.01, 0.02]) + _days("B", [0.03]) + _days("C", [0.0], first=2)
    assert pooled_daily(reversed(nets)) == pytest.approx([0.02, 0.01])


def test_only_traded_ledger_days_count():
    trade = PnlTrade(1, "2025-04-01T01:00:00+00:00", "2025-04-01T05:00:00+00:00", 4, 0.01, 0.008)
    traded = DayPnl(
        "BTCUSDT", "2025-04-01", "2025-03-31", "traded", "x", 1.0, ("t",), (1.0,), (),
        (0.01,), (0.008,), (0.0,), (0.0,), (trade,),
    )  # fmt: skip
    empty = DayPnl("BTCUSDT", "2025-04-02", None, NO_LIVE_MODEL, None, None)
    assert day_nets([traded, empty]) == [DayNet("BTCUSDT", "2025-04-01", 0.008, 1)]


def test_a_champion_losing_its_whole_window_goes_flat_and_a_young_one_is_not_judged():
    losing = _days("BTCUSDT", [-0.004, -0.006, -0.003, -0.005, -0.007, -0.004, -0.006, -0.005,
                               -0.003, -0.002])  # fmt: skip
    demoted = demotion(losing, 0, POLICY)
    assert demoted is not None and "negative" in demoted.reason
    assert demotion(losing[:9], 0, POLICY) is None  # 9 live days: not a full window yet
    assert demotion(_days("BTCUSDT", EDGE), 0, POLICY) is None


def test_a_gate_failing_too_many_dates_in_a_row_takes_the_stale_champion_out():
    assert demotion(_days("BTCUSDT", EDGE), 9, POLICY) is None
    stale = demotion(_days("BTCUSDT", EDGE), 10, POLICY)
    assert stale is not None and "10 dates in a row" in stale.reason


def test_a_policy_with_a_zero_window_or_an_impossible_level_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        GatePolicy(window_days=0)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        GatePolicy(alpha=1.5)


def test_a_symbol_without_trades_has_no_evidence_yet_which_is_not_a_loss():
    verdict = _gate(_method({"ETHUSDT": EDGE}), _days("BTCUSDT", [0.0] * 10, trades=0))
    assert verdict.failing == ("symbol_evidence",) and not verdict.losing
    assert "no trades over 10 days: no evidence yet" in verdict.describe()
