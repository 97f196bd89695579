"""The Chromium harness: opens a local page, waits for what a script adds, reads the DOM,
refuses other hosts, reports a script's error, and leaves no browser behind."""

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.browser import BrowserError, chromium
from tests.e2e.ui_pages import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]
# The link and its text appear only after a script has waited, as in a single-page app.
LATE_PAGE = b"""<!DOCTYPE html><html><body><div id="app">loading</div><script>
setTimeout(() => { document.getElementById('app').innerHTML =
  '<a id="report" href="/report.html">open the desk report</a>'; }, 400);
</script></body></html>"""


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = LATE_PAGE if self.path == "/" else b"<h1>report</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_local_page_is_opened_waited_on_read_and_followed(site):
    with chromium() as browser:
        browser.open(f"{site}/", viewport=(1600, 1000))
        assert browser.evaluate("[innerWidth, innerHeight]") == [1600, 1000]
        browser.wait_for_text("open the desk report", timeout=10)
        link = browser.element("a#report")
        assert link is not None and link["text"] == "open the desk report"
        assert link["href"] == f"{site}/report.html" and link["rect"]["width"] > 0
        browser.click("a#report")
        assert browser.wait_for(
            "location.pathname === '/report.html' && !!document.querySelector('h1')"
        )
        assert browser.element("h1")["text"] == "report"
        assert browser.element("#missing") is None


def test_waiting_on_what_never_comes_times_out_and_a_throwing_script_is_an_error(site):
    with chromium() as browser:
        browser.open(f"{site}/")
        with pytest.raises(TimeoutError, match="never"):
            browser.wait_for("window.never === true", timeout=0.5)
        with pytest.raises(BrowserError, match="boom"):
            browser.evaluate("(() => { throw new Error('boom'); })()")


@pytest.mark.parametrize("url", ["https://example.com/", "http://localhost:8080/", "ftp://x/"])
def test_only_127_0_0_1_and_files_may_be_opened(url):
    with chromium() as browser, pytest.raises(BrowserError, match=r"only http://127\.0\.0\.1"):
        browser.open(url)


def test_leaving_the_block_kills_chromium_even_when_the_test_fails():
    pids = []
    with pytest.raises(ValueError, match="a failing test"), chromium() as browser:
        pids.append(browser.pid)
        os.kill(browser.pid, 0)  # alive while in use
        raise ValueError("a failing test")
    with chromium() as browser:
        pids.append(browser.pid)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
