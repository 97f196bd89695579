"""Tests of the Telegram client and messages, against the fake Bot API."""

import re
import socket
import traceback
from collections.abc import Iterator

import pytest

from retrain_assets.adapters.telegram import (
    MAX_MESSAGE_CHARS,
    TelegramClient,
    TelegramError,
    best_and_worst,
    escape,
    format_completion,
    format_failure,
    format_start,
    run_url,
    split_message,
)
from tests.fakes.fake_telegram import FakeTelegram, html_error

_TAGS = re.compile(r"<[^<>]*>")


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(telegram: FakeTelegram, sleeps: list[float]) -> TelegramClient:
    return TelegramClient(
        telegram.token, telegram.chat_id, base_url=telegram.base_url, sleep=sleeps.append
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_hidden(token: str, exc: BaseException) -> None:
    rendered = "".join(traceback.format_exception(exc))
    for text in (str(exc), repr(exc), rendered):
        assert token not in text
        assert token.replace(":", "%3A") not in text


def test_send_posts_one_message_and_returns_its_id(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    assert client.send("<b>hello</b>") == [1]
    [message] = telegram.messages
    assert message["chat_id"] == telegram.chat_id
    assert message["text"] == "<b>hello</b>"
    assert message["parse_mode"] == "HTML"
    assert message["disable_web_page_preview"] is True


def test_call_reaches_other_methods(client: TelegramClient) -> None:
    assert client.call("getMe")["username"] == "fake_bot"


def test_a_long_text_is_split_at_line_ends_into_well_formed_parts(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    lines = [
        f'{i:04d} <b>BTC</b> &amp; <a href="https://h/?a=1&amp;b={i}">run</a>' for i in range(300)
    ]
    text = "<i>" + "\n".join(lines) + "</i>"
    assert len(text) > 3 * MAX_MESSAGE_CHARS

    ids = client.send(text)

    parts = telegram.texts()
    assert len(ids) == len(parts) >= 4
    assert all(len(part) <= MAX_MESSAGE_CHARS for part in parts)
    # Each part is accepted by the fake's HTML check; cuts fall at line ends only.
    assert all(part.startswith("<i>") and part.endswith("</i>") for part in parts)
    assert all(_TAGS.sub("", part).endswith("\n") for part in parts[:-1])
    assert "".join(_TAGS.sub("", part) for part in parts) == _TAGS.sub("", text)


def test_a_line_longer_than_a_message_is_cut_between_entities() -> None:
    text = "<pre>" + "a&amp;b&lt;" * 2000 + "</pre>"

    parts = split_message(text)

    assert len(parts) >= 5
    assert all(len(p) <= MAX_MESSAGE_CHARS and html_error(p) is None for p in parts)
    assert "".join(_TAGS.sub("", p) for p in parts) == _TAGS.sub("", text)


@pytest.mark.parametrize(
    ("text", "html_mode", "expected"),
    [
        ("short", True, ["short"]),
        ("<b>x</b>", True, ["<b>x</b>"]),
        # Plain text that looks like a tag is not treated as one.
        ("<b>\n" + "y" * 10, False, ["<b>\n", "y" * 10]),
        ("aaaa\nbbbb\ncccc", True, ["aaaa\nbbbb\n", "cccc"]),
        ("<b>aaa\nbbb</b>", True, ["<b>aaa\n</b>", "<b>bbb</b>"]),
        ("", True, []),
    ],
)
def test_split_message_cuts_at_the_last_line_end_that_fits(
    text: str, html_mode: bool, expected: list[str]
) -> None:
    assert split_message(text, limit=12, html_mode=html_mode) == expected


def test_an_empty_message_is_refused_before_sending(client: TelegramClient) -> None:
    with pytest.raises(ValueError, match="visible text"):
        client.send("<b> </b>")


def test_a_429_is_honoured_then_the_message_goes_through(
    telegram: FakeTelegram, client: TelegramClient, sleeps: list[float]
) -> None:
    telegram.fail_next(2, status=429, retry_after=3)

    assert client.send("after the storm") == [1]
    assert sleeps == [3, 3]
    assert telegram.request_count == 3


def test_rate_limiting_past_the_budget_raises_without_the_token(
    telegram: FakeTelegram, sleeps: list[float]
) -> None:
    client = TelegramClient(
        telegram.token,
        telegram.chat_id,
        base_url=telegram.base_url,
        max_retry_after_s=7,
        sleep=sleeps.append,
    )
    telegram.fail_next(10, status=429, retry_after=3)

    with pytest.raises(TelegramError, match="rate limited") as info:
        client.send("never")

    assert info.value.status_code == 429
    assert sleeps == [3, 3]
    assert telegram.messages == []
    _assert_hidden(telegram.token, info.value)


def test_server_errors_are_retried_with_backoff(
    telegram: FakeTelegram, client: TelegramClient, sleeps: list[float]
) -> None:
    telegram.fail_next(2, status=500)

    assert client.send("third time lucky") == [1]
    assert sleeps == [0.5, 1.0]


def test_server_errors_past_max_attempts_raise(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    telegram.fail_next(5, status=502, description="Bad Gateway")

    with pytest.raises(TelegramError, match="Bad Gateway") as info:
        client.send("lost")

    assert info.value.status_code == 502
    assert telegram.request_count == 3


def test_a_server_that_is_down_gives_an_error_without_the_token(sleeps: list[float]) -> None:
    token = "987654:DOWN-secret-token"
    client = TelegramClient(
        token, "1", base_url=f"http://127.0.0.1:{_closed_port()}", sleep=sleeps.append
    )

    with pytest.raises(TelegramError, match="ConnectionError") as info:
        client.send("anyone there?")

    assert info.value.status_code is None
    assert len(sleeps) == 2
    # The requests exception (whose text holds the URL) is not even kept as context.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    _assert_hidden(token, info.value)


def test_a_timeout_is_retried(telegram: FakeTelegram, sleeps: list[float]) -> None:
    client = TelegramClient(
        telegram.token,
        telegram.chat_id,
        base_url=telegram.base_url,
        timeout_s=0.1,
        sleep=sleeps.append,
    )
    telegram.fail_next(1, status=500, delay_s=0.4)

    assert client.send("slow") == [1]
    assert sleeps == [0.5]


def test_a_response_quoting_the_token_is_redacted(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    telegram.fail_next(1, status=400, description=f"Bad Request: /bot{telegram.token}/x")

    with pytest.raises(TelegramError, match=r"/bot\*\*\*/x") as info:
        client.send("echo")

    _assert_hidden(telegram.token, info.value)


def test_a_wrong_token_is_refused_and_not_echoed(telegram: FakeTelegram) -> None:
    client = TelegramClient("111111:WRONG-token", telegram.chat_id, base_url=telegram.base_url)

    with pytest.raises(TelegramError, match="Unauthorized") as info:
        client.send("hi")

    assert info.value.status_code == 401
    _assert_hidden("111111:WRONG-token", info.value)


def test_an_unknown_chat_is_refused(telegram: FakeTelegram) -> None:
    client = TelegramClient(telegram.token, "999", base_url=telegram.base_url)

    with pytest.raises(TelegramError, match="chat not found"):
        client.send("hi")


def test_a_failed_part_reports_the_parts_already_sent(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    text = "\n".join("z" * 100 for _ in range(100))
    telegram.fail_next(1, status=400, description="Bad Request: nope", skip=1)

    with pytest.raises(TelegramError, match="nope") as info:
        client.send(text)

    assert info.value.sent_message_ids == [1]
    assert len(telegram.messages) == 1


def test_repr_does_not_show_the_token(client: TelegramClient, telegram: FakeTelegram) -> None:
    assert telegram.token not in repr(client)
    assert telegram.token not in str(client)


def test_hostile_input_is_escaped_and_accepted(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    text = format_failure(
        "<script>&",
        "2026-11-27",
        "Value<Error>",
        "bad <script>alert('x')</script> & \"co\"",
        "https://dagster.local/runs/1?a=1&b=<2>",
    )

    client.send(text)

    [sent] = telegram.texts()
    assert "&lt;script&gt;&amp;" in sent
    assert "<script>" not in sent
    assert 'href="https://dagster.local/runs/1?a=1&amp;b=&lt;2&gt;"' in sent


def test_escape_replaces_html_specials() -> None:
    assert escape('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"


def test_format_start_names_label_date_symbols_and_mode() -> None:
    text = format_start("prod<1>", 20, "hybrid", "2026-11-27")

    assert "prod&lt;1&gt;" in text
    assert "<b>20</b>" in text and "hybrid" in text and "2026-11-27" in text
    assert html_error(text) is None


@pytest.mark.parametrize(
    ("failed", "best", "worst", "icon", "duration"),
    [
        (0, ("BTCUSDT", 12.345678), ("ETHUSDT", -3.2), "✅", "1h 01m 01s"),
        (2, None, None, "⚠️", "1h 01m 01s"),
    ],
)
def test_format_completion_summarises_counts_duration_and_extremes(
    failed: int,
    best: tuple[str, float] | None,
    worst: tuple[str, float] | None,
    icon: str,
    duration: str,
) -> None:
    text = format_completion("prod", "2026-11-27", 17, failed, 1, 3661.0, best, worst)

    assert text.startswith(icon)
    assert f"Failed: <b>{failed}</b>" in text and "Skipped: <b>1</b>" in text
    assert duration in text
    assert ("Best: <code>BTCUSDT</code> 12.3457" in text) == (best is not None)
    assert ("Worst:" in text) == (worst is not None)
    assert html_error(text) is None


@pytest.mark.parametrize(
    ("scores", "ranked"),
    [
        ([], (None, None)),
        # One scored symbol is both best and worst: no ranking at all.
        ([("BTCUSDT", 3.0)], (None, None)),
        ([("BTCUSDT", 3.0), ("ETHUSDT", -1.0)], (("BTCUSDT", 3.0), ("ETHUSDT", -1.0))),
        ([("A", 1.0), ("B", 9.0), ("C", -9.0)], (("B", 9.0), ("C", -9.0))),
    ],
)
def test_best_and_worst_rank_only_two_or_more_scores(
    scores: list[tuple[str, float]], ranked: tuple[object, object]
) -> None:
    assert best_and_worst(scores) == ranked


@pytest.mark.parametrize(
    ("base", "url"),
    [
        (None, None),
        ("http://ui:3000/", "http://ui:3000/runs/r1"),
        ("https://d", "https://d/runs/r1"),
    ],
)
def test_run_url_links_a_run_when_the_ui_is_known(base: str | None, url: str | None) -> None:
    assert run_url(base, "r1") == url


@pytest.mark.parametrize(("seconds", "shown"), [(4.26, "4.3s"), (125, "2m 05s")])
def test_format_completion_shows_short_durations_compactly(seconds: float, shown: str) -> None:
    assert shown in format_completion("p", "2026-11-27", 1, 0, 0, seconds, None, None)


def test_format_failure_folds_and_truncates_the_reason() -> None:
    reason = "line one\n  line two\t" + "x" * 1000

    text = format_failure("BTCUSDT", "2026-11-27", "TrainingTimeout", reason, None)

    assert text.count("\n") == 1
    assert "line one line two" in text
    assert len(text) < 400 and text.endswith("…")


def test_format_failure_masks_secrets_and_links_only_http_urls() -> None:
    text = format_failure(
        "BTCUSDT",
        "2026-11-27",
        "TelegramError",
        "GET /botsecret-tok/x",
        "javascript:x",
        secrets=["secret-tok"],
    )

    assert "secret-tok" not in text and "/bot***/x" in text
    assert "<a " not in text and "<code>javascript:x</code>" in text
    assert html_error(text) is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("<b>bold</b> <i>it</i> <code>c</code>", True),
        ('<a href="https://x/?a=1&amp;b=2">l</a>', True),
        ("&lt;&gt;&amp;&quot;&#x27;&#39;", True),
        ("<script>x</script>", False),
        ("fish & chips", False),
        ("<b><i>x</b></i>", False),
        ("<b>open", False),
        ("1 < 2", False),
    ],
)
def test_the_fake_checks_html_like_telegram(text: str, ok: bool) -> None:
    assert (html_error(text) is None) == ok


def test_plain_text_is_sent_without_a_parse_mode(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    assert client.send("1 < 2 & fish", parse_mode=None) == [1]
    [message] = telegram.messages
    assert "parse_mode" not in message and message["text"] == "1 < 2 & fish"


def test_each_error_has_a_brief_for_a_console_without_a_url(
    telegram: FakeTelegram, sleeps: list[float]
) -> None:
    down_url = f"http://127.0.0.1:{_closed_port()}"
    down = TelegramClient("987654:DOWN-token", "1", base_url=down_url, sleep=sleeps.append)
    refused = TelegramClient("111111:WRONG-token", telegram.chat_id, base_url=telegram.base_url)
    briefs = []
    for client in (down, refused):
        with pytest.raises(TelegramError) as info:
            client.send("hi")
        briefs.append(info.value.brief)
    assert briefs == ["ConnectionError after 3 attempts", "HTTP 401"]
