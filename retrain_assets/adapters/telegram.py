"""A small Telegram Bot API client and the HTML messages the retraining job sends.

The bot token sits in every request URL and `requests` puts that URL into its exception
messages, so no `requests` exception leaves this module: each is turned into a
`TelegramError` whose text has the token masked, raised outside the ``except`` block so the
original exception is not even chained as context.
"""

import time
from collections.abc import Callable
from typing import Any

import requests

from retrain_assets.core.errors import RetrainError
from retrain_assets.core.redaction import redact
from retrain_assets.core.report.telegram_text import (
    FAILURE_REASON_CHARS,
    MAX_MESSAGE_CHARS,
    best_and_worst,
    escape,
    format_completion,
    format_failure,
    format_lifecycle,
    format_start,
    run_url,
    split_message,
)

__all__ = [
    "FAILURE_REASON_CHARS",
    "MAX_MESSAGE_CHARS",
    "TelegramClient",
    "TelegramError",
    "best_and_worst",
    "escape",
    "format_completion",
    "format_failure",
    "format_lifecycle",
    "format_start",
    "run_url",
    "split_message",
]


class TelegramError(RetrainError):
    """A message that Telegram did not accept; the text never contains the bot token.

    Attributes:
        status_code: The last HTTP status, None when the server was not reached.
        brief: A few words for a console (`ConnectionError after 3 attempts`, `HTTP 401`),
            never a URL; the message holds the whole (masked) detail for the logs.
        sent_message_ids: The parts of a split message that did go out.
    """

    def __init__(self, message: str, status_code: int | None = None, brief: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.brief = brief or message[:80]
        self.sent_message_ids: list[int] = []


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
                    reason = "rate limited past the retry budget"
                    raise self._error(method, reason, 429, "rate limited")
                self._sleep(retry_after)
                continue
            if response is not None and response.status_code < 500:
                return self._result(method, response)
            failures += 1
            if response is not None:
                failure = f"HTTP {response.status_code}: {_description(response)}"
            if failures >= self.max_attempts:
                status = None if response is None else response.status_code
                raise self._error(
                    method,
                    f"gave up after {failures} attempts: {failure}",
                    status,
                    f"{failure.partition(':')[0]} after {failures} attempts",
                )
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
        raise self._error(method, reason, response.status_code, f"HTTP {response.status_code}")

    def _error(self, method: str, reason: str, status: int | None, brief: str) -> TelegramError:
        masked = redact(f"Telegram {method}: {reason}", [self._token])
        return TelegramError(masked, status, redact(brief, [self._token]))


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
