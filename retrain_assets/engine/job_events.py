"""The invocation-level events of the spec's log: `job_started` and `job_completed`."""

from collections import Counter
from typing import Any

from retrain_assets.core.artifacts import ArtifactLayout
from retrain_assets.core.logging_setup import EventLog


def job_log(layout: ArtifactLayout, date: str, invocation_id: str, mode: str) -> EventLog:
    """The engine log of an invocation (its id stands in for the run id)."""
    return EventLog.from_environ(layout.root, date, invocation_id, mode)


def job_started(log: EventLog, header: dict[str, Any], symbols: list[str], skipped: int) -> None:
    """Log the start of an invocation: what it will do and under which cap."""
    log.emit(
        "job_started",
        total_symbols=len(symbols),
        skipped=skipped,
        max_concurrent=header["max_concurrent"],
        dry_run=header["dry_run"],
        force=header["force"],
        symbols=symbols,
    )


def job_completed(log: EventLog, status: dict[str, dict[str, Any]], wall_s: float) -> None:
    """Log the end of an invocation with its counts and wall time."""
    counts = Counter(entry.get("status") for entry in status.values())
    log.emit(
        "job_completed",
        level="error" if counts["failed"] else "info",
        total_symbols=len(status),
        succeeded=counts["success"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        duration_s=round(wall_s, 3),
    )
