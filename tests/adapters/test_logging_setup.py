"""Tests of the JSON event logs."""

import datetime as dt
import json
import math
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from retrain_assets.adapters.logging_setup import EVENTS, EventLog, stack_summary

SECRET = "tok-3f9a7c1e55"


def _lines(path: Path) -> list[dict[str, Any]]:
    def refuse(constant: str) -> None:
        raise AssertionError(f"not valid JSON: {constant}")

    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line, parse_constant=refuse) for line in text.splitlines()]


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    return EventLog(tmp_path, "2026-11-27", "run-1", "hybrid", secrets=[SECRET])


def test_the_eight_spec_events_are_the_only_names() -> None:
    assert EVENTS == (
        "job_started",
        "coin_started",
        "coin_partial_saved",
        "coin_succeeded",
        "coin_failed",
        "upload_succeeded",
        "upload_failed",
        "job_completed",
    )


@pytest.mark.parametrize("event", EVENTS)
def test_every_spec_event_is_accepted(log: EventLog, event: str) -> None:
    assert log.emit(event)["event"] == event


def test_an_unknown_event_name_is_refused(log: EventLog) -> None:
    with pytest.raises(ValueError, match="unknown event"):
        log.emit("coin_succeded")


def test_an_event_is_one_json_line_with_the_run_context(tmp_path: Path, log: EventLog) -> None:
    returned = log.emit("job_started", total_symbols=20)

    [line] = _lines(tmp_path / "logs" / "20261127Z" / "engine.log")
    assert line == returned
    assert list(line)[:7] == ["timestamp", "level", "event", "date", "symbol", "run_id", "mode"]
    assert line["level"] == "info" and line["symbol"] is None and line["total_symbols"] == 20
    assert (line["date"], line["run_id"], line["mode"]) == ("2026-11-27", "run-1", "hybrid")
    stamp = dt.datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == dt.timedelta(0)


def test_a_symbol_event_goes_to_the_engine_log_and_the_symbol_log(
    tmp_path: Path, log: EventLog
) -> None:
    log.emit("job_started")
    log.emit("coin_succeeded", symbol="BTCUSDT", attempt=1, duration_s=12.5)
    log.emit("coin_started", symbol="ETHUSDT", attempt=1)

    day = tmp_path / "logs" / "20261127Z"
    assert [e["event"] for e in _lines(day / "engine.log")] == [
        "job_started",
        "coin_succeeded",
        "coin_started",
    ]
    [btc] = _lines(day / "BTCUSDT" / "training.log")
    assert (btc["symbol"], btc["attempt"], btc["duration_s"]) == ("BTCUSDT", 1, 12.5)
    assert [e["symbol"] for e in _lines(day / "ETHUSDT" / "training.log")] == ["ETHUSDT"]


def test_secrets_are_masked_in_every_string_field(tmp_path: Path, log: EventLog) -> None:
    log.emit(
        "upload_failed",
        symbol="BTCUSDT",
        level="error",
        error_type="ApiError",
        reason=f"https://api/bot{SECRET}/send failed",
        details={"headers": [f"Bearer {SECRET}"], SECRET: "key"},
        path=Path(f"/tmp/{SECRET}"),
    )

    raw = (tmp_path / "logs" / "20261127Z" / "engine.log").read_text()
    assert SECRET not in raw
    [line] = _lines(tmp_path / "logs" / "20261127Z" / "BTCUSDT" / "training.log")
    assert line["level"] == "error"
    assert line["reason"] == "https://api/bot***/send failed"
    assert line["details"] == {"headers": ["Bearer ***"], "***": "key"}


def test_values_that_json_cannot_hold_are_written_as_text(tmp_path: Path, log: EventLog) -> None:
    when = dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=dt.UTC)

    line = log.emit("job_completed", score=math.nan, when=when, tags={"a"}, ok=True)

    assert _lines(log.engine_log) == [line]
    assert (line["score"], line["when"], line["tags"], line["ok"]) == (
        "nan",
        "2026-11-27T01:02:03+00:00",
        ["a"],
        True,
    )


def test_debug_events_are_dropped_unless_the_level_is_debug(tmp_path: Path) -> None:
    info = EventLog(tmp_path / "info", "2026-11-27", "r", "sequential")
    debug = EventLog(tmp_path / "debug", "2026-11-27", "r", "sequential", level="DEBUG")

    for log in (info, debug):
        log.emit("coin_partial_saved", symbol="BTCUSDT", level="debug", iteration=100)
        log.emit("coin_succeeded", symbol="BTCUSDT")

    assert [e["level"] for e in _lines(info.engine_log)] == ["info"]
    assert [e["level"] for e in _lines(debug.engine_log)] == ["debug", "info"]


def test_a_filtered_event_returns_an_empty_dict(log: EventLog) -> None:
    assert log.emit("coin_started", level="debug") == {}
    assert not log.engine_log.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": "loud"}, "unknown log level"),
        ({"run_id": "other"}, "reserved field"),
        ({"symbol": "../../etc"}, "cannot name a log folder"),
    ],
)
def test_bad_arguments_are_refused(log: EventLog, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        log.emit("coin_started", **kwargs)


@pytest.mark.parametrize("date", ["2026-13-01", "20261127", "2026-1-7"])
def test_a_malformed_date_is_refused(tmp_path: Path, date: str) -> None:
    with pytest.raises(ValueError):
        EventLog(tmp_path, date, "r", "hybrid")


def test_repr_shows_no_secrets(log: EventLog) -> None:
    assert SECRET not in repr(log)


def _outer(message: str) -> None:
    _inner(message)


def _inner(message: str) -> None:
    raise RuntimeError(message)


def test_stack_summary_names_type_message_and_innermost_frames() -> None:
    with pytest.raises(RuntimeError) as info:
        _outer(f"upload to /bot{SECRET}/x\nfailed")

    summary = stack_summary(info.value, limit=2, secrets=[SECRET])

    assert summary.startswith("RuntimeError: upload to /bot***/x failed | at ")
    assert "adapters/test_logging_setup.py:" in summary
    assert " in _outer > adapters/test_logging_setup.py:" in summary
    assert summary.endswith(" in _inner") and "test_stack_summary" not in summary
    assert "\n" not in summary and SECRET not in summary


def test_stack_summary_of_an_exception_never_raised_has_no_frames() -> None:
    assert stack_summary(KeyError("k")) == "KeyError: 'k'"
    assert stack_summary(TimeoutError()) == "TimeoutError"


def test_a_stack_summary_field_is_masked_by_the_log(log: EventLog) -> None:
    summary = stack_summary(ValueError(f"bad {SECRET}"))

    line = log.emit("coin_failed", symbol="BTCUSDT", error_type="ValueError", stack_summary=summary)

    assert line["stack_summary"] == "ValueError: bad ***"


def _writer(root: str, symbol: str, count: int) -> None:
    log = EventLog(Path(root), "2026-11-27", "run-mp", "parallel")
    padding = symbol * 400  # long lines make torn writes likely if appends were not atomic
    for attempt in range(count):
        log.emit("coin_partial_saved", symbol=symbol, attempt=attempt, padding=padding)


def test_concurrent_processes_append_only_whole_lines(tmp_path: Path) -> None:
    symbols, count = ["AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT"], 100
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), s, count)) for s in symbols]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    day = tmp_path / "logs" / "20261127Z"
    lines = _lines(day / "engine.log")
    assert len(lines) == len(symbols) * count
    for symbol in symbols:
        mine = [e for e in lines if e["symbol"] == symbol]
        assert sorted(e["attempt"] for e in mine) == list(range(count))
        assert all(e["padding"] == symbol * 400 for e in mine)
        assert len(_lines(day / symbol / "training.log")) == count
