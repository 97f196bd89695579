"""One invocation: check everything, plan the date, run its symbol-days, report.

The CLI and the Python API both come through `run_invocation`; the runs it launches share one
`retrain/invocation` tag, and those runs are the invocation's only record.
"""

import multiprocessing
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import dagster as dg

from retrain_assets.adapters.hardware import Hardware, detect_hardware
from retrain_assets.adapters.locks import FileLock
from retrain_assets.core.lifecycle.artifacts import ArtifactLayout
from retrain_assets.defs.liveness import end_abandoned_run, mark_canceling, release_dead_runs
from retrain_assets.defs.records import ACTIVE_STATUSES
from retrain_assets.launcher.config import SchedulerConfig, concurrency_ceiling
from retrain_assets.launcher.interrupts import ExitNow, Interrupts
from retrain_assets.launcher.ledger import DateRecords, InvocationLedger, StatusFile
from retrain_assets.launcher.local import LocalPool
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.progress import ProgressFn
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.launcher.watchdog import start_watchdog, stop_watchdog
from retrain_assets.vocabulary.tags import (
    INVOCATION_TAG,
    PARTITION_TAG,
    WORKER_PID_TAG,
    RunTags,
    Source,
    tag_value,
)

CANCEL_GRACE_S = 60.0
EXIT_INTERRUPTED = 130


@dataclass
class Invocation:
    """One invocation's facts while it runs."""

    date: str
    symbols: list[str]
    config: SchedulerConfig
    instance: dg.DagsterInstance
    layout: ArtifactLayout
    hardware: Hardware = field(default_factory=detect_hardware)
    source: Source = "cli"
    invocation_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = field(default_factory=time.monotonic)
    interrupted: bool = False
    exit_now: bool = False  # a second signal: no summary, no completion message
    pending_uploads: dict[str, object] | None = None  # uploads earlier runs left, done at start

    @property
    def locks_dir(self) -> Path:
        """Where the invocation and partition locks live (next to the instance)."""
        return Path(self.instance.root_directory) / "retrain-locks"

    @property
    def status_path(self) -> Path:
        """runs/YYYYMMDDZ/status.json under the invocation's artifact root (a dry run's own)."""
        return self.layout.status_file(self.date)

    def status_file(self, workers: int) -> StatusFile:
        """The date's status export, written in turns with other invocations of the date."""
        return StatusFile(
            self.status_path,
            self.header(workers),
            records=DateRecords(self.instance, self.date),
            lock=self.locks_dir / f"status-{self.date}.lock",
        )

    def header(self, workers: int) -> dict[str, object]:
        """The invocation facts at the top of status.json."""
        return {
            "date": self.date,
            "invocation": self.invocation_id,
            "source": self.source,
            "mode": str(self.config.mode),
            "max_concurrent": workers,
            "dry_run": self.config.dry_run,
            "force": self.config.force,
            **({"pending_uploads": self.pending_uploads} if self.pending_uploads else {}),
        }

    def run_tags(self, plans: list[SymbolPlan], workers: int, lock: str | None) -> RunTags:
        """The tags every run of this invocation carries."""
        return RunTags(
            invocation=self.invocation_id,
            source=self.source,
            mode=str(self.config.mode),
            dry_run=self.config.dry_run,
            driver=self.config.driver,
            timeout_minutes=self.config.timeout_minutes,
            max_concurrent=workers,
            total_symbols=len(plans),
            skipped=sum(1 for p in plans if p.skipped),
            lock=lock,
        )


def execute_locally(
    inv: Invocation,
    plans: list[SymbolPlan],
    specs_for: Callable[[RunTags], list[RunSpec]],
    progress: ProgressFn | None,
    workers: int,
) -> dict[str, SymbolStatus]:
    """Run the planned symbol-days in `workers` local processes, holding the invocation's lock."""
    lock = FileLock(inv.locks_dir / f"invocation-{inv.invocation_id}.lock")
    lock.acquire()
    watchdog = start_watchdog(lock.path)
    try:
        specs = specs_for(inv.run_tags(plans, workers, str(lock.path)))
        ledger = InvocationLedger(inv.instance, inv.invocation_id, plans)
        status_file = inv.status_file(workers)
        pool = LocalPool(workers, str(inv.locks_dir))

        def tick() -> None:
            statuses = ledger.refresh()
            status_file.write(statuses)
            if progress is not None:
                progress(statuses, time.monotonic() - inv.started)

        tick()
        with Interrupts() as interrupts:
            try:
                pool.run(specs, tick, lambda: interrupts.requested, partial(_dead_worker, inv))
                if interrupts.requested:
                    _cancel(inv, pool, tick)
            except ExitNow:
                inv.exit_now = True
                _cancel(inv, pool, tick, grace_s=0.0)
            inv.interrupted = interrupts.requested
        for symbol, why in pool.busy_elsewhere.items():
            ledger.mark(symbol, status="skipped", skip_reason=why)
        statuses = ledger.refresh()
        status_file.write(statuses, final=True, from_records=frozenset(pool.busy_elsewhere))
        if progress is not None:
            progress(statuses, time.monotonic() - inv.started)
        return statuses
    finally:
        stop_watchdog(watchdog)
        lock.release()


def local_workers(inv: Invocation, plans: list[SymbolPlan]) -> int:
    """Processes for the invocation: its mode and cap, the ceiling, the operator's pool."""
    todo = sum(1 for p in plans if not p.skipped)
    ceiling = concurrency_ceiling(inv.hardware)
    return min(inv.config.workers(inv.hardware, todo, ceiling), pool_limit(inv.instance))


def pool_limit(instance: dg.DagsterInstance) -> int:
    """The operator's `train` pool limit: more local workers would only poll for a slot."""
    from retrain_assets.defs.partitions import train_pool_limit

    limit = train_pool_limit(instance)
    return max(1, limit) if limit else 1_000_000


def _active_runs(inv: Invocation) -> list[dg.DagsterRun]:
    wanted = dg.RunsFilter(tags={INVOCATION_TAG: inv.invocation_id}, statuses=list(ACTIVE_STATUSES))
    return [record.dagster_run for record in inv.instance.get_run_records(wanted)]


def _cancel(
    inv: Invocation, pool: LocalPool, tick: Callable[[], None], grace_s: float = CANCEL_GRACE_S
) -> None:
    """Cancel the running runs: CANCELING in the instance, then one SIGINT to each's worker.

    Dagster ends an interrupted run whose status is CANCELING as CANCELED, without retries.
    A run is canceled once it has STARTED: only then is Dagster's interrupt handler in place,
    and only then can its start no longer overwrite CANCELING (which would end it FAILED).
    Workers that outlive the grace period are killed and their runs marked canceled.
    """
    deadline = time.monotonic() + grace_s
    while multiprocessing.active_children() and time.monotonic() < deadline:
        for run in _active_runs(inv):
            if run.status == dg.DagsterRunStatus.STARTED:
                mark_canceling(inv.instance, run, "interrupted (Ctrl-C / SIGTERM)")
                pool.interrupt_worker(tag_value(run.tags, WORKER_PID_TAG), signal.SIGINT)
        time.sleep(0.2)
        tick()
    pool.interrupt_workers(signal.SIGKILL)
    for run in _active_runs(inv):
        end_abandoned_run(inv.instance, run, "interrupted; the worker was stopped", canceled=True)


def _dead_worker(inv: Invocation, pid: int, spec: RunSpec) -> bool:
    """A worker died (killed or OOM): fail its run if still active and free its slots.

    True when the symbol-day should run again: its run never finished (or never began).
    """
    records = inv.instance.get_run_records(
        dg.RunsFilter(
            tags={
                INVOCATION_TAG: inv.invocation_id,
                WORKER_PID_TAG: str(pid),
                PARTITION_TAG: spec.partition_key,
            }
        )
    )
    if not records:
        return True
    run = records[0].dagster_run
    if run.status in ACTIVE_STATUSES:
        end_abandoned_run(
            inv.instance, run, "its worker process died (killed or OOM)", canceled=False
        )
        return True
    return False


def register_partitions(instance: dg.DagsterInstance, symbols: list[str]) -> None:
    """Add the symbols that are not partitions yet."""
    from retrain_assets.defs.partitions import SYMBOLS

    known = set(instance.get_dynamic_partitions(SYMBOLS))
    missing = [s for s in symbols if s not in known]
    if missing:
        instance.add_dynamic_partitions(SYMBOLS, missing)


def prepare(inv: Invocation) -> None:
    """Register the partitions and release the runs of launchers that died."""
    register_partitions(inv.instance, inv.symbols)
    release_dead_runs(inv.instance)
