"""A small Telegram Bot API client and the HTML messages the retraining job sends.

The bot token sits in every request URL and `requests` puts that URL into its exception
messages, so no `requests` exception leaves this module: each is turned into a
`TelegramError` whose text has the token masked, raised outside the ``except`` block so the
original exception is not even chained as context.
"""

import html
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from retrain_assets.core.errors import RetrainError
from retrain_assets.core.redaction import redact

MAX_MESSAGE_CHARS = 4096
FAILURE_REASON_CHARS = 300

# Tags and entities are atomic; text is cut into short runs so a line longer than a whole
# message can still be split near the limit, at worst inside a word.
_HTML_TOKEN = re.compile(r"<[^<>]*>|&#?\w+;|\n|[^<&\n]{1,80}|[<&]")
_PLAIN_TOKEN = re.compile(r"\n|[^\n]{1,80}")
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)[^<>]*>")


class TelegramError(RetrainError):
    """A message that Telegram did not accept; the text never contains the bot token."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.sent_message_ids: list[int] = []


def escape(s: str) -> str:
    """Escapes a dynamic string for Telegram's HTML parse mode.

    Args:
        s: Any text: a symbol, an exception message, a label.

    Returns:
        The text with ``&``, ``<``, ``>`` and quotes replaced by HTML entities.
    """
    return html.escape(s, quote=True)


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _track(token: str, stack: list[tuple[str, str]]) -> None:
    """Updates the stack of open tags for one token."""
    match = _TAG.fullmatch(token)
    if match is None:
        return
    closing, name = match.group(1) == "/", match.group(2).lower()
    if not closing:
        stack.append((name, token))
    elif stack and stack[-1][0] == name:
        stack.pop()


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS, html_mode: bool = True) -> list[str]:
    """Splits a text into messages of at most `limit` characters, preferably at line ends.

    In HTML mode a cut never falls inside a tag or an entity, and the tags open at a cut are
    closed at the end of one part and opened again at the start of the next, so every part is
    well-formed on its own. A cut falls at the last line end that fits; only a line longer
    than a whole message is cut inside the line.

    Args:
        text: The message text.
        limit: The most characters one part may have.
        html_mode: Whether the text is Telegram HTML.

    Returns:
        The parts, in order; parts with no visible text are dropped.

    Raises:
        ValueError: If the open tags alone leave no room for text.
    """
    tokens = (_HTML_TOKEN if html_mode else _PLAIN_TOKEN).findall(text)
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    start = 0
    while start < len(tokens):
        prefix = "".join(tag for _, tag in stack)
        end, stack_at_end = _fill(tokens, start, stack, limit - len(prefix), html_mode)
        if end == start:
            raise ValueError("open HTML tags leave no room for text in a message")
        parts.append(prefix + "".join(tokens[start:end]) + _closing(stack_at_end))
        start, stack = end, stack_at_end
    visible = (_TAG.sub("", part) if html_mode else part for part in parts)
    return [part for part, text in zip(parts, visible, strict=True) if text.strip()]


def _fill(
    tokens: list[str], start: int, stack: list[tuple[str, str]], room: int, html_mode: bool
) -> tuple[int, list[tuple[str, str]]]:
    """Finds where the part that begins at `start` ends.

    Returns:
        The index after the part's last token, and the tags still open there.
    """
    stack = list(stack)
    used = 0
    best: tuple[int, list[tuple[str, str]]] = (start, list(stack))
    line_end: tuple[int, list[tuple[str, str]]] | None = None
    for index in range(start, len(tokens)):
        after = list(stack)
        if html_mode:
            _track(tokens[index], after)
        if used + len(tokens[index]) + len(_closing(after)) > room:
            return line_end or best
        used += len(tokens[index])
        stack = after
        best = (index + 1, list(stack))
        if tokens[index] == "\n":
            line_end = best
    return best


class TelegramClient:
    """Sends messages through the Telegram Bot API, with bounded retries.

    Args:
        token: The bot token; kept out of `repr` and of every error message.
        chat_id: The chat to post to (an id or ``@channel``).
        base_url: The Bot API root; a local fake in tests.
        timeout_s: The timeout of one HTTP request.
        max_retry_after_s: The total seconds the client may wait on 429 answers; each 429
            counts at least one second, so a server answering ``retry_after=0`` cannot
            keep it looping.
        max_attempts: The attempts per message when the server answers 5xx or cannot be
            reached.
        sleep: The function that waits; injected in tests.
        session: The HTTP session; a new one when omitted.
    """

    def __init__(
        self,
        token: str,
        chat_id: str,
        base_url: str = "https://api.telegram.org",
        timeout_s: float = 10,
        max_retry_after_s: float = 30,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._token = token
        self.chat_id = chat_id
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retry_after_s = max_retry_after_s
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"TelegramClient(chat_id={self.chat_id!r}, base_url={self.base_url!r})"

    def send(self, text: str, parse_mode: str | None = "HTML") -> list[int]:
        """Sends a text, split into several messages when it is longer than one allows.

        Args:
            text: The message; in HTML mode every dynamic string must be escaped.
            parse_mode: ``"HTML"``, another Bot API parse mode, or None for plain text.

        Returns:
            The ids of the messages sent, in order.

        Raises:
            ValueError: If the text is empty.
            TelegramError: If a part was refused or could not be delivered; its
                `sent_message_ids` lists the parts that did go out.
        """
        parts = split_message(text, html_mode=parse_mode == "HTML")
        if not parts:
            raise ValueError("a Telegram message needs some visible text")
        ids: list[int] = []
        for part in parts:
            payload: dict[str, Any] = {
                "chat_id": self.chat_id,
                "text": part,
                "disable_web_page_preview": True,
            }
            if parse_mode is not None:
                payload["parse_mode"] = parse_mode
            try:
                ids.append(int(self.call("sendMessage", payload)["message_id"]))
            except TelegramError as exc:
                exc.sent_message_ids = ids
                raise
        return ids

    def call(self, method: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Calls one Bot API method, retrying 429, 5xx and connection failures.

        Args:
            method: The method name, such as ``sendMessage`` or ``getMe``.
            payload: The JSON body.

        Returns:
            The ``result`` object of the answer.

        Raises:
            TelegramError: If the call was refused or the retries ran out.
        """
        waited = 0.0
        failures = 0
        while True:
            response, failure = self._post(method, payload or {})
            if response is not None and response.status_code == 429:
                retry_after = _retry_after(response)
                waited += max(retry_after, 1.0)
                if waited > self.max_retry_after_s:
                    raise self._error(method, "rate limited past the retry budget", 429)
                self._sleep(retry_after)
                continue
            if response is not None and response.status_code < 500:
                return self._result(method, response)
            failures += 1
            if response is not None:
                failure = f"HTTP {response.status_code}: {_description(response)}"
            if failures >= self.max_attempts:
                status = None if response is None else response.status_code
                raise self._error(method, f"gave up after {failures} attempts: {failure}", status)
            self._sleep(min(0.5 * 2 ** (failures - 1), 5.0))

    def _post(self, method: str, payload: dict[str, Any]) -> tuple[requests.Response | None, str]:
        """Posts once; a transport failure comes back as text, never as an exception."""
        url = f"{self.base_url}/bot{self._token}/{method}"
        try:
            return self._session.post(url, json=payload, timeout=self.timeout_s), ""
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def _result(self, method: str, response: requests.Response) -> dict[str, Any]:
        body = _json(response)
        if response.ok and body.get("ok") is True and isinstance(body.get("result"), dict):
            return body["result"]
        reason = f"HTTP {response.status_code}: {_description(response)}"
        raise self._error(method, reason, response.status_code)

    def _error(self, method: str, reason: str, status: int | None) -> TelegramError:
        return TelegramError(redact(f"Telegram {method}: {reason}", [self._token]), status)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _description(response: requests.Response) -> str:
    description = _json(response).get("description")
    return str(description) if description else response.text[:200]


def _retry_after(response: requests.Response) -> float:
    parameters = _json(response).get("parameters") or {}
    value = parameters.get("retry_after", response.headers.get("Retry-After", 1))
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def format_start(label: str, total_symbols: int, mode: str, date: str) -> str:
    """Builds the message sent when a day's retraining starts.

    Args:
        label: The deployment's name, such as ``prod``.
        total_symbols: How many symbols the run covers.
        mode: The scheduling mode (sequential, parallel, hybrid).
        date: The trained day, ``YYYY-MM-DD``.

    Returns:
        The message, in Telegram HTML.
    """
    return (
        f"🚀 <b>{escape(label)}</b> retraining started\n"
        f"Date: <code>{escape(date)}</code> · Symbols: <b>{total_symbols}</b>"
        f" · Mode: <code>{escape(mode)}</code>"
    )


def format_completion(
    label: str,
    date: str,
    succeeded: int,
    failed: int,
    skipped: int,
    duration_s: float,
    best: tuple[str, float] | None,
    worst: tuple[str, float] | None,
) -> str:
    """Builds the summary sent when a day's retraining has finished.

    Args:
        label: The deployment's name.
        date: The trained day, ``YYYY-MM-DD``.
        succeeded: Symbols trained and stored.
        failed: Symbols that failed.
        skipped: Symbols skipped, already done or not eligible.
        duration_s: Wall-clock seconds from start to finish.
        best: The best symbol and its score, if any symbol succeeded.
        worst: The worst symbol and its score, if any symbol succeeded.

    Returns:
        The message, in Telegram HTML.
    """
    icon = "✅" if failed == 0 else "⚠️"
    lines = [
        f"{icon} <b>{escape(label)}</b> retraining finished",
        f"Date: <code>{escape(date)}</code> · Duration: {_duration(duration_s)}",
        f"Succeeded: <b>{succeeded}</b> · Failed: <b>{failed}</b> · Skipped: <b>{skipped}</b>",
    ]
    for name, entry in (("Best", best), ("Worst", worst)):
        if entry is not None:
            lines.append(f"{name}: <code>{escape(entry[0])}</code> {entry[1]:.4f}")
    return "\n".join(lines)


def format_failure(
    symbol: str,
    date: str,
    error_type: str,
    reason: str,
    run_url: str | None,
    *,
    secrets: Iterable[str] = (),
) -> str:
    """Builds the alert sent when one symbol fails.

    Args:
        symbol: The symbol that failed.
        date: The trained day, ``YYYY-MM-DD``.
        error_type: The exception's class name.
        reason: The error message; folded onto one line and cut to about 300 characters.
        run_url: A link to the run in the Dagster UI; only http(s) links become links.
        secrets: Values to mask in the reason, which may quote a URL or a response.

    Returns:
        The message, in Telegram HTML.
    """
    one_line = " ".join(redact(reason, secrets).split())
    if len(one_line) > FAILURE_REASON_CHARS:
        one_line = one_line[: FAILURE_REASON_CHARS - 1].rstrip() + "…"
    lines = [
        f"❌ <b>{escape(symbol)}</b> failed on <code>{escape(date)}</code>",
        f"<code>{escape(error_type)}</code>: {escape(one_line)}",
    ]
    if run_url and run_url.startswith(("http://", "https://")):
        lines.append(f'<a href="{escape(run_url)}">Open the run</a>')
    elif run_url:
        lines.append(f"Run: <code>{escape(run_url)}</code>")
    return "\n".join(lines)
