"""The `features` asset: the feature frame and its purged train/validation/test split."""

import time
from collections.abc import Generator, Iterator

import dagster as dg
import pandas as pd

from resources.artifact_io import ArtifactRootResource
from resources.market_data import MarketDataResource
from resources.method import current_of
from resources.training import TrainingResource
from retrain_assets.core.data.bars import BarsReport
from retrain_assets.core.data.data_checks import (
    DATA_CHECK_NAMES,
    CheckOutcome,
    bar_checks,
    failed_errors,
    no_bars,
    usable_rows,
)
from retrain_assets.core.data.gaps import BarsQuality, assess_bars
from retrain_assets.core.errors import DataSourceError, InsufficientHistoryError
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles, json_bytes, parquet_bytes
from retrain_assets.core.model.drift import DriftReport, feature_drift, measure_drift
from retrain_assets.core.model.feature_rows import RowAccount, account_rows
from retrain_assets.core.model.features import FEATURE_NAMES
from retrain_assets.core.model.provenance import bars_sha256
from retrain_assets.defs.assets.checks import check_result, check_spec
from retrain_assets.defs.assets.common import (
    IO_MANAGER_KEY,
    RETRAIN_GROUP,
    day_end,
    permanent_errors_fail_fast,
)
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.defs.provenance import provenance_metadata, versioned_output
from retrain_assets.defs.telemetry import StageReport, stage
from retrain_assets.vocabulary.keys import split_partition_key


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key=IO_MANAGER_KEY,
    group_name=RETRAIN_GROUP,
    kinds={"pandas"},
    check_specs=[
        *(check_spec(name, "features", blocking=True) for name in DATA_CHECK_NAMES),
        check_spec("feature_drift", "features"),
    ],
)
def features(
    context: dg.AssetExecutionContext,
    market_data: MarketDataResource,
    training: TrainingResource,
    artifacts: ArtifactRootResource,
) -> Iterator[dg.Output[ArtifactFiles] | dg.AssetCheckResult]:
    """Features and labels of one symbol-day (features.parquet, split_indices.json).

    Bars end at the close of the partition's date; features use bars up to t only, and the
    train / validation / test segments are separated by a purge gap of at least the horizon.

    The data checks (freshness, gaps and duplicates, usable rows, zero volume, price sanity)
    are blocking: one failing with ERROR means the features are never published, the step
    fails with the checks named, and nothing downstream (model, ledger, champion) runs, so a
    bad feed cannot reach the pointer. `feature_drift` is reported, never blocking: drift is
    a reason to look and is named in the day's message, not a broken feed.

    Records its provenance (source, the sha256 of the bar window read, the method) and
    returns the bars' fingerprint under its method as its data version, so Dagster marks the
    model and what follows stale when either changes.
    """
    date, symbol = split_partition_key(context.partition_key)
    with (
        stage(context, artifacts.layout().root, "features") as timing,
        permanent_errors_fail_fast(),
    ):
        bars, report, checks = yield from _checked_bars(
            market_data, (date, symbol), training.lookback_days, timing
        )
        quality = assess_bars(bars, report, day_end(date))
        for warning in quality.warnings:
            context.log.warning(f"{date}: {warning}")
        try:
            frame, splits = training.feature_set(bars, symbol)
        except InsufficientHistoryError as exc:
            yield from (check_result(c) for c in [*checks, usable_rows(exc.found, exc.needed)])
            raise
    checks.append(usable_rows(int(frame["label"].notna().sum()), training.rows_needed()))
    account = account_rows(bars, frame, training.horizon_bars)
    train = splits.row_ranges()["train"]
    drift_report = measure_drift(frame, train, FEATURE_NAMES, day_end(date))
    drift = feature_drift(drift_report)
    files = {
        "features.parquet": parquet_bytes(frame),
        "split_indices.json": json_bytes(splits.to_json_dict()),
    }
    made = current_of(market_data, training).provenance("features", bars_sha256(bars))
    metadata = {
        **provenance_metadata(made),
        **_metadata(len(frame), report, quality, account, drift_report),
        **timing.metadata(),
    }
    yield versioned_output(ArtifactFiles(files), metadata, made)
    for outcome in [*checks, drift]:
        yield check_result(outcome)


def _checked_bars(
    market_data: MarketDataResource,
    partition: tuple[str, str],
    lookback_days: int,
    timing: StageReport,
) -> Generator[dg.AssetCheckResult, None, tuple[pd.DataFrame, BarsReport, list[CheckOutcome]]]:
    """Load the symbol's bars up to the date's close and run the blocking data checks.

    Returns the bars, their report and the checks' outcomes when none is an ERROR. Otherwise
    it yields every check's result (only the freshness check's when the source has no bars)
    and raises, so the step fails with the checks named and no features are published.
    """
    date, symbol = partition
    loading = time.perf_counter()
    try:
        bars, report = market_data.bar_source().load(
            symbol, day_end(date), pd.Timedelta(days=lookback_days)
        )
    except DataSourceError as exc:  # no bars at all: the freshness check says so
        yield check_result(no_bars(str(exc)))
        raise
    timing.extra["load_seconds"] = time.perf_counter() - loading
    checks = list(bar_checks(bars, report, day_end(date)))
    if failed := failed_errors(checks):
        yield from (check_result(c) for c in checks)
        raise _refusal(failed)
    return bars, report, checks


def _refusal(failed: tuple[CheckOutcome, ...]) -> dg.Failure:
    """The step's failure when a blocking data check is an ERROR: no features are published."""
    reasons = "; ".join(f"{c.name}: {c.description}" for c in failed)
    return dg.Failure(
        description=f"data checks failed: {reasons}",
        metadata={
            "error_type": "DataCheckFailed",
            "failed_checks": ", ".join(c.name for c in failed),
        },
        allow_retries=False,
    )


def _metadata(
    rows: int,
    report: BarsReport,
    quality: BarsQuality,
    account: RowAccount,
    drift: DriftReport,
) -> dict[str, dg.MetadataValue]:
    """What the bars were and what gaps, duplicates and warm-up cost; each feature's PSI
    and its drift limits."""
    return {
        "rows": dg.MetadataValue.int(rows),
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
        "psi": dg.MetadataValue.json(drift.psi()),
        "psi_limits": dg.MetadataValue.json(drift.limits()),
    }
