"""One invocation of the scheduler: plan a date, run the symbols under the cap, report.

The CLI and the Python API both come through here, so they share the instance, the pool that
caps training, the ledger and the summary with UI backfills and the schedule.
"""

import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from resources.settings import artifact_root
from retrain_assets.core.artifacts import ArtifactLayout
from retrain_assets.core.hardware import detect_hardware
from retrain_assets.defs.partitions import (
    CONCURRENCY_TAG,
    DRY_RUN_TAG,
    INVOCATION_TAG,
    SYMBOLS,
    TIMEOUT_TAG,
    TRAIN_POOL,
)
from retrain_assets.engine.config import SchedulerConfig
from retrain_assets.engine.job_events import job_completed, job_log, job_started
from retrain_assets.engine.ledger import invocation_status, write_status
from retrain_assets.engine.notifications import notify_from_env
from retrain_assets.engine.orphans import recover_orphaned_runs
from retrain_assets.engine.plan import SymbolPlan, plan_symbol
from retrain_assets.engine.progress import ProgressFn
from retrain_assets.engine.registry import InvocationRecord, Source, save_invocation
from retrain_assets.engine.runner import RunOutcome, refresh_summary, run_symbol_day
from retrain_assets.engine.workers import start_workers


@dataclass
class Invocation:
    """The state of one invocation while it runs."""

    date: str
    symbols: list[str]
    config: SchedulerConfig
    instance: dg.DagsterInstance
    source: Source = "cli"
    invocation_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = field(default_factory=time.monotonic)

    @property
    def layout(self) -> ArtifactLayout:
        """The artifact layout (root from $RETRAIN_ARTIFACT_ROOT or ./artifacts)."""
        return ArtifactLayout(artifact_root(None))

    def run_tags(self, cap: int) -> dict[str, str]:
        """Tags on every run of this invocation (the UI can filter by them)."""
        return {
            INVOCATION_TAG: self.invocation_id,
            DRY_RUN_TAG: str(self.config.dry_run).lower(),
            CONCURRENCY_TAG: str(cap),
            TIMEOUT_TAG: str(self.config.timeout_minutes),
            "retrain/mode": str(self.config.mode),
            "retrain/driver": self.config.driver,
        }

    def header(self, cap: int) -> dict[str, Any]:
        """The invocation facts written at the top of status.json and the summary."""
        return {
            "date": self.date,
            "invocation": self.invocation_id,
            "mode": str(self.config.mode),
            "max_concurrent": cap,
            "dry_run": self.config.dry_run,
            "force": self.config.force,
        }


def prepare(inv: Invocation) -> tuple[list[SymbolPlan], int]:
    """Register partitions, set the pool's cap, recover orphans and plan every symbol."""
    instance = inv.instance
    known = set(instance.get_dynamic_partitions(SYMBOLS))
    missing = [s for s in inv.symbols if s not in known]
    if missing:
        instance.add_dynamic_partitions(SYMBOLS, missing)
    recover_orphaned_runs(instance)
    plans = [
        plan_symbol(instance, inv.date, s, force=inv.config.force, dry_run=inv.config.dry_run)
        for s in inv.symbols
    ]
    todo = sum(1 for p in plans if not p.skipped)
    cap = inv.config.cap(detect_hardware(), todo)
    instance.event_log_storage.set_concurrency_slots(TRAIN_POOL, cap)
    return plans, cap


def execute(
    inv: Invocation,
    progress: ProgressFn | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every planned symbol under the cap and return the final per-symbol status."""
    plans, cap = prepare(inv)
    header = inv.header(cap)
    status_path = inv.layout.status_file(inv.date)
    last: list[dict[str, dict[str, Any]]] = [{}]

    def refresh() -> dict[str, dict[str, Any]]:
        status = invocation_status(inv.instance, inv.invocation_id, plans)
        if status != last[0]:  # export after every change, not on every poll
            write_status(status_path, header, status)
            last[0] = status
        if progress is not None:
            progress(status, time.monotonic() - inv.started)
        return status

    record = _register(inv, plans, cap)
    log = job_log(inv.layout, inv.date, inv.invocation_id, str(inv.config.mode))
    job_started(log, header, inv.symbols, record.skipped)
    notify_from_env(inv.instance)  # the start message, for CLI users without a daemon
    refresh()
    todo = [p for p in plans if not p.skipped]
    workers = pool or (start_workers(min(cap, len(todo))) if todo else None)
    try:
        if todo and workers is not None:
            _run_all(inv, todo, cap, refresh, workers)
        status = refresh()
        save_invocation(inv.instance, record.finished(time.time()))
        job_completed(log, status, time.monotonic() - inv.started)
        _summarize(inv, workers)
    finally:
        if workers is not None:
            workers.shutdown(wait=True)
    notify_from_env(inv.instance)  # failure alerts and the completion summary
    return status


def _summarize(inv: Invocation, workers: ProcessPoolExecutor | None) -> None:
    """Materialize the date's engine summary, in a warm worker when there is one."""
    tags = {"retrain/summary_of": inv.invocation_id}
    if workers is None:
        refresh_summary(inv.date, tags)
    else:
        workers.submit(refresh_summary, inv.date, tags).result()


def _register(inv: Invocation, plans: list[SymbolPlan], cap: int) -> InvocationRecord:
    record = InvocationRecord(
        id=inv.invocation_id,
        source=inv.source,
        date=inv.date,
        mode=str(inv.config.mode),
        total_symbols=len(plans),
        skipped=sum(1 for p in plans if p.skipped),
        dry_run=inv.config.dry_run,
        started_at=time.time(),
        symbols=[p.symbol for p in plans],
        extra={
            "max_concurrent": cap,
            "driver": inv.config.driver,
            "skipped_symbols": {p.symbol: p.skip_reason for p in plans if p.skipped},
        },
    )
    save_invocation(inv.instance, record)
    return record


def _run_all(
    inv: Invocation,
    todo: list[SymbolPlan],
    cap: int,
    refresh: Callable[[], object],
    pool: ProcessPoolExecutor,
) -> None:
    tags = inv.run_tags(cap)
    pending: set[Future[RunOutcome]] = {
        pool.submit(run_symbol_day, inv.date, p.symbol, p.assets, tags) for p in todo
    }
    while pending:
        done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
        for future in done:
            if future.exception() is not None:
                # A worker that died (OOM, signal) leaves its run to the orphan recovery of
                # the next invocation; the ledger shows it as failed or running.
                print(f"worker error: {future.exception()!r}")
        refresh()
