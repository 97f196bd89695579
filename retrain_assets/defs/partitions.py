"""Partitions: daily UTC date x dynamic symbol; one run materializes one symbol-day."""

import warnings

import dagster as dg

from resources.deployment import deployment_settings

# Structural, not a secret: the first date decides the partition space, so it is read once
# when the code location loads, from its one home (`resources.deployment`), which the CLI, the
# webserver, the daemon and the run workers all read.
START_DATE = deployment_settings().start_date

SYMBOLS = "symbols"
symbol_partitions = dg.DynamicPartitionsDefinition(name=SYMBOLS)
date_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
symbol_day_partitions = dg.MultiPartitionsDefinition(
    {"date": date_partitions, "symbol": symbol_partitions}
)

with warnings.catch_warnings():
    # Beta in Dagster 1.13.
    warnings.simplefilter("ignore", dg.BetaWarning)
    # A per-date asset reads every symbol of its date.
    EVERY_SYMBOL_OF_THE_DATE = dg.MultiToSingleDimensionPartitionMapping(
        partition_dimension_name="date"
    )

TRAIN_POOL = "train"
RETRAIN_JOB = "retrain_symbol_day"
SUMMARY_JOB = "engine_summary_job"


def train_pool_limit(instance: dg.DagsterInstance) -> int | None:
    """The `train` pool's limit: its slots, else the instance's default for a pool not
    claimed yet; None when unlimited.

    It reads `get_concurrency_info` on the event log storage and the instance's
    `get_concurrency_config`, neither in Dagster's public API: no public API reads a pool's
    limit (Dagster's UI and `dagster instance concurrency get` read it the same way).
    """
    limit = instance.event_log_storage.get_concurrency_info(TRAIN_POOL).slot_count
    if not limit:
        limit = instance.get_concurrency_config().pool_config.default_pool_limit
    return limit or None
