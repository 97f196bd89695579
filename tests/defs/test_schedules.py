"""The daily schedule, evaluated on real ticks against a test instance."""

from dataclasses import replace
from datetime import UTC, datetime

import dagster as dg
import pytest

from retrain_assets.definitions import current_configuration, defs
from retrain_assets.defs.schedules import daily_retrain_schedule
from retrain_assets.defs.universe import set_retired_symbols
from retrain_assets.vocabulary.keys import partition_key
from retrain_assets.vocabulary.tags import TIMEOUT_TAG, RunTags

TICK = datetime(2025, 5, 2, 2, 0, tzinfo=UTC)


def _report_metrics(instance, symbol: str, files: bool = True, method: str | None = None) -> None:
    made = current_configuration().provenance("metrics", bars="ab" * 32)
    if method is not None:
        made = replace(made, method=method)
    files_md = {
        "files": {"metrics.json": {"path": "/x", "sha256": "0", "size": 1}},
        "provenance": made.to_json_dict(),
    }
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="metrics",
            partition=str(partition_key("2025-05-01", symbol)),
            metadata=files_md if files else {"trades": 0},
        )
    )


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"])
        yield inst


def _tick(instance):
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=TICK,
        repository_def=defs.get_repository_def(),
        resources=defs.resources,
    ) as context:
        return daily_retrain_schedule.evaluate_tick(context)


def test_the_tick_requests_yesterday_for_every_symbol_still_missing_it(instance):
    _report_metrics(instance, "BTCUSDT")
    _report_metrics(instance, "ETHUSDT", files=False)  # a record without its files is not done
    set_retired_symbols(instance, {"XRPUSDT"})

    data = _tick(instance)

    keys = sorted(r.partition_key for r in data.run_requests)
    assert keys == ["2025-05-01|ETHUSDT", "2025-05-01|SOLUSDT"]
    assert all("20250502T020000Z" in r.run_key for r in data.run_requests)


def test_every_run_of_a_tick_carries_the_invocations_tags(instance):
    _report_metrics(instance, "BTCUSDT")
    set_retired_symbols(instance, {"XRPUSDT"})

    data = _tick(instance)

    tags = {RunTags.from_tags(r.tags) for r in data.run_requests}
    assert tags == {
        RunTags(
            invocation="schedule-20250502T020000Z",
            source="schedule",
            mode="hybrid",
            total_symbols=3,
            skipped=1,
        )
    }
    assert all(int(r.tags["dagster/max_runtime"]) > 45 * 60 for r in data.run_requests)
    assert not any(TIMEOUT_TAG in r.tags for r in data.run_requests)  # configuration, not identity


def test_the_tick_skips_when_every_symbol_is_done(instance):
    for symbol in ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]:
        _report_metrics(instance, symbol)
    data = _tick(instance)
    assert not data.run_requests
    assert "already has 2025-05-01" in data.skip_message


def test_the_tick_retrains_a_symbol_day_made_by_another_method(instance):
    for symbol in ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]:
        _report_metrics(instance, symbol)
    _report_metrics(instance, "SOLUSDT", method="0123456789ab")

    data = _tick(instance)

    assert [r.partition_key for r in data.run_requests] == ["2025-05-01|SOLUSDT"]


def test_the_schedule_runs_at_two_utc_by_default():
    assert daily_retrain_schedule.cron_schedule == "0 2 * * *"
    assert daily_retrain_schedule.execution_timezone == "UTC"
