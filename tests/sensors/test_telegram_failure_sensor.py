"""The failure sensor: one alert per run that failed for good, none for self-reported runs."""

from collections.abc import Iterator

import dagster as dg
import pytest

from resources.telegram import TelegramResource, telegram_resource
from retrain_assets.vocabulary.keys import partition_tags
from retrain_assets.vocabulary.tags import BACKFILL_TAG, RunTags
from sensors.telegram import telegram_failure_sensor
from tests.fakes.fake_telegram import FAKE_TOKEN
from tests.fakes.symbol_days import FAIL_TAG, metrics, run_symbol_day

DATE = "2025-05-01"
SCHEDULE = RunTags("schedule-20250502T020000Z", "schedule", total_symbols=2).to_tags()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


class Ticks:
    """Evaluates the run-failure sensor tick after tick, carrying its cursor."""

    def __init__(self, instance: dg.DagsterInstance, resource: TelegramResource) -> None:
        self.instance = instance
        self.resource = resource
        self.cursor: str | None = None

    def __call__(self) -> None:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"telegram": self.resource}
        )
        self.cursor = telegram_failure_sensor.evaluate_tick(context).cursor


@pytest.fixture
def tick(instance, fake_telegram) -> Ticks:
    """Ticks of a sensor started before any run (its first tick only sets its cursor)."""
    resource = TelegramResource(
        token=fake_telegram.token,
        chat_id=fake_telegram.chat_id,
        api_base_url=fake_telegram.base_url,
        ui_base_url="http://127.0.0.1:3000",
        max_attempts=1,
    )
    ticks = Ticks(instance, resource)
    ticks()
    return ticks


def test_a_final_failure_is_alerted_once_across_ticks(instance, tick, fake_telegram):
    run_id = run_symbol_day(
        instance, DATE, "NOPEUSDT", SCHEDULE, fail=f"no candles at https://x/bot{FAKE_TOKEN}/"
    )
    run_symbol_day(instance, DATE, "BTCUSDT", SCHEDULE, net=1.0)

    tick()
    tick()

    (alert,) = fake_telegram.texts()
    assert f"<b>NOPEUSDT</b> failed on <code>{DATE}</code>" in alert
    assert "DataSourceError" in alert and "no candles" in alert
    assert f'href="http://127.0.0.1:3000/runs/{run_id}"' in alert
    assert FAKE_TOKEN not in alert


def test_a_failure_the_daemon_will_retry_is_not_alerted(instance, tick, fake_telegram):
    run_symbol_day(instance, DATE, "NOPEUSDT", {**SCHEDULE, "dagster/will_retry": "true"}, fail="x")
    tick()
    assert fake_telegram.texts() == []

    run_symbol_day(instance, DATE, "NOPEUSDT", SCHEDULE, fail="still no candles")  # last retry
    tick()
    assert len(fake_telegram.texts()) == 1


@pytest.mark.parametrize("source", ["cli", "api", "submit"])
def test_runs_of_self_reporting_invocations_are_not_alerted(instance, tick, fake_telegram, source):
    tags = RunTags("inv-1", source).to_tags()  # type: ignore[arg-type]
    run_symbol_day(instance, DATE, "NOPEUSDT", tags, fail="x")
    tick()
    assert fake_telegram.texts() == []


def test_a_failed_run_of_a_ui_asset_backfill_is_alerted(instance, tick, fake_telegram):
    instance.add_dynamic_partitions("symbols", ["NOPEUSDT"])
    # UI asset backfills run as `__ASSET_JOB`, untagged by any invocation.
    asset_job = dg.Definitions(assets=[metrics]).resolve_implicit_global_asset_job_def()
    result = asset_job.execute_in_process(
        partition_key=f"{DATE}|NOPEUSDT",
        instance=instance,
        tags={BACKFILL_TAG: "bf1", FAIL_TAG: "no candles", **partition_tags(DATE, "NOPEUSDT")},
        raise_on_error=False,
    )
    assert result.dagster_run.job_name == "__ASSET_JOB"

    tick()

    (alert,) = fake_telegram.texts()
    assert "<b>NOPEUSDT</b> failed" in alert


def test_unset_credentials_skip_with_the_names_of_the_variables(instance, monkeypatch):
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_CHAT_ID", raising=False)
    ticks = Ticks(instance, telegram_resource())
    ticks()
    run_symbol_day(instance, DATE, "NOPEUSDT", SCHEDULE, fail="x")

    context = dg.build_sensor_context(
        instance=instance, cursor=ticks.cursor, resources={"telegram": telegram_resource()}
    )
    data = telegram_failure_sensor.evaluate_tick(context)

    assert data.skip_message == (
        "Telegram notifications skipped: TELEGRAM_TOKEN, TELEGRAM_CHAT_ID unset"
    )


def test_telegram_down_never_fails_the_sensor(instance, tick, fake_telegram, capfd):
    fake_telegram.fail_next(1, status=500)
    run_symbol_day(instance, DATE, "NOPEUSDT", SCHEDULE, fail="x")

    tick()  # raises nothing

    logged = capfd.readouterr().err
    assert "failure alert of run" in logged and "HTTP 500" in logged
    assert FAKE_TOKEN not in logged
    assert fake_telegram.texts() == []
