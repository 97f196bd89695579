"""Refreshes a date's engine summary when a backfill or schedule tick for it finishes.

The CLI refreshes the summary itself at the end of an invocation; runs launched by the daemon
have no such end, so this sensor watches invocations and backfills and requests the summary
job once each finishes (the run key makes it once).
"""

import time

import dagster as dg
import pandas as pd

from retrain_assets.defs.jobs import summary_job
from retrain_assets.engine.notify_views import recent_views

MAX_AGE_S = 2 * 24 * 3600


def dates_of(view_date: str) -> list[str]:
    """The dates a view covers: one date, or every day of a `first..last` range."""
    first, _, last = view_date.partition("..")
    try:
        days = pd.date_range(first, last or first, freq="D")
    except ValueError:
        return []
    return [d.date().isoformat() for d in days]


@dg.sensor(
    job=summary_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refresh engine_summary for each date whose backfill or schedule tick finished.",
)
def engine_summary_sensor(context: dg.SensorEvaluationContext) -> list[dg.RunRequest]:
    """One summary run per finished invocation and date (CLI invocations refresh their own)."""
    requests = []
    for view in recent_views(context.instance, time.time(), MAX_AGE_S):
        if view.finished_at is None or view.key.startswith(("cli:", "api:")):
            continue
        for date in dates_of(view.date):
            requests.append(dg.RunRequest(run_key=f"summary|{view.key}|{date}", partition_key=date))
    return requests
