"""The summary sensor requests one summary run per finished schedule tick or backfill and date."""

from collections.abc import Iterator

import dagster as dg
import pytest

from resources.artifact_io import ArtifactRootResource
from resources.market_data import MarketDataResource
from resources.training import TrainingResource
from retrain_assets.defs.assets import date_assets
from retrain_assets.defs.jobs import summary_job
from retrain_assets.vocabulary.tags import RunTags
from sensors.summary import engine_summary_sensor
from tests.fakes.symbol_days import run_symbol_day
from tests.fakes.ui_backfill import finish_backfill, launch_asset_backfill

DATE = "2025-05-01"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


# The sensor's own slice of the code location: partitioned run requests need the repository.
REPOSITORY = dg.Definitions(
    assets=date_assets,
    jobs=[summary_job],
    sensors=[engine_summary_sensor],
    resources={
        "artifacts": ArtifactRootResource(),
        "training": TrainingResource(),
        "market_data": MarketDataResource(),
    },
).get_repository_def()


def requests(instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    context = dg.build_sensor_context(instance=instance, repository_def=REPOSITORY)
    return list(engine_summary_sensor.evaluate_tick(context).run_requests)


def test_a_finished_schedule_tick_requests_its_date_once(instance):
    tags = RunTags("schedule-1", "schedule", total_symbols=2).to_tags()
    run_symbol_day(instance, DATE, "BTCUSDT", tags)
    assert requests(instance) == []  # one of two symbols still to run

    run_symbol_day(instance, DATE, "ETHUSDT", tags, fail="no candles")

    (request,) = requests(instance)
    assert request.partition_key == DATE
    assert request.run_key == f"summary|schedule:schedule-1|{DATE}"


@pytest.mark.parametrize("source", ["cli", "api", "submit"])
def test_self_reporting_invocations_refresh_their_own_summary(instance, source):
    run_symbol_day(instance, DATE, "BTCUSDT", RunTags("inv-1", source, total_symbols=1).to_tags())
    assert requests(instance) == []


def test_a_finished_backfill_over_two_days_requests_a_summary_per_day(instance):
    instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
    partitions = ["2025-05-01|BTCUSDT", "2025-05-02|BTCUSDT"]
    backfill_id = launch_asset_backfill(instance, partitions)
    for key in partitions:
        run_symbol_day(
            instance, key.partition("|")[0], "BTCUSDT", {"dagster/backfill": backfill_id}
        )
    assert requests(instance) == []  # the backfill is not finished yet

    finish_backfill(instance, backfill_id)

    found = requests(instance)
    assert [r.partition_key for r in found] == ["2025-05-01", "2025-05-02"]
    assert found[0].run_key == f"summary|backfill:{backfill_id}|2025-05-01"
