"""The invocation-level events of the spec's log: `job_started` and `job_completed`."""

from collections import Counter
from collections.abc import Mapping, Sequence

from retrain_assets.adapters.logging_setup import EventLog
from retrain_assets.core.lifecycle.artifacts import ArtifactLayout
from retrain_assets.launcher.status import SymbolStatus


def job_log(layout: ArtifactLayout, date: str, invocation_id: str, mode: str) -> EventLog:
    """The engine log of an invocation (its id stands in for the run id)."""
    return EventLog.from_environ(layout.root, date, invocation_id, mode)


def job_started(
    log: EventLog, header: Mapping[str, object], symbols: Sequence[str], skipped: int
) -> None:
    """Log the start of an invocation: what it will do and under which cap."""
    log.emit(
        "job_started",
        total_symbols=len(symbols),
        skipped=skipped,
        max_concurrent=header["max_concurrent"],
        dry_run=header["dry_run"],
        force=header["force"],
        symbols=list(symbols),
    )


def job_completed(log: EventLog, statuses: Mapping[str, SymbolStatus], wall_s: float) -> None:
    """Log the end of an invocation with its counts and wall time."""
    counts = Counter(s.status for s in statuses.values())
    log.emit(
        "job_completed",
        level="error" if counts["failed"] else "info",
        total_symbols=len(statuses),
        succeeded=counts["success"],
        failed=counts["failed"],
        canceled=counts["canceled"],
        skipped=counts["skipped"],
        duration_s=round(wall_s, 3),
    )
