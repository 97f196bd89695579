"""Recovering runs whose worker process died (SIGKILL, OOM, a closed laptop).

Such a run stays STARTED forever and keeps its `train` pool slot, which would shrink the cap
for every later run. A run started by this machine's engine carries its worker's pid; when that
process is gone, the run is marked failed and its slots are freed.
"""

import socket

import dagster as dg

from retrain_assets.engine.processes import pid_alive
from retrain_assets.engine.runner import WORKER_HOST_TAG, WORKER_PID_TAG

_ACTIVE = [
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def recover_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail and free the slots of this host's engine runs whose worker is gone."""
    host = socket.gethostname()
    recovered = []
    for run in instance.get_runs(dg.RunsFilter(statuses=_ACTIVE)):
        pid = run.tags.get(WORKER_PID_TAG)
        if run.tags.get(WORKER_HOST_TAG) != host or not pid or pid_alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"worker process {pid} died; run abandoned")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
    return recovered
