"""The four assets end to end on three symbols, through a real test instance."""

import json
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.core.lifecycle.artifacts import CHECKSUM_FILE, RUN_FOLDER_FILES
from retrain_assets.definitions import defs
from retrain_assets.vocabulary.keys import partition_key


@pytest.mark.slow
def test_three_symbols_materialize_every_spec_file(dagster_home, tmp_path):
    job = defs.resolve_job_def("retrain_symbol_day")
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
        for symbol in ["BTCUSDT", "ETHUSDT", "SOLUSDT"]:
            result = job.execute_in_process(
                partition_key=str(partition_key("2025-05-01", symbol)),
                instance=instance,
                tags={"retrain/dry_run": "true"},  # the tiny training budget, nothing uploaded
            )
            assert result.success
            mat = instance.get_latest_materialization_event(dg.AssetKey("metrics"))
            assert mat.asset_materialization.metadata["backend"].value == "none (dry run)"
            metrics_path = Path(
                mat.asset_materialization.metadata["files"].value["metrics.json"]["path"]
            )
            folder = metrics_path.parent
            assert {p.name for p in folder.iterdir()} == {*RUN_FOLDER_FILES, CHECKSUM_FILE}
            metrics = json.loads(metrics_path.read_text())
            assert metrics["status"] in ("ok", "insufficient_evidence")
            assert metrics["symbol"] == symbol
            assert metrics["dry_run"] is True


def test_an_unknown_history_symbol_fails_fast_without_retries(dagster_home, monkeypatch):
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(dagster_home))  # a folder with no candles
    job = defs.resolve_job_def("retrain_symbol_day")
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        result = job.execute_in_process(
            partition_key=str(partition_key("2025-05-01", "BTCUSDT")),
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data
    assert failure.user_failure_data.metadata["error_type"].value == "DataSourceError"
    assert "BTCUSDT" in failure.error.message
    # The Checks tab says why too: the freshness check failed, it did not just not run.
    (freshness,) = result.get_asset_check_evaluations()
    assert freshness.check_name == "data_freshness" and not freshness.passed
    assert freshness.severity == dg.AssetCheckSeverity.ERROR
    assert freshness.description.startswith("no bars: ")
