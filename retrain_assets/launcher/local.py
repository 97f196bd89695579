"""Running symbol-day runs on this machine: `dg.execute_job` in one forked process per run.

Each symbol-day runs in its own process, forked from the launcher after it has imported
Dagster, CatBoost and the definitions, so it starts warm (~0.06 s to fork and open the
instance) and costs one in-process run against the persistent instance, as Dagster's own
run launcher gives each run a process of its own. A process killed from outside (OOM, SIGKILL)
takes only its own run down: that run is failed and its symbol-day run again; the others go on
untouched and are never duplicated. Three small things Dagster does not do for runs that no run
launcher started, each kept here:

- workers sit in their own process group and die with the launcher (`PR_SET_PDEATHSIG`), so a
  terminal's Ctrl-C reaches only the launcher, which cancels the runs through the instance;
- the invocation's lock file stays locked while the launcher lives; a watchdog, the
  `dead_runs_sensor` and the next launcher fail the runs of a launcher whose lock is free;
- each symbol-day holds a per-partition file lock while it runs, so two launchers on one
  `DAGSTER_HOME` never train the same symbol-day at once.
"""

import ctypes
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

import dagster as dg

from retrain_assets.adapters.locks import FileLock
from retrain_assets.defs.records import ACTIVE_STATUSES
from retrain_assets.launcher.jobs import job_for
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.vocabulary.keys import key_file_stem
from retrain_assets.vocabulary.tags import INVOCATION_TAG, PARTITION_TAG, WORKER_PID_TAG

# The launcher prints its own progress, one line per finished symbol; every event (failures'
# stack traces included) still goes to the instance's event log and the JSON logs. Dagster logs
# nothing above ERROR, so CRITICAL keeps its console silent.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
_PR_SET_PDEATHSIG = 1
# A symbol-day whose process died is run again at most this often (Dagster's step retries).
MAX_DEATHS_PER_SPEC = 2
TICK_S = 0.5
ONE_DAY = timedelta(days=1)


def _init_worker(launcher_pid: int) -> None:
    """Own process group (Ctrl-C goes to the launcher only); die with the launcher.

    The launcher's own signal handlers are not the worker's. SIGINT is ignored outside a run:
    while a run executes, Dagster's own handler turns it into the run's cancellation, and the
    launcher sends it only to runs that have started (a KeyboardInterrupt raised while
    `execute_job` prepares the run would print a traceback and fail the run). SIGTERM ends
    the process.
    """
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the dead-runs sensor still fails our runs
        pass
    if os.getppid() != launcher_pid:  # the launcher died before prctl took effect
        os._exit(1)


@dataclass(frozen=True)
class Executed:
    """What a worker did with a spec: its run, or why another run has the symbol-day."""

    run_id: str | None
    elsewhere: str | None = None
    error: str | None = None


def execute_symbol_day(
    instance: dg.DagsterInstance, spec: RunSpec, locks_dir: str, planned_at: float
) -> Executed:
    """Execute one symbol-day in this process, unless another run has it or just did it."""
    with FileLock(Path(locks_dir) / (key_file_stem(spec.partition_key) + ".lock")):
        elsewhere = taken_elsewhere(instance, spec, planned_at)
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


def _worker(spec: RunSpec, locks_dir: str, planned_at: float, conn: Connection, pid: int) -> None:
    """A forked worker's body: run the symbol-day, send back what happened, exit."""
    _init_worker(pid)
    try:
        with dg.DagsterInstance.get() as instance:
            executed = execute_symbol_day(instance, spec, locks_dir, planned_at)
    except Exception as exc:  # outside the run (the run records its own failures)
        executed = Executed(None, error=f"{type(exc).__name__}: {exc}")
    conn.send(executed)
    conn.close()


def taken_elsewhere(instance: dg.DagsterInstance, spec: RunSpec, planned_at: float) -> str | None:
    """Why another run has this symbol-day (any job: a CLI, a UI backfill, the schedule): it
    runs it now, or finished it since this invocation planned it; None when it is ours."""
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
        if run.tags.get(INVOCATION_TAG) == mine:
            continue
        if run.status != dg.DagsterRunStatus.SUCCESS:
            return f"being trained now by run {run.run_id[:8]} ({run.job_name})"
        if record.end_time and record.end_time >= planned_at:
            return f"trained meanwhile by run {run.run_id[:8]} ({run.job_name})"
    return None


@dataclass(frozen=True)
class _Worker:
    process: BaseProcess
    spec: RunSpec
    results: Connection


# What to do when a worker died: given its pid and spec, True to run the spec again.
OnDeath = Callable[[int, RunSpec], bool]


class LocalPool:
    """Runs specs in at most `workers` forked processes at once, one process per spec."""

    def __init__(self, workers: int, locks_dir: str) -> None:
        self.workers = max(1, workers)
        self.locks_dir = locks_dir
        self.busy_elsewhere: dict[str, str] = {}  # symbol -> why another run has it
        self.planned_at = time.time()
        self._deaths: Counter[str] = Counter()

    def run(
        self,
        specs: list[RunSpec],
        tick: Callable[[], None],
        stopping: Callable[[], bool],
        on_death: OnDeath,
    ) -> None:
        """Execute every spec; `tick` every half second and once all are done.

        Returns when all are done or `stopping()` holds; the workers still running then are
        the caller's to cancel. A worker killed from outside affects only its own spec.
        """
        queue = deque(specs)
        running: dict[int, _Worker] = {}
        last_tick = 0.0
        while (queue or running) and not stopping():
            while queue and len(running) < self.workers:
                worker = self._start(queue.popleft())
                running[worker.process.pid or 0] = worker
            ended = wait([w.process.sentinel for w in running.values()], timeout=TICK_S)
            for pid, worker in list(running.items()):
                if worker.process.sentinel in ended:
                    del running[pid]
                    queue.extend(self._collect(pid, worker, on_death))
            if time.monotonic() - last_tick >= TICK_S or not (queue or running):
                tick()  # at most twice a second: each reads every run of the invocation
                last_tick = time.monotonic()

    def _start(self, spec: RunSpec) -> _Worker:
        receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
        process = multiprocessing.get_context("fork").Process(
            target=_worker,
            args=(spec, self.locks_dir, self.planned_at, send, os.getpid()),
            name=f"retrain-{spec.symbol}",
        )
        process.start()
        send.close()
        return _Worker(process, spec, receive)

    def _collect(self, pid: int, worker: _Worker, on_death: OnDeath) -> list[RunSpec]:
        """What a finished worker did; the spec again when it died and should be rerun."""
        worker.process.join()
        try:
            executed: Executed | None = worker.results.recv()
        except EOFError:  # killed before it could answer (OOM, SIGKILL)
            executed = None
        worker.results.close()
        spec = worker.spec
        if executed is None:
            self._deaths[spec.partition_key] += 1
            again = on_death(pid, spec)  # always: it fails the dead worker's run
            retry = self._deaths[spec.partition_key] <= MAX_DEATHS_PER_SPEC
            return [spec] if again and retry else []
        if executed.elsewhere is not None:
            self.busy_elsewhere[spec.symbol] = executed.elsewhere
        if executed.error is not None:
            print(f"  {spec.symbol}: worker error: {executed.error}", flush=True)
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
