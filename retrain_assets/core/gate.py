"""The promotion gate: may the newest model of a symbol replace its champion?

The evidence is the symbol's walk-forward record over a trailing window: what each day's newest
model did on the day after it was trained, after costs, filled at the next open (`ledger_chain`).
The candidate is the newest member of that family (the same method, one more day of data), and
has no out-of-sample day of its own yet; the record says whether the family has earned its keep.

Every condition failing is an ERROR that keeps the champion where it is: a desk never swaps a
model on noise. The conditions:

- `evidence`: at least `min_trades` trades in the window (below that nothing is ranked);
- `net_after_costs`: net per trade above zero, and with `require_interval_above_zero` the low
  end of its 95% block-bootstrap interval too (a mean above zero inside noise is not an edge);
- `beats_flat`: the window's total net above flat's (zero: flat never trades);
- `beats_buy_and_hold`: the total net above buy-and-hold's over the same days, same costs.
"""

from dataclasses import asdict, dataclass
from typing import Any

from retrain_assets.core.ledger_figures import LedgerFigures

GATE_CHECK = "promotion_gate"


@dataclass(frozen=True)
class GatePolicy:
    """What the gate asks of the walk-forward record before a model is promoted.

    Attributes:
        window_days: Traded days of the record the gate reads, ending at the date.
        min_trades: Fewest trades in that window; fewer is insufficient evidence.
        require_interval_above_zero: Whether the net-per-trade interval must clear zero, not
            only its mean.
        beat_buy_and_hold: Whether the record must also beat buy-and-hold.
    """

    window_days: int = 30
    min_trades: int = 30
    require_interval_above_zero: bool = True
    beat_buy_and_hold: bool = True

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.min_trades < 1:
            raise ValueError(
                f"gate window_days and min_trades must be at least 1, "
                f"got {self.window_days} and {self.min_trades}"
            )


@dataclass(frozen=True)
class GateCondition:
    """One named condition, whether it held, and the numbers behind it."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateVerdict:
    """The gate's answer for one symbol-day, with every condition and the window's figures."""

    symbol: str
    date: str
    conditions: tuple[GateCondition, ...]
    figures: dict[str, Any] | None

    @property
    def passed(self) -> bool:
        """Whether every condition held."""
        return all(c.passed for c in self.conditions)

    @property
    def failing(self) -> tuple[str, ...]:
        """The names of the conditions that did not hold."""
        return tuple(c.name for c in self.conditions if not c.passed)

    def describe(self) -> str:
        """One line: `passed: ...` or `failed evidence, net_after_costs: ...`."""
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


def promotion_gate(
    symbol: str, date: str, figures: LedgerFigures | None, policy: GatePolicy
) -> GateVerdict:
    """Judge the symbol's walk-forward record of the window ending at `date`.

    Args:
        symbol: The symbol.
        date: The date the candidate was trained through.
        figures: The symbol's chained figures over the window; None when it has no traded day.
        policy: The thresholds.

    Returns:
        The verdict; with no figures every condition fails on evidence.
    """
    if figures is None or figures.days == 0:
        missing = GateCondition(
            "evidence", False, f"no walk-forward day in the last {policy.window_days} days"
        )
        return GateVerdict(symbol, date, (missing,), None)
    conditions = [
        _evidence(figures, policy),
        _net_after_costs(figures, policy),
        GateCondition(
            "beats_flat",
            figures.total_net_bps > figures.flat_net_bps,
            f"total net {figures.total_net_bps:+.1f} bps vs flat {figures.flat_net_bps:+.1f}",
        ),
    ]
    if policy.beat_buy_and_hold:
        conditions.append(
            GateCondition(
                "beats_buy_and_hold",
                figures.total_net_bps > figures.buy_and_hold_net_bps,
                f"total net {figures.total_net_bps:+.1f} bps vs buy-and-hold "
                f"{figures.buy_and_hold_net_bps:+.1f}",
            )
        )
    return GateVerdict(symbol, date, tuple(conditions), figures.to_json_dict())


def _evidence(figures: LedgerFigures, policy: GatePolicy) -> GateCondition:
    return GateCondition(
        "evidence",
        figures.trades >= policy.min_trades,
        f"{figures.trades} trades over {figures.days} days (need {policy.min_trades})",
    )


def _net_after_costs(figures: LedgerFigures, policy: GatePolicy) -> GateCondition:
    net = figures.net_bps_per_trade
    interval = figures.net_bps_interval
    if net is None:
        return GateCondition("net_after_costs", False, "no trades: no net per trade")
    shown = f"[{interval[0]:+.1f}, {interval[1]:+.1f}]" if interval else "no interval"
    detail = f"net {net:+.1f} bps/trade {shown}"
    if policy.require_interval_above_zero:
        passed = interval is not None and interval[0] > 0
        return GateCondition("net_after_costs", passed, detail + " (its low end must clear 0)")
    return GateCondition("net_after_costs", net > 0, detail)
