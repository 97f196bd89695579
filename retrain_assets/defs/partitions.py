"""Partitions: daily UTC date x dynamic symbol; one run materializes one symbol-day."""

import warnings

import dagster as dg

from resources.deployment import deployment_settings
from retrain_assets.defs.tags import (
    CONCURRENCY_TAG,
    DRY_RUN_TAG,
    INVOCATION_TAG,
    TIMEOUT_TAG,
    is_dry_run,
)

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


def partition_key(date: str, symbol: str) -> dg.MultiPartitionKey:
    """The `date|symbol` key of one symbol-day."""
    return dg.MultiPartitionKey({"date": date, "symbol": symbol})


def split_partition_key(key: str) -> tuple[str, str]:
    """(date, symbol) of a `YYYY-MM-DD|SYMBOL` key (dimensions are sorted by name)."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return dims["date"], dims["symbol"]
    date, _, symbol = str(key).partition("|")
    return date, symbol


# The run tags are defined in `defs/tags.py`; these names stay importable from here.
__all__ = [
    "CONCURRENCY_TAG",
    "DRY_RUN_TAG",
    "EVERY_SYMBOL_OF_THE_DATE",
    "INVOCATION_TAG",
    "RETRAIN_JOB",
    "START_DATE",
    "SUMMARY_JOB",
    "SYMBOLS",
    "TIMEOUT_TAG",
    "TRAIN_POOL",
    "date_partitions",
    "is_dry_run",
    "partition_key",
    "split_partition_key",
    "symbol_day_partitions",
    "symbol_partitions",
]
