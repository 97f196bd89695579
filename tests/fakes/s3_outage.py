"""An S3 endpoint that goes down on cue: a forwarding proxy in front of a moto server.

`S3Outage(moto_url, down_on_first_put=True)` answers like moto until the first object upload,
then drops every connection without a reply, as a stopped server does, until `up()`: the
CLI's start-up check of the bucket passes and every upload of the run fails.
"""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host"}


class S3Outage:
    """A proxy on 127.0.0.1 forwarding to `target` while up; counts the uploads it forwarded."""

    def __init__(self, target: str, *, down_on_first_put: bool = False) -> None:
        self.target = urlsplit(target).netloc
        self.down_on_first_put = down_on_first_put
        self.is_down = False
        self.puts_forwarded = 0
        self.puts_refused = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The endpoint to give the S3 client."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def up(self) -> None:
        """Forward everything again."""
        with self._lock:
            self.is_down, self.down_on_first_put = False, False

    def __enter__(self) -> "S3Outage":
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _admit(self, method: str) -> bool:
        with self._lock:
            if method == "PUT" and self.down_on_first_put:
                self.is_down = True
            if self.is_down:
                self.puts_refused += method == "PUT"
                return False
            self.puts_forwarded += method == "PUT"
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outage = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if not outage._admit(self.command):
                    self.close_connection = True  # no reply at all, like a stopped server
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(outage.target, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    reply = upstream.getresponse()
                    data = reply.read()
                finally:
                    upstream.close()
                self.send_response(reply.status, reply.reason)
                head = self.command == "HEAD"  # its Content-Length is the object's, kept
                skip = HOP_BY_HOP if head else HOP_BY_HOP | {"content-length"}
                for name, value in reply.getheaders():
                    if name.lower() not in skip:
                        self.send_header(name, value)
                if not head:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        return Handler
