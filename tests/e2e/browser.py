"""Headless Chromium driven over the Chrome DevTools Protocol, for tests that read live pages.

`ui_pages.render` takes one picture of a page after a fixed budget of virtual time; this
harness keeps the page open so a test can wait for what it needs and then measure it:

    with chromium() as browser:
        browser.open("file:///tmp/report.html", viewport=(1600, 1000))
        browser.wait_for("document.querySelectorAll('figure.equity').length === 6")
        assert browser.evaluate("document.documentElement.scrollWidth <= innerWidth")
        browser.screenshot(Path("test-artifacts/report.png"))

Chromium runs with a fresh profile and `--remote-debugging-port=0`; the port it picked is
read from the profile's `DevToolsActivePort`, and the page's websocket from `/json/list`.
Only 127.0.0.1 and file:// are reachable: `open` refuses other URLs, and every other host
name resolves to nothing and every other address goes to a closed proxy port, so a page's
own requests stay local too. Leaving the `with` block always kills Chromium.
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection, connect

from tests.e2e.ui_pages import CHROMIUM, CHROMIUM_FLAGS

LOCAL_ONLY = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=127.0.0.1:9",  # the discard port: nothing listens, non-local requests fail
    "--proxy-bypass-list=127.0.0.1",
]


class BrowserError(RuntimeError):
    """Chromium did not start, a command failed, or a page's script threw."""


class Browser:
    """One page of a running Chromium, spoken to over its DevTools websocket."""

    def __init__(self, socket: ClientConnection, pid: int) -> None:
        self._socket = socket
        self.pid = pid  # the browser process, for a test that checks it is gone afterwards
        self._next_id = 0

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Run one DevTools command and return its result; events read on the way are dropped."""
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        for message in self._messages(timeout, f"{method}'s answer"):
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message["result"]
        raise AssertionError("unreachable")  # _messages raises on its deadline

    def open(self, url: str, viewport: tuple[int, int] = (1600, 1000), timeout: float = 30) -> None:
        """Load `url` (http://127.0.0.1:PORT/... or file://...) in a `viewport` wide x high
        window and return once its load event has fired."""
        parts = urlsplit(url)
        if parts.scheme != "file" and (parts.scheme, parts.hostname) != ("http", "127.0.0.1"):
            raise BrowserError(f"only http://127.0.0.1 and file:// may be opened, not {url}")
        width, height = viewport
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.send("Page.enable")
        result = self.send("Page.navigate", url=url, timeout=timeout)
        if result.get("errorText"):
            raise BrowserError(f"{url}: {result['errorText']}")
        for message in self._messages(timeout, f"{url} to load"):
            if message.get("method") == "Page.loadEventFired":
                return

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JS expression in the page (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{expression!r} threw: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20, poll: float = 0.1) -> Any:
        """Evaluate `expression` until it is truthy and return that value; fail after `timeout`.

        A throw counts as not yet (the element is not there, the page is navigating); the
        timeout's message carries the last value or error. Values come back as JSON, where
        a DOM node is `{}` (falsy here): test for it with `!!`.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError as error:
                value = error
            if value and not isinstance(value, BrowserError):
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} still {value!r} after {timeout} s")
            time.sleep(poll)

    def wait_for_text(self, text: str, timeout: float = 20) -> None:
        """Wait until the page's visible text contains `text`."""
        self.wait_for(
            f"document.body && document.body.innerText.includes({json.dumps(text)})", timeout
        )

    def element(self, selector: str) -> dict[str, Any] | None:
        """The first element matching `selector`: its text, href, class and bounding rect."""
        return self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; const r = e.getBoundingClientRect();"
            " return {text: e.innerText ?? e.textContent, href: e.href ?? e.getAttribute('href'),"
            " className: e.getAttribute('class'), rect: {left: r.left, top: r.top,"
            " right: r.right, bottom: r.bottom, width: r.width, height: r.height}}; })()"
        )

    def click(self, selector: str) -> None:
        """Click the first element matching `selector` (it must exist)."""
        found = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (e) e.click(); return !!e; })()"
        )
        if not found:
            raise BrowserError(f"nothing matches {selector!r}")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """Save the viewport (or the whole page) as a PNG at `path` and return the path."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
            params["clip"]["scale"] = 1
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def _messages(self, timeout: float, what: str) -> Iterator[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                yield json.loads(self._socket.recv(timeout=left))
            except TimeoutError:
                break
        raise TimeoutError(f"no {what} within {timeout} s")


@contextmanager
def chromium(startup_timeout: float = 30) -> Iterator[Browser]:
    """A headless Chromium with a fresh profile and one blank page; killed on exit."""
    if CHROMIUM is None:
        raise BrowserError("chromium is not installed")
    profile = Path(tempfile.mkdtemp(prefix="chromium-cdp-"))
    log = (profile / "chromium.log").open("wb")
    process = subprocess.Popen(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            *LOCAL_ONLY,
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the renderers die with the browser
    )
    try:
        url = _page_socket(profile, process, startup_timeout)
        with connect(url, proxy=None, max_size=None, compression=None) as socket:
            yield Browser(socket, process.pid)
    finally:
        with suppress(ProcessLookupError):  # it may have died on its own
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


def _page_socket(profile: Path, process: subprocess.Popen, timeout: float) -> str:
    """The websocket of Chromium's page, once its DevTools server has written its port."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while not (active.exists() and active.read_text().count("\n") >= 1):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = (profile / "chromium.log").read_text(errors="replace")[-2000:]
            raise BrowserError(
                f"chromium's DevTools did not start (exit {process.poll()}):\n{tail}"
            )
        time.sleep(0.05)
    port = int(active.read_text().split()[0])
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
        targets = json.load(response)
    pages = [t for t in targets if t.get("type") == "page"]
    if not pages:
        raise BrowserError(f"chromium has no page target: {targets}")
    return pages[0]["webSocketDebuggerUrl"]
