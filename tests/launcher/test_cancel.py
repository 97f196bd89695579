"""Ctrl-C's cancel: only runs that have started are interrupted; workers ignore stray SIGINTs.

The race this guards (seen on a slow CI machine): a SIGINT that reached a worker while
`execute_job` was still preparing its run raised a KeyboardInterrupt (a traceback on the
console), and a run marked CANCELING before it started was set back to STARTED by its own
start event, so Dagster ended it FAILED. Real processes and a real instance; the helpers stand in
for workers and report how they ended through their exit code.
"""

import multiprocessing
import os
import signal
import time
from pathlib import Path

import dagster as dg

from retrain_assets.core.lifecycle.artifacts import ArtifactLayout
from retrain_assets.launcher.config import SchedulerConfig
from retrain_assets.launcher.invocation import Invocation, _cancel
from retrain_assets.launcher.local import LocalPool, _init_worker
from retrain_assets.vocabulary.tags import INVOCATION_TAG, WORKER_PID_TAG

INTERRUPTED = 7  # a helper's exit code when SIGINT reached it


def _stand_in_worker() -> None:
    signal.signal(signal.SIGINT, lambda *_: os._exit(INTERRUPTED))
    time.sleep(60)


def _start_helper() -> multiprocessing.Process:
    process = multiprocessing.get_context("fork").Process(target=_stand_in_worker)
    process.start()
    return process


def _add_run(inv: Invocation, pid: int, status: dg.DagsterRunStatus) -> str:
    tags = {INVOCATION_TAG: inv.invocation_id, WORKER_PID_TAG: str(pid)}
    run = dg.DagsterRun(job_name="retrain_symbol_day", status=status, tags=tags)
    return inv.instance.add_run(run).run_id


def _canceling_asked(instance: dg.DagsterInstance, run_id: str) -> bool:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_CANCELING)
    return bool(records.records)


def test_cancel_interrupts_started_runs_and_leaves_unstarted_ones_to_the_grace_kill(
    tmp_path: Path,
):
    with dg.instance_for_test() as instance:
        inv = Invocation(
            "2025-05-01", ["BTCUSDT"], SchedulerConfig(), instance, ArtifactLayout(tmp_path)
        )
        started, preparing = _start_helper(), _start_helper()
        started_run = _add_run(inv, started.pid, dg.DagsterRunStatus.STARTED)
        preparing_run = _add_run(inv, preparing.pid, dg.DagsterRunStatus.NOT_STARTED)

        _cancel(inv, LocalPool(2, str(tmp_path)), tick=lambda: None, grace_s=1.0)
        started.join(5)
        preparing.join(5)

        assert started.exitcode == INTERRUPTED
        assert preparing.exitcode == -signal.SIGKILL  # never sent a SIGINT mid-preparation
        assert _canceling_asked(instance, started_run)
        assert not _canceling_asked(instance, preparing_run)
        for run_id in (started_run, preparing_run):
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.CANCELED


def _worker_then_sigint(launcher_pid: int) -> None:
    _init_worker(launcher_pid)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    os._exit(0)


def test_a_worker_outside_a_run_ignores_sigint_instead_of_printing_a_traceback():
    process = multiprocessing.get_context("fork").Process(
        target=_worker_then_sigint, args=(os.getpid(),)
    )
    process.start()
    process.join(10)
    assert process.exitcode == 0
