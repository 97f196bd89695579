"""The `features` asset: the feature frame and its purged train/validation/test split."""

import time

import dagster as dg
import pandas as pd

from resources.artifact_io import ArtifactRootResource
from resources.market_data import MarketDataResource
from resources.training import TrainingResource
from retrain_assets.core.artifacts import ArtifactFiles, json_bytes, parquet_bytes
from retrain_assets.core.feature_rows import account_rows
from retrain_assets.core.gaps import assess_bars
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    day_end,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.partitions import split_partition_key, symbol_day_partitions
from retrain_assets.defs.telemetry import stage


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key=IO_MANAGER_KEY,
    group_name=RETRAIN_GROUP,
    kinds={"pandas"},
)
def features(
    context: dg.AssetExecutionContext,
    market_data: MarketDataResource,
    training: TrainingResource,
    artifacts: ArtifactRootResource,
) -> dg.Output[ArtifactFiles]:
    """Features and labels of one symbol-day (features.parquet, split_indices.json).

    Bars end at the close of the partition's date; features use bars up to t only, and the
    train / validation / test segments are separated by a purge gap of at least the horizon.
    Gaps near the date and conflicting duplicate bars are logged warnings, past
    `core.gaps.GapPolicy` a failure of the symbol; the metadata says what gaps cost.
    """
    date, symbol = split_partition_key(context.partition_key)
    with (
        stage(context, artifacts.layout().root, "features") as timing,
        permanent_errors_fail_fast(),
    ):
        loading = time.perf_counter()
        bars, report = market_data.bar_source().load(
            symbol, day_end(date), pd.Timedelta(days=training.lookback_days)
        )
        timing.extra["load_seconds"] = time.perf_counter() - loading
        quality = assess_bars(bars, report, day_end(date))
        for warning in quality.warnings:
            context.log.warning(f"{date}: {warning}")
        frame, splits = training.feature_set(bars, symbol)
    account = account_rows(bars, frame, training.horizon_bars)
    files = {
        "features.parquet": parquet_bytes(frame),
        "split_indices.json": json_bytes(splits.to_json_dict()),
    }
    return dg.Output(
        ArtifactFiles(files),
        metadata={
            "rows": dg.MetadataValue.int(len(frame)),
            "bars": dg.MetadataValue.int(report.rows),
            "dropped_invalid": dg.MetadataValue.int(report.dropped_invalid),
            "dropped_duplicates": dg.MetadataValue.int(report.dropped_duplicates),
            "gaps": dg.MetadataValue.int(report.gaps),
            "longest_gap_hours": dg.MetadataValue.int(report.longest_gap),
            "conflicting_duplicates": dg.MetadataValue.int(report.conflicting_duplicates),
            "rows_lost_to_gaps": dg.MetadataValue.int(account.near_gaps),
            "rows_lost_to_warmup": dg.MetadataValue.int(account.warmup),
            "data_warnings": dg.MetadataValue.int(len(quality.warnings)),
            "data_quality": dg.MetadataValue.json(
                {**quality.to_json_dict(), "rows": account.to_json_dict()}
            ),
            **timing.metadata(),
        },
    )
