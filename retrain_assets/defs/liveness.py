"""Failing the runs of a launcher that died, and freeing their pool slots.

Dagster's run monitoring watches only runs that a run launcher started. Runs the CLI executes
in its own worker processes carry the path of a lock file that the CLI holds while it lives
(`LOCK_TAG`); once that lock can be taken, the CLI and its workers are gone (SIGKILL, OOM,
a closed laptop), so their unfinished runs are failed (or, when a cancel was asked, canceled)
and their `train` slots freed for everyone else.
"""

import dagster as dg

from retrain_assets.adapters.locks import holder_gone
from retrain_assets.defs.records import ACTIVE_STATUSES
from retrain_assets.vocabulary.tags import LOCK_TAG, tag_value

CANCELING = dg.DagsterRunStatus.CANCELING


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the active runs whose launcher's lock is free; return their run ids."""
    released = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=list(ACTIVE_STATUSES))):
        run = record.dagster_run
        lock = tag_value(run.tags, LOCK_TAG)
        if not lock or holder_gone(lock) is not True:
            continue
        message = "the process that ran this run is gone (killed); run abandoned"
        end_abandoned_run(instance, run, message, canceled=run.status == CANCELING)
        released.append(run.run_id)
    return released


def end_abandoned_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, message: str, canceled: bool
) -> None:
    """Record a run whose process is gone as failed (or canceled), and free its pool slots.

    No public API does this: Dagster's run monitoring ends such runs only for runs a run
    launcher started, through `DagsterInstance.report_run_failed` / `report_run_canceled` and
    `free_concurrency_slots_for_run` on the event log storage, which this calls in the same
    way for the CLI's own worker processes.
    """
    if canceled:
        instance.report_run_canceled(run, message=message)
    else:
        instance.report_run_failed(run, message=message)
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def mark_canceling(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str) -> None:
    """Record that the run is being canceled, so that Dagster ends it CANCELED, not FAILED.

    `DagsterInstance.report_run_canceling` is what Dagster's own termination calls; no public
    API sets CANCELING for a run executing in a process the caller owns.
    """
    instance.report_run_canceling(run, message=message)
