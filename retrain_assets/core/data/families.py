"""Method families of the walk-forward record: which days may be pooled together.

A day's record is what its live model did; a model made by another method or from another
data source is another strategy, and its days say nothing about the current one. The report and
the promotion gate pool only the days of the current family; the others are listed, never
mixed in. A method change therefore starts a new family with no days: its evidence builds up
again from the change (or at once, when earlier dates are backfilled under the new method).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL, DayPnl

UNRECORDED = "unrecorded"


@dataclass(frozen=True)
class Family:
    """The days of one family: its key, first and last traded day, and how many days."""

    key: str
    first_day: str
    last_day: str
    days: int
    current: bool

    def to_json_dict(self) -> dict[str, Any]:
        """The family as the report's JSON lists it."""
        method, _, source = self.key.partition("@")
        return {
            "method": method,
            "source": source or None,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "days": self.days,
            "current": self.current,
        }


def family_key(day: DayPnl) -> str:
    """The day's family; `unrecorded` for a day written before families were recorded."""
    return day.model_family or UNRECORDED


def split_by_family(days: Iterable[DayPnl], current: str) -> tuple[list[DayPnl], list[Family]]:
    """The days to pool (the current family's, and days with no live model, which trade
    nothing), and every family with a live model seen, oldest first.

    Args:
        days: The window's ledger days.
        current: The current family (`core.provenance.family_of`).
    """
    pooled: list[DayPnl] = []
    spans: dict[str, list[str]] = {}
    for day in days:
        if day.status == NO_LIVE_MODEL:
            pooled.append(day)
            continue
        key = family_key(day)
        spans.setdefault(key, []).append(day.day)
        if key == current:
            pooled.append(day)
    families = [Family(key, min(d), max(d), len(d), key == current) for key, d in spans.items()]
    return pooled, sorted(families, key=lambda f: (f.first_day, f.key))


def describe(families: list[Family]) -> str:
    """One line per family for the UI: which days count, and which were left out."""
    lines = []
    for f in families:
        state = "current, pooled" if f.current else "another method or source, left out"
        lines.append(f"{f.key}: {f.first_day}..{f.last_day}, {f.days} symbol-days ({state})")
    return "\n".join(lines) or "no traded day in the window"
