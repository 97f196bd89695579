"""The walk_forward asset through a real instance: yesterday's live model trades today."""

import json
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.adapters.hashing import sha256_file
from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL, TRADED
from retrain_assets.definitions import defs
from retrain_assets.vocabulary.keys import partition_key


def _run(instance: dg.DagsterInstance, date: str, symbol: str = "BTCUSDT") -> None:
    job = defs.resolve_job_def("retrain_symbol_day")
    result = job.execute_in_process(
        partition_key=str(partition_key(date, symbol)), instance=instance
    )
    assert result.success


def _files(instance: dg.DagsterInstance, asset: str, date: str) -> dict:
    mat = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[f"{date}|BTCUSDT"]),
        limit=1,
    ).records[0]
    return mat.asset_materialization.metadata["files"].value


@pytest.mark.slow
def test_the_first_day_has_no_live_model_and_the_next_trades_with_yesterdays(dagster_home):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        _run(instance, "2025-05-01")
        first = _files(instance, "walk_forward", "2025-05-01")["walk_forward.json"]
        assert json.loads(Path(first["path"]).read_text())["status"] == NO_LIVE_MODEL

        _run(instance, "2025-05-02")
        entry = _files(instance, "walk_forward", "2025-05-02")["walk_forward.json"]
        day = json.loads(Path(entry["path"]).read_text())
        assert day["status"] == TRADED
        assert day["model_as_of"] == "2025-05-01"
        assert day["costs_as_of"] == "2025-05-02T00:00:00+00:00"
        assert day["timestamps"][0] == "2025-05-02T00:00:00+00:00"
        assert all(t.startswith("2025-05-02") for t in day["timestamps"])
        assert len(day["net"]) == len(day["timestamps"]) == 24

        # The day's run folder keeps its own live model: yesterday's was read, not copied.
        for name, recorded in _files(instance, "model", "2025-05-02").items():
            assert sha256_file(Path(recorded["path"])) == recorded["sha256"], name
        sealed = Path(entry["path"]).parent / "sha256.txt"
        assert "walk_forward.json" in sealed.read_text()


@pytest.mark.slow
def test_the_live_model_is_refit_through_the_date_with_the_chosen_tree_count(dagster_home):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        _run(instance, "2025-05-01")
        files = _files(instance, "model", "2025-05-01")
        config = json.loads(Path(files["config.json"]["path"]).read_text())
        split = json.loads(
            Path(
                _files(instance, "features", "2025-05-01")["split_indices.json"]["path"]
            ).read_text()
        )
        assert config["fit"] == "live"
        assert config["live_fit"]["rows"] == split["test"]["end_row"]
        assert config["live_fit"]["last_labelled_row"] == split["test"]["end_ts"]
        assert config["held_out_fit"]["segments"]["train"][1] == split["train"]["end_row"]
        log = json.loads(Path(files["training_log.json"]["path"]).read_text())
        assert config["live_fit"]["trees"] == log["tree_count"]
        assert log["live_fit"]["tree_count"] == log["tree_count"]
        metrics = _files(instance, "metrics", "2025-05-01")["metrics.json"]
        assert json.loads(Path(metrics["path"]).read_text())["evaluation"] == (
            "held_out_diagnostic"
        )
