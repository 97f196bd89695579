"""The daily schedule: the last complete day for every active symbol that does not have it."""

import os

import dagster as dg

from retrain_assets.core.dates import last_complete_utc_day
from retrain_assets.core.training import DEFAULT_TIMEOUT_MINUTES
from retrain_assets.defs.jobs import retrain_job
from retrain_assets.defs.partitions import partition_key
from retrain_assets.defs.records import latest_metadata_by_partition
from retrain_assets.defs.tags import RunTags
from retrain_assets.defs.universe import active_symbols

# Structural like the partitions' start date: read once when the code location loads.
SCHEDULE_CRON = os.environ.get("RETRAIN_SCHEDULE_CRON") or "0 2 * * *"


def missing_symbols(instance: dg.DagsterInstance, date: str) -> list[str]:
    """Active symbols without a `metrics` materialization (with its files) for `date`."""
    symbols = active_symbols(instance)
    done = latest_metadata_by_partition(
        instance, dg.AssetKey("metrics"), [str(partition_key(date, s)) for s in symbols]
    )
    return [s for s in symbols if "files" not in done.get(str(partition_key(date, s)), {})]


def _run_request(date: str, symbol: str, tick: str, tags: RunTags) -> dg.RunRequest:
    backstop_s = int(DEFAULT_TIMEOUT_MINUTES * 60 * 3 + 600)  # three attempts, then the daemon
    return dg.RunRequest(
        # Run keys de-duplicate forever: the tick time lets a failed day be requested again.
        run_key=f"{date}|{symbol}|{tick}",
        partition_key=str(partition_key(date, symbol)),
        tags={**tags.to_tags(), "dagster/max_runtime": str(backstop_s)},
    )


@dg.schedule(
    cron_schedule=SCHEDULE_CRON,
    execution_timezone="UTC",
    job=retrain_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retrain the last complete UTC day for every active symbol still missing it.",
)
def daily_retrain_schedule(
    context: dg.ScheduleEvaluationContext,
) -> dg.SkipReason | list[dg.RunRequest]:
    """Request one run per symbol still missing yesterday's model, tagged as one invocation."""
    scheduled = context.scheduled_execution_time
    date = last_complete_utc_day(scheduled)
    todo = missing_symbols(context.instance, date)
    if not todo:
        return dg.SkipReason(f"every active symbol already has {date}")
    tick = scheduled.strftime("%Y%m%dT%H%M%SZ")
    total = len(active_symbols(context.instance))
    # The runs sharing this tag are the invocation: the sensors read its size and skips back.
    tags = RunTags(
        invocation=f"schedule-{tick}",
        source="schedule",
        mode="hybrid",
        total_symbols=total,
        skipped=total - len(todo),
        timeout_minutes=DEFAULT_TIMEOUT_MINUTES,
    )
    return [_run_request(date, s, tick, tags) for s in todo]
