"""A fake of the Dropbox HTTP API on 127.0.0.1, with faults programmable per route."""

import hashlib
import json
import secrets
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from tests.fakes.fake_dropbox_routes import RouteError, Store, handle_route

DROPBOX_HOSTS = ("api.dropboxapi.com", "content.dropboxapi.com", "api.dropbox.com")
FAULT_KINDS = ("429", "500", "drop", "commit_lose", "corrupt", "expire_token")


@dataclass
class Fault:
    """One injected failure, consumed by the next matching request."""

    kind: str
    retry_after: int = 1


@dataclass
class Accounts:
    """Credentials the fake accepts."""

    app_key: str = "fake-app-key"
    app_secret: str = "fake-app-secret"
    refresh_token: str = "fake-refresh-token"
    static_tokens: set[str] = field(default_factory=lambda: {"fake-static-token"})
    token_ttl_s: int = 14400
    issued: dict[str, float] = field(default_factory=dict)


class FakeDropbox(ThreadingHTTPServer):
    """The server: an in-memory file tree, credentials, a fault queue and a request log."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.store = Store()
        self.accounts = Accounts()
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.calls: list[str] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self.server_address[1]

    def inject(self, route: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next `times` requests to `route` (e.g. `files/upload`) fail with `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        with self.lock:
            self.faults[route.strip("/")].extend(Fault(kind, retry_after) for _ in range(times))

    def next_fault(self, route: str) -> Fault | None:
        """Pop the next fault queued for `route`."""
        with self.lock:
            queue = self.faults.get(route)
            return queue.popleft() if queue else None

    def issue_token(self) -> str:
        """Create a short-lived access token."""
        token = "sl." + secrets.token_hex(8)
        self.accounts.issued[token] = time.time() + self.accounts.token_ttl_s
        return token

    def expire_all_tokens(self) -> None:
        """Expire every issued short-lived token."""
        for token in self.accounts.issued:
            self.accounts.issued[token] = 0.0

    def token_state(self, token: str) -> str:
        """Return `ok`, `expired` or `invalid` for a bearer token."""
        if token in self.accounts.static_tokens:
            return "ok"
        if token not in self.accounts.issued:
            return "invalid"
        return "ok" if self.accounts.issued[token] > time.time() else "expired"


class _Handler(BaseHTTPRequestHandler):
    server: FakeDropbox
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """Disable Nagle: headers and body go out in separate writes."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        self._send(status, json.dumps(obj).encode(), all_headers)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _auth_error(self, tag: str) -> None:
        self._send_json(401, {"error_summary": f"{tag}/", "error": {".tag": tag}})

    def do_POST(self) -> None:
        route = urlsplit(self.path).path.lstrip("/")
        self.server.calls.append(route)
        fault = self.server.next_fault(route.removeprefix("2/"))
        length = int(self.headers.get("Content-Length") or 0)
        if fault and fault.kind == "drop":
            self.rfile.read(length // 2)  # a connection lost mid-body: nothing is processed
            self._drop()
            return
        body = self.rfile.read(length)
        if route == "oauth2/token":
            self._token(body)
            return
        if fault and fault.kind in ("429", "500", "expire_token"):
            self._fail_fast(fault)
            return
        self._route(route.removeprefix("2/"), body, fault)

    def _fail_fast(self, fault: Fault) -> None:
        if fault.kind == "429":
            error = {"reason": {".tag": "too_many_requests"}, "retry_after": fault.retry_after}
            summary = {"error_summary": "too_many_requests/", "error": error}
            self._send_json(429, summary, {"Retry-After": str(fault.retry_after)})
        elif fault.kind == "500":
            self._send(500, b"internal error", {"Content-Type": "text/plain"})
        else:
            self._auth_error("expired_access_token")

    def _token(self, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        acc = self.server.accounts
        if form.get("grant_type") != "refresh_token":
            self._send_json(400, {"error": "unsupported_grant_type"})
        elif form.get("client_id") != acc.app_key or (
            "client_secret" in form and form["client_secret"] != acc.app_secret
        ):
            self._send_json(400, {"error": "invalid_client", "error_description": "bad client"})
        elif form.get("refresh_token") != acc.refresh_token:
            self._send_json(400, {"error": "invalid_grant", "error_description": "bad token"})
        else:
            token = self.server.issue_token()
            self._send_json(
                200, {"access_token": token, "expires_in": acc.token_ttl_s, "token_type": "bearer"}
            )

    def _route(self, route: str, body: bytes, fault: Fault | None) -> None:
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
        state = self.server.token_state(bearer)
        if state != "ok":
            self._auth_error(f"{state}_access_token")
            return
        arg_header = self.headers.get("Dropbox-API-Arg")
        arg = json.loads(arg_header) if arg_header else json.loads(body or b"null")
        payload = body if arg_header else b""
        corrupt = bool(fault and fault.kind == "corrupt")
        try:
            with self.server.lock:
                result, download = handle_route(self.server.store, route, arg, payload, corrupt)
        except RouteError as exc:
            self._send_json(409, {"error_summary": exc.summary, "error": exc.error})
            return
        if fault and fault.kind == "commit_lose":
            self._drop()
        elif download is not None:
            headers = {"Content-Type": "application/octet-stream"}
            headers["Dropbox-API-Result"] = json.dumps(result)
            self._send(200, download, headers)
        else:
            self._send_json(200, result)


class _LocalDropboxAdapter(HTTPAdapter):
    """Send requests for Dropbox's hosts to a local port over plain HTTP."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self._port = port

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname in DROPBOX_HOSTS:
            local = f"127.0.0.1:{self._port}"
            request.url = urlunsplit(("http", local, parts.path, parts.query, parts.fragment))
            request.headers["Host"] = local
        return super().send(request, **kwargs)


def local_dropbox_session(port: int) -> requests.Session:
    """Return a `requests.Session` that routes the Dropbox API hosts to `127.0.0.1:port`."""
    session = requests.Session()
    adapter = _LocalDropboxAdapter(port)
    for host in DROPBOX_HOSTS:
        session.mount(f"https://{host}", adapter)
    return session


@contextmanager
def running_fake_dropbox() -> Iterator[FakeDropbox]:
    """Run a fake Dropbox on an ephemeral port for the duration of the block."""
    server = FakeDropbox()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def content_hash(data: bytes) -> str:
    """Dropbox's content hash, computed independently of the code under test."""
    block = 4 * 1024 * 1024
    digests = b"".join(
        hashlib.sha256(data[i : i + block]).digest() for i in range(0, len(data), block)
    )
    return hashlib.sha256(digests).hexdigest()
