"""Telegram notifications from real run records: once each, in order, never the token."""

import logging
import threading
import time
from collections.abc import Iterator

import dagster as dg
import pytest

from retrain_assets.core.errors import DataSourceError
from retrain_assets.core.telegram import TelegramClient
from retrain_assets.defs.partitions import (
    DRY_RUN_TAG,
    INVOCATION_TAG,
    split_partition_key,
    symbol_day_partitions,
)
from retrain_assets.engine import notifications
from retrain_assets.engine.notifications import dispatch_notifications, notify_from_env
from retrain_assets.engine.registry import InvocationRecord, save_invocation
from retrain_assets.engine.runner import partition_tags
from tests.fakes.fake_telegram import FAKE_TOKEN, FakeTelegram

DATE = "2025-05-01"
SCORES = {"BTCUSDT": 12.5, "ETHUSDT": -3.25}


@dg.asset(name="metrics", partitions_def=symbol_day_partitions)
def tiny_metrics(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """A stand-in for the real `metrics`: a score per symbol, or a data-source failure."""
    _, symbol = split_partition_key(context.partition_key)
    if symbol not in SCORES:
        raise DataSourceError(f"no candles for {symbol} at https://x/bot{FAKE_TOKEN}/")
    return dg.MaterializeResult(
        metadata={"net_bps_after_costs": dg.MetadataValue.float(SCORES[symbol])}
    )


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def run_invocation(
    instance: dg.DagsterInstance, symbols: list[str], finished: bool = True, inv: str = "inv1"
) -> InvocationRecord:
    """Record a CLI invocation and really execute one run per symbol, tagged as the CLI does."""
    instance.add_dynamic_partitions("symbols", symbols)
    record = InvocationRecord(
        id=inv,
        source="cli",
        date=DATE,
        mode="hybrid",
        total_symbols=len(symbols) + 1,
        skipped=1,
        dry_run=True,
        started_at=time.time() - 5,
        symbols=symbols,
    )
    save_invocation(instance, record)
    for symbol in symbols:
        dg.materialize(
            [tiny_metrics],
            instance=instance,
            partition_key=partition_tags(DATE, symbol)["dagster/partition"],
            tags={INVOCATION_TAG: inv, DRY_RUN_TAG: "true", **partition_tags(DATE, symbol)},
            raise_on_error=False,
        )
    if finished:
        record = record.finished(time.time())
        save_invocation(instance, record)
    return record


def client_for(tg: FakeTelegram, **kwargs: float) -> TelegramClient:
    options = {"max_attempts": 1, "max_retry_after_s": 2, "sleep": lambda _: None, **kwargs}
    return TelegramClient(tg.token, tg.chat_id, base_url=tg.base_url, **options)  # type: ignore[arg-type]


def dispatch(instance: dg.DagsterInstance, tg: FakeTelegram, **kwargs: object) -> list[str]:
    return dispatch_notifications(
        instance,
        client_for(tg),
        "http://127.0.0.1:3000/",
        secrets=[tg.token],
        settle_s=0,
        **kwargs,  # type: ignore[arg-type]
    )


def test_one_start_one_failure_per_failed_symbol_and_one_completion(instance, fake_telegram):
    run_invocation(instance, ["BTCUSDT", "ETHUSDT", "NOPEUSDT"])

    sent = dispatch(instance, fake_telegram)

    texts = fake_telegram.texts()
    assert [k.split("/")[1] for k in sent] == ["start", "failure", "completion"]
    assert "Symbols: <b>4</b>" in texts[0] and "hybrid (dry run)" in texts[0]
    assert "NOPEUSDT" in texts[1] and "DataSourceError" in texts[1]
    assert 'href="http://127.0.0.1:3000/runs/' in texts[1]
    assert "Succeeded: <b>2</b> · Failed: <b>1</b> · Skipped: <b>1</b>" in texts[2]
    assert "Best: <code>BTCUSDT</code> 12.5000" in texts[2]
    assert "Worst: <code>ETHUSDT</code> -3.2500" in texts[2]
    assert all(FAKE_TOKEN not in t for t in texts)


def test_a_second_dispatch_sends_nothing_new(instance, fake_telegram):
    run_invocation(instance, ["BTCUSDT", "NOPEUSDT"])
    assert len(dispatch(instance, fake_telegram)) == 3

    assert dispatch(instance, fake_telegram) == []
    assert len(fake_telegram.texts()) == 3


def test_the_completion_waits_until_the_invocation_is_finished(instance, fake_telegram):
    record = run_invocation(instance, ["BTCUSDT"], finished=False)
    assert [k.split("/")[1] for k in dispatch(instance, fake_telegram)] == ["start"]

    save_invocation(instance, record.finished(time.time()))
    assert [k.split("/")[1] for k in dispatch(instance, fake_telegram)] == ["completion"]


def test_old_invocations_are_never_announced(instance, fake_telegram):
    run_invocation(instance, ["BTCUSDT"])

    assert dispatch(instance, fake_telegram, now=time.time() + 3 * 86400) == []
    assert fake_telegram.texts() == []


@pytest.mark.parametrize("status", [429, 500])
def test_telegram_errors_never_raise_and_messages_go_out_later(instance, fake_telegram, status):
    run_invocation(instance, ["BTCUSDT", "NOPEUSDT"])
    # A retry_after beyond the client's budget makes it give up at once instead of waiting.
    fake_telegram.fail_next(1, status=status, retry_after=60)

    assert dispatch(instance, fake_telegram) == []
    assert fake_telegram.texts() == []

    assert len(dispatch(instance, fake_telegram)) == 3
    assert len(fake_telegram.texts()) == 3


def test_a_message_that_keeps_failing_is_abandoned_after_bounded_attempts(
    instance, fake_telegram, caplog
):
    run_invocation(instance, ["BTCUSDT"])
    fake_telegram.fail_next(100, status=500)

    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            assert dispatch(instance, fake_telegram) == []
        assert fake_telegram.request_count == 5
        assert "cli:inv1/start not sent (abandoned)" in caplog.records[-1].getMessage()

        dispatch(instance, fake_telegram)  # the start is given up; the completion is tried

    assert fake_telegram.request_count == 6
    assert "cli:inv1/completion" in caplog.records[-1].getMessage()
    assert all(FAKE_TOKEN not in r.getMessage() for r in caplog.records)


def test_an_unreachable_telegram_is_logged_in_one_redacted_line(instance, caplog):
    run_invocation(instance, ["BTCUSDT"])
    client = TelegramClient(FAKE_TOKEN, "1", base_url="http://127.0.0.1:9", max_attempts=1)

    with caplog.at_level(logging.WARNING):
        sent = dispatch_notifications(instance, client, secrets=[FAKE_TOKEN], settle_s=0)

    assert sent == []
    assert len(caplog.records) == 1
    assert FAKE_TOKEN not in caplog.text and "%3A" not in caplog.text


def test_notify_from_env_without_credentials_logs_one_line(instance, monkeypatch, caplog):
    run_invocation(instance, ["BTCUSDT"])
    monkeypatch.setattr(notifications, "_skip_logged", set())

    with caplog.at_level(logging.INFO, logger=notifications.__name__):
        notify_from_env(instance, environ={})
        notify_from_env(instance, environ={})

    assert [r.getMessage() for r in caplog.records] == [
        "Telegram notifications skipped: TELEGRAM_TOKEN, TELEGRAM_CHAT_ID unset"
    ]


def test_notify_from_env_sends_with_the_environment_settings(instance, fake_telegram):
    run_invocation(instance, ["NOPEUSDT"])
    environ = {
        "TELEGRAM_TOKEN": fake_telegram.token,
        "TELEGRAM_CHAT_ID": fake_telegram.chat_id,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "DAGSTER_UI_BASE_URL": "http://ui.example",
    }

    notify_from_env(instance, environ=environ)

    texts = fake_telegram.texts()
    assert len(texts) == 3
    assert 'href="http://ui.example/runs/' in texts[1]
    assert all(FAKE_TOKEN not in t for t in texts)


def test_two_senders_at_once_send_each_message_only_once(instance, fake_telegram):
    run_invocation(instance, ["BTCUSDT", "NOPEUSDT"])
    sent: list[list[str]] = []

    def sender() -> None:
        sent.append(
            dispatch_notifications(
                instance, client_for(fake_telegram), secrets=[FAKE_TOKEN], settle_s=0.3
            )
        )

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    keys = [key for keys in sent for key in keys]
    assert len(keys) == len(set(keys)) == 3
    assert len(fake_telegram.texts()) == 3
