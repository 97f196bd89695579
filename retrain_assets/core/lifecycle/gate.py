"""The promotion gate: may the newest model of a symbol go (or stay) in production?

The gate is re-taken every day for every symbol, so its error rate must survive both the
repeated looks and the many symbols. It judges the *method* on evidence pooled across symbols,
and admits each *symbol* only when its own record does not argue against it:

- `method_evidence`: the family's equal-weight book (every symbol of the method and data
  source, each day's net the mean of the symbols traded that day) over the days before the
  date, since the family began and at most `method_window_days`. Its always-valid confidence
  sequence (`core.sequential`) must lie above zero. Days are the unit: symbols move together,
  so whole days are what is close to independent. With no edge anywhere, the chance that the
  method ever passes, on any day, for any symbol, is at most `alpha` (simulated in
  `tests/core/lifecycle/test_gate_error_rates.py`).
- `symbol_evidence`: at least `min_trades` of the symbol's own trades in its window, and its
  own daily mean at least `symbol_min_t` (1) standard error above zero: a one-look guard that
  keeps most zero-edge and losing symbols of a working method out (it proves nothing alone).
- `symbol_not_losing`: the symbol's own net over its window above zero: a symbol whose own
  record loses is kept out even when the method works elsewhere (an ERROR, not a WARN).
- `not_worse_than_champion` (when a champion is live): on the days both traded, the newest
  models' record less the champion's own live record (paired, day by day); fails only when
  its confidence sequence lies wholly below zero.

A 30-day window of one symbol cannot prove a realistic edge (per-trade Sharpe 0.1-0.3 needs
70 to 700+ trades at a fixed 5%; more under the correction): it is used only to keep symbols
*out*. What proves an edge is the method's pooled record.

Demotion (`demotion`) reads the champion's own live record: production goes flat when the
record over its last `demote_window_days` live days (a full window of them) is significantly
negative (a one-look interval, `core.sequential.fixed_interval`: a false alarm only costs days
of opportunity), or when the gate has failed on each of the last `demote_after_failed_days`
dates (the live model is stale and no successor has earned its place).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from retrain_assets.core.lifecycle.sequential import (
    confidence_sequence,
    fixed_interval,
    t_statistic,
)
from retrain_assets.core.trading.walk_forward import TRADED, DayPnl

GATE_CHECK = "promotion_gate"


@dataclass(frozen=True)
class GatePolicy:
    """What the gate asks before a model goes to production, and when production goes flat.

    Attributes:
        alpha: The chance, over every day and every symbol at once, that a method with no
            edge is ever promoted.
        planned_days: Where the confidence sequence is tightest (valid at any length).
        method_window_days: Most days of the family's pooled record the method test reads.
        min_method_days: Fewest pooled days before the method test may pass: a deviation
            estimated from fewer is itself too noisy (at 3 days the error rate was 6%, at 7
            days 3%, simulated).
        window_days: Days of the symbol's own record its guard reads, ending at the date.
        min_trades: Fewest trades of the symbol's own in its window.
        symbol_min_t: Standard errors the symbol's own daily mean must clear zero by. 1.0
            keeps most losing and zero-edge symbols of a working method out at no cost in
            power (simulated: losing symbols ever promoted 30% -> 12%, days to promotion at
            Sharpe 0.1/0.2/0.3 unchanged); 1.645 keeps more out but delays weak edges.
        demote_window_days: Live days of the champion's own record the demotion reads.
        demote_level: Confidence of the one-look interval that calls the record negative.
        demote_after_failed_days: Consecutive failing dates after which production goes flat.
    """

    alpha: float = 0.05
    planned_days: int = 30
    method_window_days: int = 90
    min_method_days: int = 7
    window_days: int = 30
    min_trades: int = 20
    symbol_min_t: float = 1.0
    demote_window_days: int = 10
    demote_level: float = 0.95
    demote_after_failed_days: int = 10

    def __post_init__(self) -> None:
        counts = (
            self.planned_days,
            self.method_window_days,
            self.min_method_days,
            self.window_days,
            self.min_trades,
            self.demote_window_days,
            self.demote_after_failed_days,
        )
        if min(counts) < 1:
            raise ValueError(f"gate windows and counts must be at least 1, got {counts}")
        if not (0.0 < self.alpha < 1.0 and 0.0 < self.demote_level < 1.0):
            raise ValueError(
                f"gate alpha and demote_level must be in (0, 1), "
                f"got {self.alpha} and {self.demote_level}"
            )


@dataclass(frozen=True)
class DayNet:
    """One (symbol, day) of a record: the day's net return (a fraction) and its trades."""

    symbol: str
    day: str
    net: float
    trades: int

    @classmethod
    def of(cls, ledger: DayPnl) -> "DayNet":
        """The totals of one traded ledger day."""
        return cls(ledger.symbol, ledger.day, float(sum(ledger.net)), len(ledger.trades))


def day_nets(days: Iterable[DayPnl]) -> list[DayNet]:
    """The traded days' totals (days without a live model traded nothing and say nothing)."""
    return [DayNet.of(d) for d in days if d.status == TRADED]


def pooled_daily(nets: Iterable[DayNet]) -> list[float]:
    """The equal-weight book's net per day, in day order: the mean over the symbols traded."""
    by_day: dict[str, list[float]] = defaultdict(list)
    for n in nets:
        by_day[n.day].append(n.net)
    return [sum(v) / len(v) for _, v in sorted(by_day.items())]


@dataclass(frozen=True)
class GateCondition:
    """One named condition, whether it held, and the numbers behind it."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateVerdict:
    """The gate's answer for one symbol-day, with every condition and the figures it read."""

    symbol: str
    date: str
    conditions: tuple[GateCondition, ...]
    figures: dict[str, Any]

    @property
    def passed(self) -> bool:
        """Whether every condition held."""
        return all(c.passed for c in self.conditions)

    @property
    def failing(self) -> tuple[str, ...]:
        """The names of the conditions that did not hold."""
        return tuple(c.name for c in self.conditions if not c.passed)

    @property
    def losing(self) -> bool:
        """Whether it failed on the record (a loss, or worse than the champion), not only on
        too little evidence: the difference between an ERROR and a WARN."""
        return bool({"symbol_not_losing", "not_worse_than_champion"} & set(self.failing))

    def describe(self) -> str:
        """One line: `passed: ...` or `failed method_evidence, ...: ...`."""
        if self.passed:
            return "passed: " + "; ".join(c.detail for c in self.conditions)
        failed = [c for c in self.conditions if not c.passed]
        return f"failed {', '.join(c.name for c in failed)}: " + "; ".join(c.detail for c in failed)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the verdict, its conditions and the figures it read."""
        return {
            "check": GATE_CHECK,
            "symbol": self.symbol,
            "date": self.date,
            "passed": self.passed,
            "failing": list(self.failing),
            "conditions": [asdict(c) for c in self.conditions],
            "figures": self.figures,
        }


def _bps(value: float) -> str:
    return f"{1e4 * value:+.1f}"


def _interval_text(interval: tuple[float, float] | None) -> str:
    return "no interval yet" if interval is None else f"[{_bps(interval[0])}, {_bps(interval[1])}]"


def method_condition(
    pooled: Sequence[float], symbols: int, policy: GatePolicy
) -> tuple[GateCondition, dict[str, Any]]:
    """The method test on the family's pooled daily nets (days before the date, in order)."""
    interval = confidence_sequence(pooled, alpha=policy.alpha, planned_looks=policy.planned_days)
    mean = sum(pooled) / len(pooled) if pooled else None
    enough = len(pooled) >= policy.min_method_days
    passed = enough and interval is not None and interval[0] > 0.0
    level = f"{100 * (1 - policy.alpha):.0f}%"
    detail = (
        f"method {_bps(mean) if mean is not None else 'n/a'} bps/day "
        f"{_interval_text(interval)} (always-valid {level}) over {len(pooled)} days "
        f"x {symbols} symbols" + ("" if enough else f" (need {policy.min_method_days} days)")
    )
    figures = {
        "method_days": len(pooled),
        "method_symbols": symbols,
        "method_net_bps_per_day": None if mean is None else 1e4 * mean,
        "method_interval_bps": None if interval is None else [1e4 * v for v in interval],
    }
    return GateCondition("method_evidence", passed, detail), figures


def symbol_conditions(
    own: Sequence[DayNet], policy: GatePolicy
) -> tuple[list[GateCondition], dict[str, Any]]:
    """The symbol's guard on its own window: enough trades, a daily mean at least
    `symbol_min_t` standard errors above zero (else too little evidence), and not losing."""
    trades = sum(n.trades for n in own)
    total = sum(n.net for n in own)
    nets = [n.net for n in own]
    interval = fixed_interval(nets)
    t = t_statistic(nets)
    shown = "n/a" if t is None else f"{t:+.2f}"
    conditions = [
        GateCondition(
            "symbol_evidence",
            trades >= policy.min_trades and t is not None and t >= policy.symbol_min_t,
            f"{trades} trades over {len(own)} days (need {policy.min_trades}), own daily mean "
            f"{shown} standard errors from zero (need {policy.symbol_min_t:+.2f})"
            if trades
            else f"no trades over {len(own)} days: no evidence yet",
        ),
        GateCondition(
            "symbol_not_losing",
            trades == 0 or total > 0.0,  # no trades: nothing lost, and no evidence (above)
            f"own net {_bps(total)} bps over the window, per day {_interval_text(interval)}"
            if trades
            else "no trades yet: nothing lost",
        ),
    ]
    figures = {
        "symbol_days": len(own),
        "symbol_trades": trades,
        "symbol_total_net_bps": 1e4 * total,
        "symbol_t": t,
        "symbol_day_interval_bps": None if interval is None else [1e4 * v for v in interval],
    }
    return conditions, figures


def paired_condition(
    challenger: Sequence[DayNet], champion: Sequence[DayNet], policy: GatePolicy
) -> tuple[GateCondition, dict[str, Any]]:
    """The newest models' record against the champion's own, on the days both traded."""
    theirs = {n.day: n.net for n in champion}
    diffs = [n.net - theirs[n.day] for n in sorted(challenger, key=lambda n: n.day)
             if n.day in theirs]  # fmt: skip
    interval = confidence_sequence(diffs, alpha=policy.alpha, planned_looks=policy.planned_days)
    worse = interval is not None and interval[1] < 0.0
    mean = sum(diffs) / len(diffs) if diffs else 0.0
    detail = (
        f"newest models vs champion {_bps(mean)} bps/day {_interval_text(interval)} "
        f"over {len(diffs)} paired days"
    )
    figures = {
        "paired_days": len(diffs),
        "paired_diff_bps_per_day": 1e4 * mean if diffs else None,
        "paired_interval_bps": None if interval is None else [1e4 * v for v in interval],
    }
    return GateCondition("not_worse_than_champion", not worse, detail), figures


def promotion_gate(
    symbol: str,
    date: str,
    *,
    method: Sequence[DayNet],
    own: Sequence[DayNet],
    champion_record: Sequence[DayNet] | None,
    policy: GatePolicy,
) -> GateVerdict:
    """Judge whether the model trained through `date` may be (or replace) the champion.

    Args:
        symbol: The symbol.
        date: The date the candidate was trained through.
        method: The family's traded days of every symbol, before `date`, in the method window.
        own: The symbol's own traded days of the family in its window (through `date`).
        champion_record: The champion's own live days in the window; None without a champion.
        policy: The thresholds.
    """
    test, figures = method_condition(pooled_daily(method), len({n.symbol for n in method}), policy)
    guard, own_figures = symbol_conditions(own, policy)
    conditions = [test, *guard]
    figures |= own_figures
    if champion_record is not None:
        paired, paired_figures = paired_condition(own, champion_record, policy)
        conditions.append(paired)
        figures |= paired_figures
    return GateVerdict(symbol, date, tuple(conditions), figures)


@dataclass(frozen=True)
class Demotion:
    """Why production goes flat: the champion's record, or a gate failing too long."""

    reason: str
    figures: dict[str, Any]


def demotion(
    live: Sequence[DayNet], failed_dates_in_a_row: int, policy: GatePolicy
) -> Demotion | None:
    """Whether the champion must go, from its own live days (oldest first, this tenure only).

    Args:
        live: The champion's own live record since it last went live from flat.
        failed_dates_in_a_row: Dates up to today's on which the gate failed, consecutively.
        policy: The thresholds.

    Returns:
        The demotion with its reason, or None to keep the champion.
    """
    recent = list(live)[-policy.demote_window_days :]
    full = len(recent) == policy.demote_window_days  # a few days' deviation is itself noise
    level = 2 * policy.demote_level - 1
    interval = fixed_interval([n.net for n in recent], level=level) if full else None
    figures = {
        "live_days": len(recent),
        "live_net_bps": 1e4 * sum(n.net for n in recent),
        "live_interval_bps": None if interval is None else [1e4 * v for v in interval],
        "failed_dates_in_a_row": failed_dates_in_a_row,
    }
    if interval is not None and interval[1] < 0.0:
        return Demotion(
            f"the champion's own record over its last {len(recent)} live days is negative: "
            f"{_bps(sum(n.net for n in recent))} bps, per day {_interval_text(interval)} "
            f"({100 * policy.demote_level:.0f}% one-sided)",
            figures,
        )
    if failed_dates_in_a_row >= policy.demote_after_failed_days:
        return Demotion(
            f"the gate failed on {failed_dates_in_a_row} dates in a row "
            f"(limit {policy.demote_after_failed_days}): the live model is stale",
            figures,
        )
    return None
