"""Headless Chromium renders of Dagster UI pages, and what the tests read from their DOM."""

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without the background-networking flags Chromium tries to reach Google's hosts.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# "Join the Dagster community" covers every page on localhost until an instance has seen it.
SET_NUX_SEEN = "mutation { setNuxSeen }"


def render(
    url: str,
    profile: Path,
    screenshot: Path,
    *,
    window: tuple[int, int] = (1400, 1000),
    budget_ms: int = 20_000,
) -> str:
    """The page's DOM after `budget_ms` of virtual time; its screenshot is saved on the way.

    Args:
        url: The page to open.
        profile: A fresh Chromium user-data dir.
        screenshot: Where the PNG goes.
        window: Viewport width and height.
        budget_ms: Virtual time the page's scripts get before the DOM is read.

    Returns:
        The serialized DOM.
    """
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed")
    result = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--virtual-time-budget={budget_ms}",
            f"--window-size={window[0]},{window[1]}",
            f"--user-data-dir={profile}",
            "--dump-dom",
            f"--screenshot={screenshot}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}:\n{result.stderr[-2000:]}")
    return result.stdout


def visible_text(html: str) -> str:
    """The page's text with scripts, styles and tags removed, whitespace collapsed."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@dataclass
class Table:
    """One rendered HTML table: header cells and body rows, as text."""

    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def records(self) -> list[dict[str, str]]:
        """The body rows keyed by header."""
        return [dict(zip(self.headers, row, strict=False)) for row in self.rows]


@dataclass
class _OpenTable:
    table: Table = field(default_factory=Table)
    row: list[str] | None = None
    header_row: bool = False
    cell: list[str] | None = None


class _TableParser(HTMLParser):
    """Collects every table, nested ones included; a cell's text excludes its nested tables."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self._open: list[_OpenTable] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._open.append(_OpenTable())
        elif self._open and tag == "tr":
            self._open[-1].row, self._open[-1].header_row = [], False
        elif self._open and tag in ("td", "th"):
            self._open[-1].cell = []
            self._open[-1].header_row |= tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        top = self._open[-1]
        if tag == "table":
            self.tables.append(self._open.pop().table)
        elif tag in ("td", "th") and top.row is not None and top.cell is not None:
            top.row.append(re.sub(r"\s+", " ", "".join(top.cell)).strip())
            top.cell = None
        elif tag == "tr" and top.row is not None:
            if top.header_row:
                top.table.headers = top.row
            else:
                top.table.rows.append(top.row)
            top.row = None

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1].cell is not None:
            self._open[-1].cell.append(data)


def tables(html: str) -> list[Table]:
    """Every table of the DOM, innermost first."""
    parser = _TableParser()
    parser.feed(html)
    return parser.tables


_RUN_ID = re.compile(r'href="/runs/([0-9a-f-]{36})"')
_TAG_TOOLTIP = re.compile(r'data-tooltip="([^"]+)"')


def run_row_tags(html: str) -> dict[str, list[str]]:
    """The Runs page's tags on each run's row (`key: value` as shown), by run id; the tags
    behind "View all tags" are not on the row."""
    found = {}
    for segment in re.split(r'class="VirtualizedTable_row', html)[1:]:
        run = _RUN_ID.search(segment)
        start = segment.find("RunRowTags_runTagsWrapper")
        if run is None or start < 0:
            continue
        cell = segment[start : segment.find("VirtualizedTable_cellBox", start)]
        found[run[1]] = _TAG_TOOLTIP.findall(cell)
    return found


@dataclass(frozen=True)
class CheckRow:
    """One entry of an asset's Checks list: its icon and the status word under its name."""

    icon: str
    status: str


_CHECK_ROW = re.compile(
    r'aria-label="(?P<icon>[a-z_]+)".*?title="(?P<name>[^"]+)".*?'
    r"text-transform: capitalize[^>]*>(?P<status>[^<]+)<",
    re.S,
)


def check_rows(html: str) -> dict[str, CheckRow]:
    """The Checks tab's list (`?view=checks`), by check name."""
    found = {}
    for segment in re.split(r'class="VirtualizedTable_row', html)[1:]:
        match = _CHECK_ROW.search(segment)
        if match:
            found[match["name"]] = CheckRow(match["icon"], match["status"].strip())
    return found


_EVALUATION = re.compile(
    r'Evaluation result</span>.*?aria-label="(?P<icon>[a-z_]+)".*?>(?P<status>[^<]+)</span>', re.S
)


def evaluation_result(html: str) -> CheckRow | None:
    """The selected check's "Latest execution > Evaluation result" tag, or None."""
    match = _EVALUATION.search(html)
    return CheckRow(match["icon"], match["status"].strip()) if match else None
