"""Running symbol-day runs on this machine: `dg.execute_job` in a plain pool of processes.

Each worker is forked from the launcher after it has imported Dagster, CatBoost and the
definitions, so a worker starts warm and a symbol-day costs one in-process run (~0.4 s of
orchestration) against the persistent instance. Three small things Dagster does not do for
runs that no run launcher started, each kept here:

- workers sit in their own process group and die with the launcher (`PR_SET_PDEATHSIG`), so a
  terminal's Ctrl-C reaches only the launcher, which cancels the runs through the instance;
- the invocation's lock file stays locked while the launcher lives; the `dead_runs_sensor`
  (and the next launcher) fail the runs of a launcher whose lock is free;
- each symbol-day holds a per-partition file lock while it runs, so two launchers on one
  `DAGSTER_HOME` never train the same symbol-day at once.
"""

import ctypes
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from retrain_assets.core.locks import FileLock
from retrain_assets.defs.records import ACTIVE_STATUSES
from retrain_assets.defs.tags import INVOCATION_TAG, PARTITION_TAG
from retrain_assets.launcher.jobs import job_for
from retrain_assets.launcher.runs import RunSpec

WORKER_PID_TAG = "retrain/worker_pid"
# The launcher prints its own progress; every event still goes to the instance's event log.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
_PR_SET_PDEATHSIG = 1
MAX_POOL_RESTARTS = 3
TICK_S = 0.5
ONE_DAY = timedelta(days=1)


def _init_worker(launcher_pid: int) -> None:
    """Own process group (Ctrl-C goes to the launcher only); die with the launcher."""
    os.setpgid(0, 0)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the dead-runs sensor still fails our runs
        pass
    if os.getppid() != launcher_pid:  # the launcher died before prctl took effect
        raise SystemExit(1)


_INSTANCE: list[dg.DagsterInstance] = []


def _worker_instance() -> dg.DagsterInstance:
    """The persistent instance, opened once per worker process (not once per run)."""
    if not _INSTANCE:
        _INSTANCE.append(dg.DagsterInstance.get())
    return _INSTANCE[0]


@dataclass(frozen=True)
class Executed:
    """What a worker did with a spec: its run, or why another run has the symbol-day."""

    run_id: str | None
    elsewhere: str | None = None


def execute_symbol_day(spec: RunSpec, locks_dir: str, planned_at: float) -> Executed:
    """Execute one symbol-day in this process, unless another run has it or just did it."""
    instance = _worker_instance()
    with FileLock(Path(locks_dir) / (spec.partition_key.replace("|", "_") + ".lock")):
        elsewhere = _taken_elsewhere(instance, spec, planned_at)
        if elsewhere is not None:
            return Executed(None, elsewhere)
        result = dg.execute_job(
            dg.reconstructable(job_for(spec.job_name)),
            instance=instance,
            run_config=QUIET_CONSOLE,
            tags={**spec.run_tags(), WORKER_PID_TAG: str(os.getpid())},
            asset_selection=[dg.AssetKey(list(k)) for k in spec.asset_keys],
            raise_on_error=False,
        )
    return Executed(result.run_id)


def _taken_elsewhere(instance: dg.DagsterInstance, spec: RunSpec, planned_at: float) -> str | None:
    """Why another invocation (or a backfill) has this symbol-day: it runs it now, or did
    since this one planned it; None when it is ours to run."""
    records = instance.get_run_records(
        dg.RunsFilter(
            tags={PARTITION_TAG: spec.partition_key},
            statuses=[*ACTIVE_STATUSES, dg.DagsterRunStatus.SUCCESS],
            created_after=datetime.fromtimestamp(planned_at, UTC) - ONE_DAY,
        )
    )
    mine = spec.tags.get(INVOCATION_TAG)
    for record in records:
        run = record.dagster_run
        if run.tags.get(INVOCATION_TAG) == mine or run.job_name != spec.job_name:
            continue
        if run.status != dg.DagsterRunStatus.SUCCESS:
            return f"being trained now by run {run.run_id[:8]} of another invocation"
        if record.end_time and record.end_time >= planned_at:
            return f"trained meanwhile by run {run.run_id[:8]} of another invocation"
    return None


class LocalPool:
    """Runs specs in up to `workers` forked processes, surviving a worker that dies."""

    def __init__(self, workers: int, locks_dir: str) -> None:
        self.workers = max(1, workers)
        self.locks_dir = locks_dir
        self.busy_elsewhere: dict[str, str] = {}  # symbol -> why another run has it
        self.planned_at = time.time()
        self._pool: ProcessPoolExecutor | None = None

    def run(
        self,
        specs: list[RunSpec],
        tick: Callable[[], None],
        stopping: Callable[[], bool],
        on_broken: Callable[[], None],
    ) -> None:
        """Execute every spec; `tick` after each completion and every half second.

        A worker killed from outside (OOM, SIGKILL) breaks the pool: `on_broken` fails the
        runs that were in flight, and the specs not started yet go to a fresh pool.
        """
        todo = list(specs)
        if not todo:
            return
        for _ in range(MAX_POOL_RESTARTS + 1):
            todo = self._run_once(todo, tick, stopping)
            if not todo or stopping():
                return
            on_broken()

    def _run_once(
        self, specs: list[RunSpec], tick: Callable[[], None], stopping: Callable[[], bool]
    ) -> list[RunSpec]:
        """Run `specs` in one pool; return those not started when the pool broke."""
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(specs)),
            mp_context=context,
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        futures: dict[Future[Executed], RunSpec] = {
            self._pool.submit(execute_symbol_day, s, self.locks_dir, self.planned_at): s
            for s in specs
        }
        pending = set(futures)
        not_started: list[RunSpec] = []
        last_tick = 0.0
        try:
            while pending and not stopping():
                done, pending = wait(pending, timeout=TICK_S, return_when=FIRST_COMPLETED)
                for future in done:
                    not_started += self._collect(future, futures[future])
                if time.monotonic() - last_tick >= TICK_S or not pending:
                    tick()  # at most twice a second: each reads every run of the invocation
                    last_tick = time.monotonic()
        finally:
            self.shutdown()
        return not_started

    def _collect(self, future: Future[Executed], spec: RunSpec) -> list[RunSpec]:
        try:
            elsewhere = future.result().elsewhere
            if elsewhere is not None:
                self.busy_elsewhere[spec.symbol] = elsewhere
        except BrokenProcessPool:
            return [spec]
        except Exception as exc:  # a worker-side error outside the run: report, go on
            print(f"worker error for {spec.symbol}: {type(exc).__name__}: {exc}", flush=True)
        return []

    def interrupt_worker(self, pid: str | None, sig: int) -> None:
        """Send `sig` to one worker (by the pid its run is tagged with), if it is ours."""
        ours = {c.pid for c in multiprocessing.active_children()}
        if pid and pid.isdigit() and int(pid) in ours:
            try:
                os.kill(int(pid), sig)
            except ProcessLookupError:
                pass

    def interrupt_workers(self, sig: int = signal.SIGINT) -> None:
        """Send `sig` to every live worker (their runs were marked CANCELING first)."""
        for child in multiprocessing.active_children():
            try:
                os.kill(child.pid or 0, sig)
            except ProcessLookupError:
                pass

    def shutdown(self) -> None:
        """Drop the specs not started and stop the pool without waiting for running ones."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
