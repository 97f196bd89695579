"""The launcher's own Telegram messages: one start and one completion per invocation."""

import json
import logging
from collections.abc import Iterator

import dagster as dg
import pytest

from resources.telegram import TelegramResource
from retrain_assets.defs.notifier import Finished, Notifier
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.vocabulary.tags import RunTags
from sensors.telegram import telegram_notifications_sensor
from tests.fakes.fake_telegram import FAKE_TOKEN, FakeTelegram
from tests.fakes.symbol_days import run_symbol_day


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch) -> None:
    """The default artifact root (./artifacts) is the test's, never the checkout's."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def environ_for(tg: FakeTelegram) -> dict[str, str]:
    return {
        "TELEGRAM_TOKEN": tg.token,
        "TELEGRAM_CHAT_ID": tg.chat_id,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "DAGSTER_UI_BASE_URL": "http://ui.example",
    }


def run_invocation(instance: dg.DagsterInstance, notifier: Notifier, date: str, n: int) -> None:
    """One CLI-style invocation: announce, run two symbols, skip one, summarize."""
    tags = RunTags(f"cli-{n}", "cli", mode="parallel", total_symbols=3, skipped=1).to_tags()
    notifier.start(date, 3, "parallel", dry_run=False)
    statuses = [SymbolStatus("SOLUSDT", "skipped", skip_reason="already done")]
    for symbol, net in (("BTCUSDT", 10.0 + n), ("ETHUSDT", -float(n))):
        run_id = run_symbol_day(instance, date, symbol, tags, net=net)
        statuses.append(SymbolStatus(symbol, "success", run_id=run_id))
    notifier.completion(Finished.of_statuses(date, statuses, 42.0), instance)


def test_three_invocations_in_a_row_each_send_their_own_start_and_completion(
    instance, fake_telegram
):
    dates = ["2025-05-01", "2025-05-02", "2025-05-03"]
    for n, date in enumerate(dates, start=1):
        run_invocation(instance, Notifier.from_env(environ_for(fake_telegram)), date, n)

    texts = fake_telegram.texts()
    assert len(texts) == len(set(texts)) == 6
    for n, date in enumerate(dates, start=1):
        start, completion = texts[2 * n - 2], texts[2 * n - 1]
        assert "retraining started" in start and f"<code>{date}</code>" in start
        assert "Symbols: <b>3</b> · Mode: <code>parallel</code>" in start
        assert "retraining finished" in completion and f"<code>{date}</code>" in completion
        assert "Succeeded: <b>2</b> · Failed: <b>0</b> · Skipped: <b>1</b>" in completion
        assert f"Best: <code>BTCUSDT</code> {10.0 + n:.4f}" in completion  # read from the runs
        assert f"Worst: <code>ETHUSDT</code> {-float(n):.4f}" in completion


def test_the_sensors_leave_the_launchers_runs_alone(instance, fake_telegram):
    run_invocation(instance, Notifier.from_env(environ_for(fake_telegram)), "2025-05-01", 1)
    resource = TelegramResource(
        token=fake_telegram.token,
        chat_id=fake_telegram.chat_id,
        api_base_url=fake_telegram.base_url,
    )
    context = dg.build_sensor_context(instance=instance, resources={"telegram": resource})

    data = telegram_notifications_sensor.evaluate_tick(context)

    assert data.skip_message == "sent 0 Telegram message(s)"
    assert len(fake_telegram.texts()) == 2


def test_a_dry_run_start_says_so_and_one_scored_symbol_is_not_ranked(fake_telegram):
    notifier = Notifier.from_env(environ_for(fake_telegram))
    statuses = [
        SymbolStatus("BTCUSDT", "success", run_id="r1", net_bps_after_costs=3.0),
        SymbolStatus("ETHUSDT", "failed", error_type="Timeout", error="too slow"),
    ]

    assert notifier.start("2025-05-01", 2, "hybrid", dry_run=True).sent
    assert notifier.completion(Finished.of_statuses("2025-05-01", statuses, 5.0)).sent

    start, completion = fake_telegram.texts()
    assert "Mode: <code>hybrid (dry run)</code>" in start
    assert "Succeeded: <b>1</b> · Failed: <b>1</b>" in completion
    assert "Best:" not in completion and "Worst:" not in completion


def test_the_net_figures_on_the_statuses_rank_the_symbols(fake_telegram):
    statuses = [
        SymbolStatus("BTCUSDT", "success", net_bps_after_costs=7.5),
        SymbolStatus("ETHUSDT", "success", net_bps_after_costs=-1.0),
        SymbolStatus("SOLUSDT", "canceled", error="canceled"),
    ]

    notifier = Notifier.from_env(environ_for(fake_telegram))
    notifier.completion(Finished.of_statuses("2025-05-01", statuses, 5.0))

    (completion,) = fake_telegram.texts()
    assert "Succeeded: <b>2</b> · Failed: <b>1</b>" in completion
    assert "Best: <code>BTCUSDT</code> 7.5000" in completion
    assert "Worst: <code>ETHUSDT</code> -1.0000" in completion


def test_a_failure_alert_links_the_run_and_masks_the_token(fake_telegram):
    notifier = Notifier.from_env(environ_for(fake_telegram))

    notifier.failure("NOPEUSDT", "2025-05-01", "DataSourceError", f"GET /bot{FAKE_TOKEN}/", "r42")

    (alert,) = fake_telegram.texts()
    assert "<b>NOPEUSDT</b> failed" in alert and "DataSourceError" in alert
    assert 'href="http://ui.example/runs/r42"' in alert
    assert FAKE_TOKEN not in alert


def test_without_credentials_one_line_is_logged_once_and_nothing_is_sent(caplog):
    notifier = Notifier.from_env(environ={})

    with caplog.at_level(logging.INFO, logger=Notifier.__module__):
        assert not notifier.start("2025-05-01", 1, "hybrid", dry_run=False).sent
        assert not notifier.failure("BTCUSDT", "2025-05-01", "Timeout", "slow", None).sent
        assert not notifier.completion(Finished.of_statuses("2025-05-01", [], 1.0)).sent

    assert [r.getMessage() for r in caplog.records] == [
        "Telegram notifications skipped: TELEGRAM_TOKEN, TELEGRAM_CHAT_ID unset"
    ]


def test_telegram_down_never_raises_and_logs_one_redacted_line(fake_telegram, caplog):
    notifier = Notifier.from_env(environ_for(fake_telegram))
    fake_telegram.fail_next(2, status=500)  # both of the resource's attempts

    with caplog.at_level(logging.WARNING, logger=Notifier.__module__):
        assert not notifier.start("2025-05-01", 1, "hybrid", dry_run=False).sent

    (line,) = [r.getMessage() for r in caplog.records]
    assert "Telegram start message not sent" in line and "HTTP 500" in line
    assert FAKE_TOKEN not in caplog.text
    assert notifier.start("2025-05-01", 1, "hybrid", dry_run=False).sent  # Telegram is back


def test_telegram_down_prints_one_short_line_and_logs_every_failure_in_full(tmp_path, caplog):
    port = _closed_port()
    environ = {
        "TELEGRAM_TOKEN": FAKE_TOKEN,
        "TELEGRAM_CHAT_ID": "42",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}",
        "RETRAIN_ARTIFACT_ROOT": str(tmp_path / "root"),
    }
    notifier = Notifier.from_env(environ)

    with caplog.at_level(logging.WARNING, logger=Notifier.__module__):
        assert not notifier.start("2025-05-01", 2, "hybrid", dry_run=False).sent
        assert not notifier.failure("BTCUSDT", "2025-05-01", "Timeout", "slow", "run-7").sent
        assert not notifier.completion(Finished.of_statuses("2025-05-01", [], 1.0)).sent

    (line,) = [r.getMessage() for r in caplog.records]
    assert line == (
        "Telegram start message not sent (ConnectionError after 2 attempts); "
        "details in logs/20250501Z/engine.log"
    )
    engine = tmp_path / "root" / "logs" / "20250501Z" / "engine.log"
    events = [json.loads(row) for row in engine.read_text().splitlines()]
    assert [(e["event"], e["kind"], e["symbol"]) for e in events] == [
        ("notification_failed", "start", None),
        ("notification_failed", "failure", "BTCUSDT"),
        ("notification_failed", "completion", None),
    ]
    assert events[1]["run_id"] == "run-7" and events[0]["mode"] == "hybrid"
    assert all(f"port={port}" in e["error"] for e in events)  # the whole error is kept
    assert FAKE_TOKEN not in engine.read_text() + caplog.text
    assert (tmp_path / "root" / "logs" / "20250501Z" / "BTCUSDT" / "training.log").exists()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_completion_carries_the_headline_of_the_summary_the_invocation_wrote(fake_telegram):
    notifier = Notifier.from_env(environ_for(fake_telegram))
    statuses = [SymbolStatus("BTCUSDT", "success", run_id="r1")]
    line = "2025-05-01: 1 symbol · 0 failed · 0 in production (0 promoted, 0 demoted)"
    assert notifier.completion(Finished.of_statuses("2025-05-01", statuses, 5.0, line)).sent
    (completion,) = fake_telegram.texts()
    assert f"Production: {line}" in completion


def test_a_completion_whose_facts_cannot_be_read_is_refused_and_never_raises(fake_telegram):
    notifier = Notifier.from_env(environ_for(fake_telegram))

    def unreadable() -> Finished:
        raise OSError(f"instance gone at /bot{FAKE_TOKEN}/")

    delivery = notifier.completion(unreadable)

    assert delivery.outcome == "refused" and "OSError" in delivery.reason
    assert FAKE_TOKEN not in delivery.reason
    assert fake_telegram.texts() == []
