"""Partitions: daily UTC date x dynamic symbol; one run materializes one symbol-day."""

import dagster as dg

from retrain_assets.engine.dates import first_partition_date

# Structural, not a secret: the first date decides the partition space, so it is read once
# when the code location loads.
START_DATE = first_partition_date()

SYMBOLS = "symbols"
symbol_partitions = dg.DynamicPartitionsDefinition(name=SYMBOLS)
date_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
symbol_day_partitions = dg.MultiPartitionsDefinition(
    {"date": date_partitions, "symbol": symbol_partitions}
)

DRY_RUN_TAG = "retrain/dry_run"
CONCURRENCY_TAG = "retrain/max_concurrent"
TIMEOUT_TAG = "retrain/timeout_minutes"
INVOCATION_TAG = "retrain/invocation"
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


def is_dry_run(tags: dict[str, str]) -> bool:
    """Whether a run was launched as a dry run (tiny training budget, nothing uploaded)."""
    return tags.get(DRY_RUN_TAG, "false").lower() == "true"
