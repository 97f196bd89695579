"""The engine summary is built from the instance's records: failed and skipped included."""

import json
import time
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.definitions import defs
from retrain_assets.defs.partitions import INVOCATION_TAG, partition_key
from retrain_assets.engine.registry import InvocationRecord, save_invocation
from sensors.summary import dates_of

DATE = "2025-05-01"


def _run(instance, symbol: str, invocation: str) -> bool:
    job = defs.resolve_job_def("retrain_symbol_day")
    return job.execute_in_process(
        partition_key=str(partition_key(DATE, symbol)),
        instance=instance,
        tags={"retrain/dry_run": "true", INVOCATION_TAG: invocation},
        raise_on_error=False,
    ).success


@pytest.mark.slow
def test_the_summary_counts_success_failure_and_skip_from_records(dagster_home, monkeypatch):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
        save_invocation(
            instance,
            InvocationRecord(
                id="inv1",
                source="cli",
                date=DATE,
                mode="hybrid",
                total_symbols=3,
                skipped=1,
                dry_run=True,
                started_at=time.time() - 1,
                symbols=["BTCUSDT", "ETHUSDT", "SOLUSDT"],
                extra={"skipped_symbols": {"SOLUSDT": "already has a dry-run materialization"}},
            ),
        )
        assert _run(instance, "BTCUSDT", "inv1")
        monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
        monkeypatch.setenv("RETRAIN_DATA_DIR", str(dagster_home))  # no candles: fails fast
        assert not _run(instance, "ETHUSDT", "inv1")

        result = defs.resolve_job_def("engine_summary_job").execute_in_process(
            partition_key=DATE, instance=instance
        )
        assert result.success
        mat = instance.get_latest_materialization_event(dg.AssetKey("engine_summary"))
        metadata = mat.asset_materialization.metadata

    summary = json.loads(Path(metadata["path"].value).read_text())
    assert (summary["succeeded"], summary["failed"], summary["skipped"]) == (1, 1, 1)
    assert summary["total_symbols"] == 3
    assert summary["by_symbol"]["ETHUSDT"]["error_type"] == "DataSourceError"
    assert summary["by_symbol"]["BTCUSDT"]["net_bps_after_costs"] is not None
    assert summary["by_symbol"]["BTCUSDT"]["stage_seconds"]["train_seconds"] > 0
    assert "| ETHUSDT | failed |" in metadata["summary"].value


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("2025-05-01", ["2025-05-01"]),
        ("2025-05-01..2025-05-03", ["2025-05-01", "2025-05-02", "2025-05-03"]),
        ("?", []),
    ],
)
def test_a_view_covers_one_date_or_a_range(text, dates):
    assert dates_of(text) == dates
