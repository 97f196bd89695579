"""Refreshes `engine_summary` for each date of a schedule tick or backfill after it finishes.

The launcher refreshes the summary itself at the end of its invocations; runs launched by the
daemon have no such end, so this sensor watches the other invocations and requests the
summary job once each finishes (the run key makes it once).
"""

import time

import dagster as dg

from retrain_assets.defs.invocations import dates_of, recent_views
from retrain_assets.defs.jobs import summary_job
from retrain_assets.vocabulary.keys import run_key

MAX_AGE_S = 2 * 24 * 3600


@dg.sensor(
    job=summary_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refresh engine_summary for each date whose backfill or schedule tick finished.",
)
def engine_summary_sensor(context: dg.SensorEvaluationContext) -> list[dg.RunRequest]:
    """One summary run per finished schedule tick or backfill, and date."""
    requests = []
    for view in recent_views(context.instance, time.time(), MAX_AGE_S):
        if view.finished_at is None or view.self_reporting:
            continue
        for date in dates_of(view.date):
            key = run_key("summary", view.key, date)
            requests.append(dg.RunRequest(run_key=key, partition_key=date))
    return requests
