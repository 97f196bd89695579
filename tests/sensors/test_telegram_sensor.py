"""The start/completion sensor over real runs: once per schedule tick or backfill, never twice."""

import json
from collections.abc import Iterator

import dagster as dg
import pytest

from resources.telegram import TelegramResource, telegram_resource
from retrain_assets.vocabulary.tags import BACKFILL_TAG, RunTags
from sensors import telegram
from sensors.telegram import notification_sensors, telegram_notifications_sensor
from tests.fakes.fake_telegram import FAKE_TOKEN, FakeTelegram
from tests.fakes.symbol_days import run_symbol_day
from tests.fakes.ui_backfill import finish_backfill, launch_asset_backfill

DATE = "2025-05-01"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def resource_for(tg: FakeTelegram) -> TelegramResource:
    return TelegramResource(
        token=tg.token, chat_id=tg.chat_id, api_base_url=tg.base_url, max_attempts=1
    )


class Ticks:
    """Evaluates the sensor tick after tick, carrying its cursor like the daemon does."""

    def __init__(self, instance: dg.DagsterInstance, resource: TelegramResource) -> None:
        self.instance = instance
        self.resource = resource
        self.cursor: str | None = None

    def __call__(self) -> str:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"telegram": self.resource}
        )
        data = telegram_notifications_sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return data.skip_message or ""


def schedule_tags(invocation: str = "schedule-20250502T020000Z", **changes: object) -> dict:
    fields = {"total_symbols": 3, "skipped": 1, **changes}
    return RunTags(invocation, "schedule", **fields).to_tags()  # type: ignore[arg-type]


def test_a_schedule_tick_gets_one_start_and_one_completion_across_ticks(instance, fake_telegram):
    tick = Ticks(instance, resource_for(fake_telegram))
    assert tick() == "sent 0 Telegram message(s)"

    run_symbol_day(instance, DATE, "BTCUSDT", schedule_tags(), net=12.5)
    assert tick() == "sent 1 Telegram message(s)"  # the start; one of two runs is still due
    assert tick() == "sent 0 Telegram message(s)"

    run_symbol_day(instance, DATE, "ETHUSDT", schedule_tags(), net=-3.25)
    assert tick() == "sent 1 Telegram message(s)"  # the completion
    assert tick() == "sent 0 Telegram message(s)"

    start, completion = fake_telegram.texts()
    assert "Symbols: <b>3</b>" in start and "Mode: <code>hybrid</code>" in start
    assert f"<code>{DATE}</code>" in start
    assert "Succeeded: <b>2</b> · Failed: <b>0</b> · Skipped: <b>1</b>" in completion
    assert "Best: <code>BTCUSDT</code> 12.5000" in completion
    assert "Worst: <code>ETHUSDT</code> -3.2500" in completion


def test_a_failed_run_that_will_be_retried_holds_back_the_completion(instance, fake_telegram):
    tick = Ticks(instance, resource_for(fake_telegram))
    tags = schedule_tags(total_symbols=1, skipped=0)
    run_symbol_day(instance, DATE, "BTCUSDT", {**tags, "dagster/will_retry": "true"}, fail="x")
    assert tick() == "sent 1 Telegram message(s)"  # the start only

    run_symbol_day(instance, DATE, "BTCUSDT", tags, net=4.0)  # the daemon's retry succeeds
    assert tick() == "sent 1 Telegram message(s)"

    completion = fake_telegram.texts()[-1]
    assert "Succeeded: <b>1</b> · Failed: <b>0</b> · Skipped: <b>0</b>" in completion
    # One symbol is not a ranking.
    assert "Best:" not in completion and "Worst:" not in completion


def test_a_ui_asset_backfill_gets_one_start_and_one_completion(instance, fake_telegram):
    partitions = [f"{DATE}|BTCUSDT", f"{DATE}|ETHUSDT"]
    instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT"])
    backfill_id = launch_asset_backfill(instance, partitions)
    tick = Ticks(instance, resource_for(fake_telegram))
    assert tick() == "sent 1 Telegram message(s)"

    run_symbol_day(instance, DATE, "BTCUSDT", {BACKFILL_TAG: backfill_id}, net=2.0)
    run_symbol_day(instance, DATE, "ETHUSDT", {BACKFILL_TAG: backfill_id}, fail="no candles")
    assert tick() == "sent 0 Telegram message(s)"  # the backfill itself is not finished yet

    finish_backfill(instance, backfill_id)
    assert tick() == "sent 1 Telegram message(s)"
    assert tick() == "sent 0 Telegram message(s)"

    start, completion = fake_telegram.texts()
    assert "Symbols: <b>2</b>" in start and "Mode: <code>backfill</code>" in start
    assert "Succeeded: <b>1</b> · Failed: <b>1</b> · Skipped: <b>0</b>" in completion
    assert f"Production: {DATE}: 2 symbols · 1 failed · 0 in production" in completion


@pytest.mark.parametrize("source", ["cli", "api", "submit"])
def test_runs_of_self_reporting_invocations_get_nothing_from_the_sensor(
    instance, fake_telegram, source
):
    tags = RunTags("inv-1", source, total_symbols=1).to_tags()  # type: ignore[arg-type]
    run_symbol_day(instance, DATE, "BTCUSDT", tags, net=1.0)

    assert Ticks(instance, resource_for(fake_telegram))() == "sent 0 Telegram message(s)"
    assert fake_telegram.texts() == []


def test_telegram_down_never_fails_a_tick_and_the_message_goes_out_later(
    instance, fake_telegram, capfd
):
    run_symbol_day(instance, DATE, "BTCUSDT", schedule_tags(total_symbols=1, skipped=0))
    tick = Ticks(instance, resource_for(fake_telegram))
    fake_telegram.fail_next(1, status=500)

    assert tick() == "sent 0 Telegram message(s); Telegram unavailable"
    assert tick() == "sent 2 Telegram message(s)"
    assert tick() == "sent 0 Telegram message(s)"

    # The sensor context logs through Dagster's console handler, to stderr.
    logged = capfd.readouterr().err
    warnings = [line for line in logged.splitlines() if "not sent" in line]
    assert len(warnings) == 1 and "HTTP 500" in warnings[0]
    assert FAKE_TOKEN not in logged
    assert len(fake_telegram.texts()) == 2


def test_the_cursor_stays_bounded_without_announcing_old_views_again(
    instance, fake_telegram, monkeypatch
):
    monkeypatch.setattr(telegram, "CURSOR_KEYS", 1)
    for n in range(2):
        tags = schedule_tags(f"schedule-{n}", total_symbols=1, skipped=0)
        run_symbol_day(instance, DATE, f"SYM{n}USDT", tags)
    tick = Ticks(instance, resource_for(fake_telegram))

    assert tick() == "sent 4 Telegram message(s)"
    assert tick() == "sent 0 Telegram message(s)"
    assert list(json.loads(tick.cursor or "{}")["sent"]) == ["schedule:schedule-1"]


def test_unset_credentials_skip_with_the_names_of_the_variables(instance, monkeypatch):
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_CHAT_ID", raising=False)

    assert Ticks(instance, telegram_resource())() == (
        "Telegram notifications skipped: TELEGRAM_TOKEN, TELEGRAM_CHAT_ID unset"
    )


def test_credentials_from_env_vars_are_resolved_by_dagster(instance, fake_telegram, monkeypatch):
    monkeypatch.setenv("TELEGRAM_TOKEN", fake_telegram.token)
    monkeypatch.setenv("TELEGRAM_CHAT_ID", fake_telegram.chat_id)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    run_symbol_day(instance, DATE, "BTCUSDT", schedule_tags(total_symbols=1, skipped=0))

    assert Ticks(instance, telegram_resource())() == "sent 2 Telegram message(s)"


def test_the_sensors_load_in_definitions_without_credentials():
    definitions = dg.Definitions(
        sensors=notification_sensors, resources={"telegram": telegram_resource(environ={})}
    )
    dg.Definitions.validate_loadable(definitions)
    names = {s.name for s in notification_sensors}
    assert names == {"telegram_notifications_sensor", "telegram_failure_sensor"}
