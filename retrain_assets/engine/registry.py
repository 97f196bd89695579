"""Invocation records, kept in the Dagster instance's key-value store.

An invocation is what a person thinks of as "one retrain": a CLI call, a schedule tick or a UI
backfill, each covering many symbol-day runs. Its record (date, mode, total symbols, skipped,
start and end) lets notifications and summaries be sent once per invocation, not per symbol,
from whichever process notices first.
"""

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import dagster as dg

_PREFIX = "retrain/invocation/"
_INDEX = "retrain/invocations"
_INDEX_LIMIT = 200

Source = Literal["cli", "schedule", "backfill", "api"]


@dataclass(frozen=True)
class InvocationRecord:
    """One invocation, as stored in the instance."""

    id: str
    source: Source
    date: str
    mode: str
    total_symbols: int
    skipped: int
    dry_run: bool
    started_at: float
    symbols: list[str] = field(default_factory=list)
    finished_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def finished(self, at: float) -> "InvocationRecord":
        """A copy marked finished at `at` (epoch seconds)."""
        return replace(self, finished_at=at)


def save_invocation(instance: dg.DagsterInstance, record: InvocationRecord) -> None:
    """Store (or update) an invocation record and keep it in the recent index."""
    storage = instance.run_storage
    index = _read_index(instance)
    if record.id not in index:
        index = [*index, record.id][-_INDEX_LIMIT:]
    storage.set_cursor_values(
        {_PREFIX + record.id: json.dumps(asdict(record)), _INDEX: json.dumps(index)}
    )


def load_invocation(instance: dg.DagsterInstance, invocation_id: str) -> InvocationRecord | None:
    """The record of one invocation, or None."""
    raw = instance.run_storage.get_cursor_values({_PREFIX + invocation_id}).get(
        _PREFIX + invocation_id
    )
    return InvocationRecord(**json.loads(raw)) if raw else None


def recent_invocations(instance: dg.DagsterInstance) -> list[InvocationRecord]:
    """The most recent invocation records, oldest first."""
    ids = _read_index(instance)
    raw = instance.run_storage.get_cursor_values({_PREFIX + i for i in ids})
    records = [InvocationRecord(**json.loads(raw[_PREFIX + i])) for i in ids if _PREFIX + i in raw]
    return sorted(records, key=lambda r: r.started_at)


def _read_index(instance: dg.DagsterInstance) -> list[str]:
    raw = instance.run_storage.get_cursor_values({_INDEX}).get(_INDEX)
    return list(json.loads(raw)) if raw else []
