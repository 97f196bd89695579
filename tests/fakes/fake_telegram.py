"""A fake Telegram Bot API on 127.0.0.1, strict where the real one is strict.

Use it as a context manager (``with FakeTelegram() as tg: ...``) or through the
`fake_telegram` fixture (list this module in a conftest's ``pytest_plugins`` or import the
fixture there).
"""

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import pytest

MAX_TEXT_CHARS = 4096
FAKE_TOKEN = "123456:FAKE-secret-token"
ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre"})

_PASS = 0  # a queued "fault" that lets its request through
_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>\w+)")
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)([^<>]*)>")
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
_HREF = re.compile(r"""\s+href\s*=\s*(?:"[^"]*"|'[^']*')\s*""")
_CODE_CLASS = re.compile(r"""\s+class\s*=\s*"language-[\w+-]+"\s*""")


def html_error(text: str) -> str | None:
    """Checks Telegram HTML the way the Bot API does, in a simplified form.

    Returns:
        Why the text would be refused, or None when it is well-formed.
    """
    stack: list[str] = []
    for pos, char in ((m.start(), m.group()) for m in re.finditer(r"[<&]", text)):
        if char == "&":
            if not _ENTITY.match(text, pos):
                return f"Character entity expected at byte offset {pos}"
            continue
        match = _TAG.match(text, pos)
        if match is None:
            return f"Unsupported start tag at byte offset {pos}"
        closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
        if name not in ALLOWED_TAGS:
            return f'Unsupported start tag "{name}" at byte offset {pos}'
        if closing:
            if attrs.strip() or not stack or stack.pop() != name:
                return f'Unmatched end tag "{name}" at byte offset {pos}'
            continue
        if not _attributes_ok(name, attrs):
            return f'Bad attributes of tag "{name}" at byte offset {pos}'
        stack.append(name)
    if stack:
        return f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return None


def _attributes_ok(name: str, attrs: str) -> bool:
    if name == "a":
        return bool(_HREF.fullmatch(attrs)) and html_error(attrs) is None
    if name == "code" and attrs.strip():
        return bool(_CODE_CLASS.fullmatch(attrs))
    return not attrs.strip()


@dataclass
class Fault:
    """One injected answer: a status, and for 429 the seconds to wait."""

    status: int
    retry_after: int = 1
    description: str | None = None
    delay_s: float = 0.0


class FakeTelegram:
    """A threaded HTTP server speaking a subset of the Bot API.

    Args:
        token: The only bot token accepted.
        chat_id: The only chat that exists.
    """

    def __init__(self, token: str = FAKE_TOKEN, chat_id: str = "4242") -> None:
        self.token = token
        self.chat_id = chat_id
        self.messages: list[dict[str, Any]] = []
        self.request_count = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to pass as the client's ``base_url``."""
        if self._server is None:
            raise RuntimeError("the fake Telegram server is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeTelegram":
        """Starts serving on a free port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and frees the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def fail_next(
        self,
        count: int,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        delay_s: float = 0.0,
        skip: int = 0,
    ) -> None:
        """Makes `count` authorised requests, after the next `skip`, answer `status` instead."""
        with self._lock:
            self._faults.extend(Fault(_PASS) for _ in range(skip))
            self._faults.extend(
                Fault(status, retry_after, description, delay_s) for _ in range(count)
            )

    def texts(self) -> list[str]:
        """The texts of the messages accepted so far."""
        with self._lock:
            return [m["text"] for m in self.messages]

    def handle(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answers one POST; called from the server's threads."""
        match = _PATH.fullmatch(path)
        if match is None:
            return _refusal(404, "Not Found")
        if match["token"] != self.token:
            return _refusal(401, "Unauthorized")
        with self._lock:
            self.request_count += 1
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.status != _PASS:
            return _fault_answer(fault)
        if match["method"] == "getMe":
            bot = {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Fake"}
            return 200, {"ok": True, "result": bot | {"username": "fake_bot"}}
        if match["method"] != "sendMessage":
            return _refusal(404, "Not Found: method not found")
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return _refusal(400, "Bad Request: invalid JSON")
        return self._send_message(payload)

    def _send_message(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = payload.get("text")
        if str(payload.get("chat_id")) != self.chat_id:
            return _refusal(400, "Bad Request: chat not found")
        if not isinstance(text, str) or not text.strip():
            return _refusal(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_CHARS:
            return _refusal(400, "Bad Request: message is too long")
        if payload.get("parse_mode") == "HTML":
            problem = html_error(text)
            if problem:
                return _refusal(400, f"Bad Request: can't parse entities: {problem}")
        with self._lock:
            message = {"message_id": len(self.messages) + 1, **payload}
            self.messages.append(message)
        chat = {"id": self.chat_id, "type": "private"}
        result = {"message_id": message["message_id"], "date": int(time.time()), "chat": chat}
        return 200, {"ok": True, "result": result | {"text": text}}


def _refusal(status: int, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"ok": False, "error_code": status, "description": description}


def _fault_answer(fault: Fault) -> tuple[int, dict[str, Any]]:
    if fault.delay_s:
        time.sleep(fault.delay_s)
    if fault.status == 429:
        description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
        status, body = _refusal(429, description)
        return status, body | {"parameters": {"retry_after": fault.retry_after}}
    return _refusal(fault.status, fault.description or "Internal Server Error")


def _handler_for(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = fake.handle(self.path, self.rfile.read(length))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        # getMe works with either verb, as on the real API.
        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            """Keeps test output quiet."""

    return Handler


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A running fake Telegram Bot API, stopped after the test."""
    with FakeTelegram() as server:
        yield server
