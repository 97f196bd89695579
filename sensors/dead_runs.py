"""Fails runs whose launching process died, so their pool slots free up within seconds."""

import dagster as dg

from retrain_assets.defs.liveness import release_dead_runs


@dg.sensor(
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fail CLI runs whose process was killed and free their `train` pool slots.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """One sweep of the instance's active runs."""
    released = release_dead_runs(context.instance)
    if released:
        context.log.warning(f"failed {len(released)} run(s) of a dead launcher: {released}")
    return dg.SkipReason(f"{len(released)} run(s) of a dead launcher failed")
