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
from retrain_assets.defs.tags import LOCK_TAG, tag_value


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the active runs whose launcher's lock is free; return their run ids."""
    released = []
    for run in instance.get_runs(dg.RunsFilter(statuses=list(ACTIVE_STATUSES))):
        lock = tag_value(run.tags, LOCK_TAG)
        if not lock or holder_gone(lock) is not True:
            continue
        message = "the process that ran this run is gone (killed); run abandoned"
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message=message)
        else:
            instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released
