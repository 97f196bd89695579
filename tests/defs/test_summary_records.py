"""The engine summary is read from run records and materializations: no registry, no memory."""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from resources.artifact_io import ArtifactRootResource
from retrain_assets.defs.assets.summary import engine_summary
from retrain_assets.defs.summary_records import date_summary
from retrain_assets.vocabulary.tags import RunTags
from tests.fakes.symbol_days import run_symbol_day

DATE = "2025-05-01"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def tags(invocation: str, source: str = "cli", mode: str = "hybrid", dry_run: bool = False):
    return RunTags(invocation, source, mode=mode, dry_run=dry_run).to_tags()  # type: ignore[arg-type]


def test_the_summary_reports_the_invocation_and_mode_of_the_latest_run(instance):
    run_symbol_day(instance, DATE, "BTCUSDT", tags("inv-1", mode="sequential"), net=5.0)
    run_symbol_day(instance, DATE, "ETHUSDT", tags("schedule-2", "schedule"), fail="no candles")

    summary = date_summary(instance, DATE)

    assert (summary["invocation"], summary["mode"]) == ("schedule-2", "hybrid")
    assert (summary["total_symbols"], summary["succeeded"], summary["failed"]) == (2, 1, 1)
    btc, eth = summary["by_symbol"]["BTCUSDT"], summary["by_symbol"]["ETHUSDT"]
    assert (btc["status"], btc["net_bps_after_costs"], btc["trades"]) == ("success", 5.0, 7)
    assert (eth["status"], eth["error_type"]) == ("failed", "DataSourceError")
    assert eth["error"].endswith("no candles")
    assert summary["avg_train_minutes"] == 0.5 and summary["total_wall_minutes"] is not None


def test_skipped_symbols_are_shown_as_skipped_unless_a_newer_run_exists(instance):
    run_symbol_day(instance, DATE, "BTCUSDT", tags("inv-1"), net=1.0)
    run_symbol_day(instance, DATE, "ETHUSDT", tags("inv-1"), net=2.0)
    run_symbol_day(instance, DATE, "ETHUSDT", tags("inv-2"), net=3.0)  # inv-2 skipped BTCUSDT

    summary = date_summary(
        instance, DATE, skipped={"BTCUSDT": "already done", "ETHUSDT": "already done"}
    )

    by_symbol = summary["by_symbol"]
    assert by_symbol["BTCUSDT"]["status"] == "skipped"
    assert by_symbol["BTCUSDT"]["skip_reason"] == "already done"
    assert by_symbol["ETHUSDT"]["status"] == "success"  # its inv-2 run is newer than the skip
    assert (summary["skipped"], summary["succeeded"], summary["invocation"]) == (1, 1, "inv-2")


def test_a_dry_runs_summary_is_its_own_instances_runs_and_says_it_is_a_dry_run(instance):
    # A dry run has an instance of its own: its summary is every run there, marked as dry.
    dry = tags("inv-2", dry_run=True)
    run_symbol_day(instance, DATE, "BTCUSDT", dry, net=99.0)
    run_symbol_day(instance, DATE, "ETHUSDT", dry, net=98.0)

    smoke = date_summary(instance, DATE)

    assert smoke["dry_run"] and smoke["invocation"] == "inv-2"
    assert {s: v["net_bps_after_costs"] for s, v in smoke["by_symbol"].items()} == {
        "BTCUSDT": 99.0,
        "ETHUSDT": 98.0,
    }
    assert not date_summary(instance, DATE, requested_by=RunTags("inv-3", "cli"))["dry_run"]


def test_the_summary_asset_takes_the_launchers_skips_from_run_config(instance, tmp_path: Path):
    run_symbol_day(instance, DATE, "BTCUSDT", tags("inv-1"), net=5.0)
    skipped = {"BTCUSDT": "already has a real materialization"}

    result = dg.materialize(
        [engine_summary],
        instance=instance,
        partition_key=DATE,
        resources={"artifacts": ArtifactRootResource(root=str(tmp_path))},
        run_config={"ops": {"engine_summary": {"config": {"skipped": skipped}}}},
        # The launcher's summary run carries its invocation's tags; inv-2 ran nothing at all.
        tags=tags("inv-2", mode="parallel"),
    )

    metadata = result.asset_materializations_for_node("engine_summary")[0].metadata
    summary = json.loads(Path(str(metadata["path"].value)).read_text())
    assert (summary["invocation"], summary["mode"], summary["skipped"]) == ("inv-2", "parallel", 1)
    assert summary["by_symbol"]["BTCUSDT"]["skip_reason"] == skipped["BTCUSDT"]
    assert "| BTCUSDT | skipped |" in str(metadata["summary"].value)


def test_the_summary_asset_of_a_dry_run_reports_its_invocation_marked_as_a_dry_run(
    instance, tmp_path: Path
):
    run_symbol_day(instance, DATE, "BTCUSDT", tags("inv-2", dry_run=True), net=5.0)

    result = dg.materialize(
        [engine_summary],
        instance=instance,
        partition_key=DATE,
        resources={"artifacts": ArtifactRootResource(root=str(tmp_path))},
        tags=tags("inv-2", dry_run=True),
    )

    metadata = result.asset_materializations_for_node("engine_summary")[0].metadata
    summary = json.loads(Path(str(metadata["path"].value)).read_text())
    assert summary["dry_run"] and summary["invocation"] == "inv-2"
    assert summary["by_symbol"]["BTCUSDT"]["net_bps_after_costs"] == 5.0
    assert "(dry run)" in str(metadata["summary"].value)


def test_a_symbol_whose_partition_was_removed_is_left_out_of_the_summary(instance):
    run_symbol_day(instance, DATE, "BTCUSDT", tags("inv-1"), net=1.0)
    run_symbol_day(instance, DATE, "FOOBAR", tags("inv-2"), net=2.0)
    instance.delete_dynamic_partition("symbols", "FOOBAR")

    summary = date_summary(instance, DATE, skipped={"FOOBAR": "already done"})

    assert list(summary["by_symbol"]) == ["BTCUSDT"] and summary["total_symbols"] == 1
    assert summary["invocation"] == "inv-1"  # FOOBAR's later run no longer speaks for the date


def test_the_summary_says_which_sources_and_methods_made_the_date():
    from retrain_assets.core.model.provenance import Provenance
    from retrain_assets.defs.summary_records import made_by

    def made(source: str, method: str) -> dict:
        return {"provenance": Provenance("files", source, "ab", method).to_json_dict()}

    by_symbol = {
        "BTCUSDT": made("files /data", "aaa"),
        "ETHUSDT": made("files /data", "aaa"),
        "SOLUSDT": made("synthetic seed 7", "bbb"),
        "XRPUSDT": {"provenance": None},
    }
    assert made_by(by_symbol) == [
        {"source": "files /data", "method": "aaa", "symbols": 2},
        {"source": "synthetic seed 7", "method": "bbb", "symbols": 1},
        {"source": "unrecorded", "method": "unrecorded", "symbols": 1},
    ]
