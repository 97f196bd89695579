"""The features asset's data checks through a real instance: a stale feed stops the symbol-day.

Crafted data: STALEUSDT's bars stop 6 hours before the date's close, FRESHUSDT's reach it,
NANUSDT's reach it with six hours of NaN open and close prices on the date.
"""

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.model.features import FEATURE_NAMES
from retrain_assets.definitions import defs
from retrain_assets.defs.records import failure_of
from retrain_assets.vocabulary.keys import partition_key
from tests.fakes.markets import write_market, zigzag_bars

DATE = "2025-04-26"
CLOSE = pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=1)
TRAINING = {"lookback_days": 120, "test_days": 10, "validation_days": 5}


@pytest.fixture
def feeds(dagster_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = zigzag_bars(CLOSE, 130, block_bars=12, seed=3)
    nan = zigzag_bars(CLOSE, 130, block_bars=12, seed=5)
    hours = nan["timestamp"].between(CLOSE - pd.Timedelta(hours=21), CLOSE - pd.Timedelta(hours=16))
    nan.loc[hours, ["open", "close"]] = np.nan
    write_market(
        tmp_path / "data",
        {
            "STALEUSDT": stale[stale["timestamp"] < CLOSE - pd.Timedelta(hours=6)],
            "FRESHUSDT": zigzag_bars(CLOSE, 130, block_bars=12, seed=4),
            "NANUSDT": nan,
        },
    )
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:MomentumTrainer")


def _run(instance: dg.DagsterInstance, symbol: str) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("retrain_symbol_day").execute_in_process(
        partition_key=str(partition_key(DATE, symbol)),
        instance=instance,
        run_config={"resources": {"training": {"config": TRAINING}}},
        raise_on_error=False,
    )


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _materialized(instance: dg.DagsterInstance, asset: str, symbol: str) -> bool:
    return bool(
        instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(asset), asset_partitions=[f"{DATE}|{symbol}"]
            ),
            limit=1,
        ).records
    )


@pytest.mark.slow
def test_a_stale_feed_fails_freshness_and_publishes_nothing_downstream(feeds):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["STALEUSDT"])
        result = _run(instance, "STALEUSDT")
        assert not result.success
        freshness = _evaluations(result)["data_freshness"]
        assert (freshness.passed, freshness.severity) == (False, dg.AssetCheckSeverity.ERROR)
        assert "6 h before the close" in freshness.description, freshness.description
        assert freshness.partition == f"{DATE}|STALEUSDT"
        for asset in ("features", "model", "walk_forward", "metrics", "champion"):
            assert not _materialized(instance, asset, "STALEUSDT"), asset
        failure = failure_of(instance, result.run_id)
        assert failure.error_type == "DataCheckFailed"
        assert "data_freshness" in failure.message


@pytest.mark.slow
def test_nan_prices_on_the_date_fail_price_sanity_and_are_not_retried(feeds):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["NANUSDT"])
        result = _run(instance, "NANUSDT")
        assert not result.success
        prices = _evaluations(result)["price_sanity"]
        assert (prices.passed, prices.severity) == (False, dg.AssetCheckSeverity.ERROR)
        for asset in ("features", "model", "walk_forward", "metrics", "champion"):
            assert not _materialized(instance, asset, "NANUSDT"), asset
        failure = failure_of(instance, result.run_id)
        assert failure.error_type == "DataCheckFailed"
        assert f"6 bars with NaN open/close from {DATE} 03:00 to 08:00 UTC" in failure.message
        retries = instance.get_records_for_run(
            result.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY
        ).records
        assert not retries


@pytest.mark.slow
def test_a_fresh_feed_passes_every_data_check_and_reports_drift(feeds):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["FRESHUSDT"])
        result = _run(instance, "FRESHUSDT")
        assert result.success
        found = _evaluations(result)
        for name in ("data_freshness", "gaps_and_duplicates", "usable_rows", "price_sanity"):
            assert found[name].passed, found[name].description
        assert {"feature_drift", "live_ic", "promotion_gate"} <= set(found)
        assert all(e.partition == f"{DATE}|FRESHUSDT" for e in found.values())
        drift = found["feature_drift"]  # text metadata naming what the description names
        worst = drift.metadata["worst_feature"].value
        assert worst.split(" PSI ")[0] in FEATURE_NAMES and worst in drift.description
