"""The daily schedule: the last complete day for every active symbol that does not have it,
or has it made from another data source or method than the current configuration's."""

import dagster as dg

from resources.deployment import deployment_settings
from resources.market_data import MarketDataResource
from resources.method import current_of
from resources.promotion import PromotionResource
from resources.training import CostModelResource, TrainingResource
from retrain_assets.core.data.dates import last_complete_utc_day
from retrain_assets.core.model.provenance import Current, stale_reason
from retrain_assets.defs.jobs import retrain_job
from retrain_assets.defs.provenance import recorded_provenance
from retrain_assets.defs.records import latest_metadata_by_partition
from retrain_assets.defs.universe import active_symbols
from retrain_assets.vocabulary.keys import run_key, symbol_day_key
from retrain_assets.vocabulary.tags import MAX_RUNTIME_TAG, RunTags

# Structural like the partitions' start date: read once when the code location loads, from
# its one home (`resources.deployment`).
SCHEDULE_CRON = deployment_settings().schedule_cron


def missing_symbols(
    instance: dg.DagsterInstance, date: str, current: Current | None = None
) -> list[str]:
    """Active symbols without a real `metrics` materialization for `date`, or (with `current`)
    whose `metrics` or `champion` was made from another data source or method."""
    symbols = active_symbols(instance)
    keys = [symbol_day_key(date, s) for s in symbols]
    done = latest_metadata_by_partition(instance, dg.AssetKey("metrics"), keys)
    decided = {}
    if current is not None:
        decided = latest_metadata_by_partition(instance, dg.AssetKey("champion"), keys)
    todo = []
    for symbol, key in zip(symbols, keys, strict=True):
        metrics = done.get(key)
        if not _real_result(metrics):
            todo.append(symbol)
        elif current is not None and _made_another_way(metrics, decided.get(key), current):
            todo.append(symbol)
    return todo


def _made_another_way(metrics: dict | None, champion: dict | None, current: Current) -> bool:
    """The result's provenance is not the current configuration's (or was never recorded)."""
    if stale_reason(recorded_provenance(metrics), current, "metrics") is not None:
        return True
    return champion is not None and (
        stale_reason(recorded_provenance(champion), current, "champion") is not None
    )


def _real_result(metadata: dict | None) -> bool:
    """A `metrics` materialization with its files."""
    return bool(metadata) and "files" in metadata


def max_runtime_s(timeout_minutes: float) -> int:
    """A scheduled run's `dagster/max_runtime`: three training attempts and ten minutes more,
    after which the daemon stops a run the step's own timeout could not."""
    return int(timeout_minutes * 60 * 3 + 600)


def _run_request(
    date: str, symbol: str, tick: str, tags: RunTags, timeout_minutes: float
) -> dg.RunRequest:
    backstop_s = max_runtime_s(timeout_minutes)
    return dg.RunRequest(
        # Run keys de-duplicate forever: the tick time lets a failed day be requested again.
        run_key=run_key(symbol_day_key(date, symbol), tick),
        partition_key=symbol_day_key(date, symbol),
        tags={**tags.to_tags(), MAX_RUNTIME_TAG: str(backstop_s)},
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
    market_data: MarketDataResource,
    training: TrainingResource,
    cost_model: CostModelResource,
    promotion: PromotionResource,
) -> dg.SkipReason | list[dg.RunRequest]:
    """Request one run per symbol still missing yesterday's model (or holding one made another
    way than the current configuration), tagged as one invocation. The runs carry no timeout:
    they train with the `training` resource's, whose default is the deployment's, as is the
    backstop `dagster/max_runtime`."""
    scheduled = context.scheduled_execution_time
    date = last_complete_utc_day(scheduled)
    current = current_of(market_data, training, cost_model, promotion)
    todo = missing_symbols(context.instance, date, current)
    if not todo:
        return dg.SkipReason(f"every active symbol already has {date}, made the current way")
    tick = scheduled.strftime("%Y%m%dT%H%M%SZ")
    total = len(active_symbols(context.instance))
    # The runs sharing this tag are the invocation: the sensors read its size and skips back.
    tags = RunTags(
        invocation=f"schedule-{tick}",
        source="schedule",
        mode="hybrid",
        total_symbols=total,
        skipped=total - len(todo),
    )
    return [_run_request(date, s, tick, tags, training.timeout_minutes) for s in todo]
