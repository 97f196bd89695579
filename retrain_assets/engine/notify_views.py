"""What notifications are about: invocations (CLI, schedule, API) and UI backfills, with runs.

Both kinds become an `InvocationView`: how many symbol-days it covers, when it started,
whether (and when) it finished, and its run records, found by a tag every one of its runs
carries (`retrain/invocation` or `dagster/backfill`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
from dagster._core.execution.backfill import (
    BULK_ACTION_TERMINAL_STATUSES,
    BulkActionsFilter,
    PartitionBackfill,
)

from retrain_assets.defs.partitions import DRY_RUN_TAG, INVOCATION_TAG
from retrain_assets.engine.registry import InvocationRecord, recent_invocations

BACKFILL_TAG = "dagster/backfill"
PARTITION_TAG = "dagster/partition"
SYMBOL_TAG = "dagster/partition/symbol"
DATE_TAG = "dagster/partition/date"
# Set by Dagster on a failed run that the daemon's run retries will launch again.
WILL_RETRY_TAG = "dagster/will_retry"
TERMINAL = frozenset(
    {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
)
# Invocations whose own process marks them finished; others finish when their runs have.
SELF_FINISHING = frozenset({"cli", "api"})
BACKFILL_LIMIT = 50


@dataclass(frozen=True)
class InvocationView:
    """One invocation or backfill, as the notifications see it."""

    key: str
    date: str
    mode: str
    total_symbols: int
    skipped: int
    started_at: float
    finished_at: float | None
    runs: tuple[dg.RunRecord, ...]

    def latest_runs(self) -> list[dg.RunRecord]:
        """The newest run of each symbol-day (a re-execution supersedes the run before)."""
        return latest_runs(self.runs)

    def final_failures(self) -> list[dg.RunRecord]:
        """Runs that failed and will not be retried, oldest first."""
        return [
            r
            for r in sorted(self.runs, key=lambda r: r.create_timestamp)
            if r.dagster_run.status == dg.DagsterRunStatus.FAILURE and not _will_retry(r)
        ]


def latest_runs(runs: tuple[dg.RunRecord, ...]) -> list[dg.RunRecord]:
    """The newest of `runs` for each symbol-day partition."""
    latest: dict[str, dg.RunRecord] = {}
    for record in sorted(runs, key=lambda r: r.create_timestamp):
        tags = record.dagster_run.tags
        latest[tags.get(PARTITION_TAG) or tags.get(SYMBOL_TAG, record.dagster_run.run_id)] = record
    return list(latest.values())


def _will_retry(record: dg.RunRecord) -> bool:
    return record.dagster_run.tags.get(WILL_RETRY_TAG, "false").lower() == "true"


def _settled(record: dg.RunRecord) -> bool:
    return record.dagster_run.status in TERMINAL and not _will_retry(record)


def _runs(instance: dg.DagsterInstance, tags: dict[str, str]) -> tuple[dg.RunRecord, ...]:
    return tuple(instance.get_run_records(dg.RunsFilter(tags=tags)))


def _last_end(runs: tuple[dg.RunRecord, ...], default: float) -> float:
    return max((r.end_time for r in runs if r.end_time), default=default)


def view_of_record(instance: dg.DagsterInstance, record: InvocationRecord) -> InvocationView:
    """The view of an invocation saved in the registry."""
    runs = _runs(instance, {INVOCATION_TAG: record.id})
    finished_at = record.finished_at
    if finished_at is None and record.source not in SELF_FINISHING:
        latest = latest_runs(runs)
        expected = max(record.total_symbols - record.skipped, 0)
        if len(latest) >= expected and all(_settled(r) for r in latest):
            finished_at = _last_end(runs, record.started_at)
    return InvocationView(
        key=f"{record.source}:{record.id}",
        date=record.date,
        mode=record.mode + (" (dry run)" if record.dry_run else ""),
        total_symbols=record.total_symbols,
        skipped=record.skipped,
        started_at=record.started_at,
        finished_at=finished_at,
        runs=runs,
    )


def _backfill_partitions(backfill: PartitionBackfill) -> list[str] | None:
    """The partition keys a backfill targets, when they can be read without the asset graph."""
    if backfill.partition_names is not None:
        return list(backfill.partition_names)
    data = backfill.asset_backfill_data
    if data is None:
        return None
    keys: set[str] = set()
    for subset in data.target_subset.partitions_subsets_by_asset_key.values():
        keys.update(subset.get_partition_keys())
    return sorted(keys)


def view_of_backfill(instance: dg.DagsterInstance, backfill: PartitionBackfill) -> InvocationView:
    """The view of a UI (or GraphQL) backfill: one symbol-day per targeted partition."""
    runs = _runs(instance, {BACKFILL_TAG: backfill.backfill_id})
    keys = _backfill_partitions(backfill)
    latest = latest_runs(runs)
    if keys is None:
        keys = sorted({r.dagster_run.tags.get(PARTITION_TAG, "") for r in latest})
    dates = sorted({str(k).partition("|")[0] for k in keys if k}) or ["?"]
    finished_at = None
    if backfill.status in BULK_ACTION_TERMINAL_STATUSES and all(_settled(r) for r in latest):
        finished_at = backfill.backfill_end_timestamp or _last_end(
            runs, backfill.backfill_timestamp
        )
    dry = any(r.dagster_run.tags.get(DRY_RUN_TAG) == "true" for r in runs)
    return InvocationView(
        key=f"backfill:{backfill.backfill_id}",
        date=dates[0] if len(dates) == 1 else f"{dates[0]}..{dates[-1]}",
        mode="backfill" + (" (dry run)" if dry else ""),
        total_symbols=len(keys),
        skipped=0,
        started_at=backfill.backfill_timestamp,
        finished_at=finished_at,
        runs=runs,
    )


def recent_views(
    instance: dg.DagsterInstance, now: float, max_age_s: float
) -> list[InvocationView]:
    """Invocations and backfills started within `max_age_s` of `now`, oldest first.

    Args:
        instance: The Dagster instance holding the registry, backfills and runs.
        now: The current time, epoch seconds.
        max_age_s: How far back to look; older history is never announced.

    Returns:
        The views, ordered by start time.
    """
    since = now - max_age_s
    views = [
        view_of_record(instance, r) for r in recent_invocations(instance) if r.started_at >= since
    ]
    filters = BulkActionsFilter(created_after=datetime.fromtimestamp(since, UTC))
    for backfill in instance.get_backfills(filters=filters, limit=BACKFILL_LIMIT):
        if backfill.backfill_timestamp >= since:
            views.append(view_of_backfill(instance, backfill))
    return sorted(views, key=lambda v: v.started_at)
