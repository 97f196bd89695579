"""The Telegram sensor over real retrain runs: what it sends, once, and when it stays quiet."""

import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from resources.notifier import TelegramResource, telegram_resource
from retrain_assets.definitions import defs
from retrain_assets.defs.partitions import DRY_RUN_TAG, INVOCATION_TAG, partition_key
from retrain_assets.engine.registry import InvocationRecord, save_invocation
from sensors.telegram import notification_sensors, telegram_notifications_sensor
from tests.fakes.fake_telegram import FAKE_TOKEN, FakeTelegram

DATE = "2025-05-01"


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def instance(dagster_home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "NOPEUSDT"])
        yield instance


def run_symbol(
    instance: dg.DagsterInstance,
    symbol: str,
    tags: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    empty_dir: Path | None = None,
) -> dg.ExecuteInProcessResult:
    """Run the real retrain job for one dry-run symbol-day; `empty_dir` makes it fail."""
    with monkeypatch.context() as env:
        if empty_dir is not None:
            env.setenv("RETRAIN_DATA_SOURCE", "files")
            env.setenv("RETRAIN_DATA_DIR", str(empty_dir))
        return defs.resolve_job_def("retrain_symbol_day").execute_in_process(
            partition_key=str(partition_key(DATE, symbol)),
            instance=instance,
            tags={DRY_RUN_TAG: "true", **tags},
            raise_on_error=False,
        )


@pytest.fixture
def one_failed_invocation(instance, monkeypatch, tmp_path) -> dg.DagsterInstance:
    """A finished CLI invocation: BTCUSDT trained, NOPEUSDT failed on a missing data file."""
    record = InvocationRecord(
        id="inv-sensor",
        source="cli",
        date=DATE,
        mode="parallel",
        total_symbols=2,
        skipped=0,
        dry_run=True,
        started_at=time.time(),
        symbols=["BTCUSDT", "NOPEUSDT"],
    )
    save_invocation(instance, record)
    tags = {INVOCATION_TAG: record.id}
    assert run_symbol(instance, "BTCUSDT", tags, monkeypatch).success
    (tmp_path / "empty").mkdir()
    assert not run_symbol(instance, "NOPEUSDT", tags, monkeypatch, tmp_path / "empty").success
    save_invocation(instance, record.finished(time.time()))
    return instance


def resource_for(tg: FakeTelegram) -> TelegramResource:
    return TelegramResource(
        token=tg.token, chat_id=tg.chat_id, api_base_url=tg.base_url, max_attempts=1
    )


def evaluate(instance: dg.DagsterInstance, telegram: TelegramResource) -> dg.SkipReason:
    context = dg.build_sensor_context(instance=instance, resources={"telegram": telegram})
    return telegram_notifications_sensor(context)


def test_the_sensor_sends_start_failure_and_completion_once(one_failed_invocation, tg):
    first = evaluate(one_failed_invocation, resource_for(tg))
    second = evaluate(one_failed_invocation, resource_for(tg))

    texts = tg.texts()
    assert first.skip_message == "sent 3 Telegram message(s)"
    assert second.skip_message == "sent 0 Telegram message(s)"
    assert len(texts) == 3
    assert "Symbols: <b>2</b>" in texts[0]
    assert "<b>NOPEUSDT</b> failed" in texts[1] and "DataSourceError" in texts[1]
    assert "Succeeded: <b>1</b> · Failed: <b>1</b>" in texts[2]
    assert "Best: <code>BTCUSDT</code>" in texts[2]
    assert all(FAKE_TOKEN not in t for t in texts)


def test_credentials_from_env_vars_are_resolved_by_dagster(one_failed_invocation, tg, monkeypatch):
    monkeypatch.setenv("TELEGRAM_TOKEN", tg.token)
    monkeypatch.setenv("TELEGRAM_CHAT_ID", tg.chat_id)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", tg.base_url)
    monkeypatch.setenv("DAGSTER_UI_BASE_URL", "http://127.0.0.1:3000")

    result = evaluate(one_failed_invocation, telegram_resource())

    assert result.skip_message == "sent 3 Telegram message(s)"
    assert 'href="http://127.0.0.1:3000/runs/' in tg.texts()[1]


def test_unset_credentials_skip_with_one_line_and_no_error(instance, monkeypatch):
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_CHAT_ID", raising=False)

    result = evaluate(instance, telegram_resource())

    assert result.skip_message == (
        "Telegram notifications skipped: TELEGRAM_TOKEN, TELEGRAM_CHAT_ID unset"
    )


def test_a_ui_backfill_is_announced_as_one_invocation(instance, tg, monkeypatch):
    backfill_id = "bf0001"
    instance.add_backfill(
        PartitionBackfill(
            backfill_id=backfill_id,
            status=BulkActionStatus.REQUESTED,
            from_failure=False,
            tags={},
            backfill_timestamp=time.time(),
            partition_names=[f"{DATE}|BTCUSDT"],
        )
    )
    assert evaluate(instance, resource_for(tg)).skip_message == "sent 1 Telegram message(s)"

    assert run_symbol(instance, "BTCUSDT", {"dagster/backfill": backfill_id}, monkeypatch).success
    backfill = instance.get_backfill(backfill_id)
    instance.update_backfill(backfill.with_status(BulkActionStatus.COMPLETED_SUCCESS))

    assert evaluate(instance, resource_for(tg)).skip_message == "sent 1 Telegram message(s)"
    texts = tg.texts()
    assert "Symbols: <b>1</b>" in texts[0] and "Mode: <code>backfill</code>" in texts[0]
    assert "Succeeded: <b>1</b> · Failed: <b>0</b>" in texts[1]


def test_the_sensor_loads_in_definitions_without_credentials():
    definitions = dg.Definitions(
        sensors=notification_sensors, resources={"telegram": telegram_resource(environ={})}
    )
    dg.Definitions.validate_loadable(definitions)
    assert definitions.resolve_sensor_def("telegram_notifications_sensor") is not None
