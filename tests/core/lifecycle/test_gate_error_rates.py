"""The gate's error rate and power, simulated with the gate's own code.

Each simulated symbol-day is a day of `TRADES_PER_DAY` trades whose nets have a per-trade
Sharpe ratio (mean / sd) of `sharpe`, heavy-tailed (Student t, 4 degrees of freedom, scaled to
unit variance), and symbols share a common daily factor with correlation `rho`. Every day, for
every symbol, the gate is taken as the champion step takes it: the method test on the
family's pooled days before the date, the symbol's guard on its own window through the date.
"""

from dataclasses import dataclass, replace

import numpy as np
import pytest

from retrain_assets.core.lifecycle.gate import (
    DayNet,
    GatePolicy,
    demotion,
    method_condition,
    pooled_daily,
    symbol_conditions,
)

TRADES_PER_DAY = 4
TRADE_SD = 0.01  # 100 bps a trade: 1h crypto holds of a few hours
POLICY = GatePolicy()


def _t4(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_t(4, size=shape) / np.sqrt(2.0)  # t(4) has variance 2


def simulate_nets(
    rng: np.random.Generator, symbols: int, days: int, sharpe: np.ndarray | float, rho: float
) -> np.ndarray:
    """Daily nets, shape (days, symbols): the sum of the day's trades, days clustered."""
    mean = np.broadcast_to(np.asarray(sharpe, dtype=float), (symbols,)) * TRADE_SD
    day_sd = TRADE_SD * np.sqrt(TRADES_PER_DAY)
    common = _t4(rng, (days, 1))
    own = _t4(rng, (days, symbols))
    noise = np.sqrt(rho) * common + np.sqrt(1.0 - rho) * own
    return TRADES_PER_DAY * mean + day_sd * noise


@dataclass(frozen=True)
class Outcome:
    """The first day each symbol is promoted (-1: never), over one simulated history."""

    first_promotion: np.ndarray


def run_gate(nets: np.ndarray, policy: GatePolicy = POLICY) -> Outcome:
    """Take the gate every day for every symbol; a symbol is promoted the first day it passes."""
    days, symbols = nets.shape
    names = [f"S{i:03d}" for i in range(symbols)]
    records = [
        [DayNet(names[s], f"d{d:03d}", float(nets[d, s]), TRADES_PER_DAY) for s in range(symbols)]
        for d in range(days)
    ]
    pooled = pooled_daily(n for day in records for n in day)
    first = np.full(symbols, -1)
    for d in range(policy.min_method_days, days):
        start = max(0, d - policy.method_window_days)
        test, _ = method_condition(pooled[start:d], symbols, policy)
        if not test.passed:
            continue
        window = records[max(0, d + 1 - policy.window_days) : d + 1]
        for s in np.flatnonzero(first < 0):
            guard, _ = symbol_conditions([day[s] for day in window], policy)
            if all(c.passed for c in guard):
                first[s] = d
    return Outcome(first)


def any_promotion_rate(reps: int, symbols: int, days: int, rho: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = [
        (run_gate(simulate_nets(rng, symbols, days, 0.0, rho)).first_promotion >= 0).any()
        for _ in range(reps)
    ]
    return float(np.mean(hits))


@pytest.mark.parametrize("rho", [0.0, 0.2])
@pytest.mark.slow(seconds=6)
def test_at_zero_edge_100_symbols_over_90_daily_looks_are_almost_never_promoted(rho):
    # Issue 19's target: at most 5% chance of ANY false promotion, 100 symbols x 90 looks.
    rate = any_promotion_rate(reps=300, symbols=100, days=90, rho=rho, seed=19)
    assert rate <= 0.05, f"any false promotion in {rate:.1%} of 300 histories"


def test_the_old_fixed_interval_gate_fails_the_same_target():
    # The test can fail: one fixed 95% interval per symbol per day, as the old gate took it.
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(40):
        nets = simulate_nets(rng, 12, 30, 0.0, 0.0)
        for s in range(12):
            crossed = any(
                (iv := _fixed([float(v) for v in nets[max(0, d - 29) : d + 1, s]])) and iv[0] > 0
                for d in range(5, 30)
            )
            if crossed:
                hits += 1
                break
    assert hits / 40 > 0.3


def _fixed(values: list[float]) -> tuple[float, float] | None:
    from retrain_assets.core.lifecycle.sequential import fixed_interval

    return fixed_interval(values)


def median_days_to_promotion(sharpe: float, reps: int = 20, seed: int = 3) -> float:
    """Median over histories of the day by which half of 100 edged symbols are promoted."""
    rng = np.random.default_rng(seed)
    halves = []
    for _ in range(reps):
        first = run_gate(simulate_nets(rng, 100, 90, sharpe, 0.2)).first_promotion
        promoted = np.sort(np.where(first >= 0, first, 10_000))
        halves.append(promoted[len(promoted) // 2])
    return float(np.median(halves))


@pytest.mark.parametrize(("sharpe", "within"), [(0.1, 90), (0.2, 30), (0.3, 15)])
def test_planted_edges_are_promoted_within_stated_days(sharpe, within):
    # docs/lifecycle.md states these: per-trade Sharpe 0.1 / 0.2 / 0.3, 4 trades a day,
    # 100 symbols with the edge, daily nets correlated 0.2 across symbols.
    days = median_days_to_promotion(sharpe)
    assert days <= within, f"Sharpe {sharpe}: half promoted after {days} days"


def test_a_champion_whose_edge_vanished_is_demoted_within_two_windows_and_a_good_one_rarely():
    # docs/lifecycle.md: a record losing its costs (per-trade Sharpe -0.25) is demoted within
    # 20 live days in ~90% of histories; a champion with Sharpe 0.2 is demoted within 90 days
    # in ~6% of them (300 histories each, measured).
    rng = np.random.default_rng(11)
    vanished, good = [], []
    for _ in range(300):
        lost = simulate_nets(rng, 1, 30, -0.25, 0.0)[:, 0]  # costs without edge
        kept = simulate_nets(rng, 1, 90, 0.2, 0.0)[:, 0]
        vanished.append(_first_demotion(lost))
        good.append(_first_demotion(kept))
    assert np.mean([d is not None and d < 2 * POLICY.demote_window_days for d in vanished]) > 0.8
    assert np.mean([d is not None for d in good]) < 0.10


def _first_demotion(nets: np.ndarray) -> int | None:
    live = [DayNet("S", f"d{d:03d}", float(v), TRADES_PER_DAY) for d, v in enumerate(nets)]
    for d in range(len(live)):
        if demotion(live[: d + 1], 0, POLICY) is not None:
            return d
    return None


def test_in_a_mixed_universe_the_own_record_guard_keeps_losers_out_at_no_cost_in_power():
    # Half the symbols with an edge (Sharpe 0.2), a quarter with none, a quarter losing (-0.1).
    # Where the method passes on the pooled record, the guard (own mean >= 1 standard error)
    # promotes fewer losers than a bare "own net > 0" in the same histories, and as many
    # edged symbols. Measured (docs/lifecycle.md): losers ever promoted within 90 days 24%
    # against 62%; zero-edge ones 67% against 94%; edged ones 99.5% against 100% (4 histories).
    rng = np.random.default_rng(4)
    sharpe = np.r_[np.full(50, 0.2), np.zeros(25), np.full(25, -0.1)]
    bare = replace(POLICY, symbol_min_t=-1e9)
    guarded, unguarded = [], []
    for _ in range(8):
        nets = simulate_nets(rng, 100, 90, sharpe, 0.2)
        with_guard = run_gate(nets).first_promotion
        if (with_guard[:50] >= 0).any():  # the method passed in this history
            guarded.append(with_guard)
            unguarded.append(run_gate(nets, bare).first_promotion)
    assert len(guarded) >= 3
    share = lambda runs, part: np.mean([(f[part] >= 0).mean() for f in runs])  # noqa: E731
    assert share(guarded, slice(75, 100)) < share(unguarded, slice(75, 100))
    assert share(guarded, slice(0, 50)) > 0.9
