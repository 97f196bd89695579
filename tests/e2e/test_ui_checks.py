"""The Dagster UI shows a day's asset checks, the promotion gate and the summary table.

A real CLI run of six symbols, one without data, then `dagster dev` on that instance and
headless Chromium on the Checks tabs of `features` and `champion`, on the `engine_summary`
partition whose `symbols` table puts the failed symbol first, and on the `desk_report`
partition at 1600 x 1000: its production table fits the window, failing symbol first, and its
metadata links to the desk page, which opens with one chart per symbol (screenshots in
test-artifacts/).
"""

import os
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.core.data.synthetic import SyntheticSource
from tests.e2e.browser import chromium
from tests.e2e.conftest import DATE, REPO, run_cli, status_of, write_candles_without_volume
from tests.e2e.dagster_dev import dagster_dev, graphql
from tests.e2e.ui_pages import (
    CHROMIUM,
    SET_NUX_SEEN,
    CheckRow,
    check_rows,
    evaluation_result,
    render,
    tables,
    visible_text,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR") or REPO / "test-artifacts")
FEATURE_CHECKS = {
    "data_freshness",
    "gaps_and_duplicates",
    "usable_rows",
    "zero_volume",
    "price_sanity",
    "feature_drift",
}
SUMMARY_COLUMNS = [
    "symbol",
    "status",
    "champion",
    "day_net_bps",
    "day_trades",
    "window_net",
    "evidence",
    "problem",
]
PASSED = CheckRow("check_circle", "Passed")
WARNED = CheckRow("warning_outline", "Failed")  # a failed WARN check: yellow, worded "Failed"
FAILED = CheckRow("cancel", "Failed")  # a failed ERROR check, or one whose execution failed
BTC_PARTITION = f"Partition {DATE}|BTCUSDT"
GOOD = ("ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "BTCUSDT")
# The production table in the UI: where it is, whether anything clips it sideways, its rows.
PRODUCTION_TABLE_JS = """(() => {
  const table = [...document.querySelectorAll('table')]
    .filter(t => !t.querySelector('table'))  // the innermost: the metadata panel is a table
    .find(t => t.innerText.includes('window_net') && t.innerText.includes('day_trades'));
  if (!table) return null;
  const box = table.getBoundingClientRect();
  let clipped = false;
  for (let e = table.parentElement; e; e = e.parentElement) {
    const style = getComputedStyle(e);
    if (e.scrollWidth > e.clientWidth + 1 && style.overflowX !== 'visible') clipped = true;
  }
  const rows = [...table.querySelectorAll('tr')]
    .map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.replace(/\\s+/g, ' ').trim()))
    .filter(cells => cells.length > 0);
  return {left: box.left, right: box.right, viewport: window.innerWidth, clipped, rows,
          page: document.documentElement.scrollWidth};
})()"""
REPORT_LINK_JS = """(() => {
  const a = [...document.querySelectorAll('a')].find(a => (a.href || '').endsWith('desk.html'));
  return a ? a.href : null;
})()"""


def _write_candles(folder: Path, symbol: str) -> None:
    """The embedded synthetic bars of `symbol` as a candle file, 200 days through DATE."""
    end = pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=1)
    bars, _ = SyntheticSource().load(symbol, end, pd.Timedelta(days=200))
    folder.mkdir(exist_ok=True)
    bars.to_parquet(folder / f"{symbol}.parquet")


def _page(
    base: str,
    route: str,
    name: str,
    ready: str,
    profile: Path,
    window: tuple[int, int] = (1400, 1000),
) -> str:
    """Render `route`, saving `name`.png; a page not showing `ready` yet gets twice the time."""
    shot = ARTIFACTS / f"{name}.png"
    html = render(f"{base}{route}", profile / name, shot, window=window)
    if ready not in visible_text(html):
        html = render(
            f"{base}{route}", profile / f"{name}-2", shot, window=window, budget_ms=40_000
        )
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000, shot
    return html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
@pytest.mark.slow(seconds=65)
def test_the_ui_shows_the_checks_the_gate_and_the_failed_symbol_first_in_the_summary(
    artifacts, tmp_path, monkeypatch
):
    candles = tmp_path / "candles"
    for symbol in GOOD:
        _write_candles(candles, symbol)
    write_candles_without_volume(candles, "NOPEUSDT")
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(candles))
    # Sequential with the failing symbol first and BTCUSDT last: BTCUSDT's evaluations are
    # then each check's latest execution, which the Checks tab details.
    symbols = ",".join(["NOPEUSDT", *GOOD])
    result = run_cli("--mode", "sequential", "--symbols", symbols, "--date", DATE)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    status = status_of(artifacts)
    assert {s: e["status"] for s, e in status.items()} == {
        "NOPEUSDT": "failed",
        **dict.fromkeys(GOOD, "success"),
    }
    # The CLI's last lines: the production table, failing symbol first, its headline, the page.
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("symbol "))
    assert lines[header + 1].split()[:3] == ["NOPEUSDT", "failed", "today"], lines[header:]
    assert any(f"{DATE}: 6 symbols · 1 failed" in line for line in lines), lines[header:]
    assert any(line.startswith("report:") and "desk.html" in line for line in lines)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "chromium"
    with dagster_dev(tmp_path / "dagster_dev.log") as base:
        graphql(base, SET_NUX_SEEN)
        freshness = _page(
            base,
            "/assets/features?view=checks&checkDetail=data_freshness",
            "ui-checks-features",
            "Evaluation result",
            profile,
        )
        drift = _page(
            base,
            "/assets/features?view=checks&checkDetail=feature_drift",
            "ui-checks-feature-drift",
            "Evaluation result",
            profile,
        )
        gate = _page(
            base, "/assets/champion?view=checks", "ui-checks-champion", "Evaluation result", profile
        )
        summary = _page(
            base,
            f"/assets/engine_summary?view=partitions&partition={DATE}",
            "ui-summary-table",
            "window_net",
            profile,
            window=(1600, 1000),
        )
        report = _desk_in_the_ui(base, profile)

    _assert_desk_report(report)
    _assert_feature_checks(freshness, drift)
    _assert_promotion_gate(gate)
    _assert_summary_table(summary)


def _assert_feature_checks(freshness: str, drift: str) -> None:
    listed = check_rows(freshness)
    # NOPEUSDT's candles have no volume: its data_freshness failed with ERROR and its other checks
    # ended "execution failed"; the list marks a check Failed when any partition failed.
    assert listed == dict.fromkeys(FEATURE_CHECKS, FAILED), listed
    text = visible_text(freshness)
    assert "This is a blocking asset check." in text, text[:3000]
    assert evaluation_result(freshness) == PASSED, text[:3000]
    assert BTC_PARTITION in text and f"last bar {DATE} 23:00 UTC" in text, text[:3000]

    text = visible_text(drift)
    assert "This is a non-blocking asset check." in text, text[:3000]
    assert evaluation_result(drift) == PASSED, text[:3000]
    assert BTC_PARTITION in text and "above_error_limit" in text and "worst_feature" in text, text[
        :3000
    ]


def _assert_promotion_gate(gate: str) -> None:
    text = visible_text(gate)
    assert check_rows(gate) == {"promotion_gate": WARNED}, text[:3000]
    # Day one: no walk-forward day yet, too little evidence, a WARN that keeps no champion.
    assert evaluation_result(gate) == WARNED, text[:3000]
    assert "failed method_evidence, symbol_evidence" in text, text[:3000]
    assert "no interval yet (always-valid 95%)" in text and BTC_PARTITION in text, text[:3000]


def _assert_summary_table(summary: str) -> None:
    found = [t for t in tables(summary) if "window_net" in t.headers]
    assert len(found) == 1, visible_text(summary)[:3000]
    table = found[0]
    assert table.headers == SUMMARY_COLUMNS
    rows = table.records()
    assert rows[0]["symbol"] == "NOPEUSDT", rows
    failed, ok = rows[0], next(r for r in rows if r["symbol"] == "BTCUSDT")
    assert failed["status"] == "failed today", failed
    assert failed["problem"].startswith("DataSourceError: NOPEUSDT: bars have no 'volume'"), failed
    assert ok["status"] == "no champion yet" and ok["champion"] == "", ok
    assert ok["evidence"] == "no evidence yet", ok  # day one: no trades, never a loss
    assert "promotion_gate" not in ok["problem"], ok


def _desk_in_the_ui(base: str, profile: Path) -> dict:
    """The desk_report partition at 1600 x 1000: its production table as laid out, and the
    desk page its metadata links to, opened in the browser; screenshots of both."""
    with chromium() as browser:
        browser.open(f"{base}/assets/desk_report?view=partitions&partition={DATE}")
        table = browser.wait_for(PRODUCTION_TABLE_JS, timeout=60)
        browser.screenshot(ARTIFACTS / "ui-desk-report-1600x1000.png")
        link = browser.wait_for(REPORT_LINK_JS, timeout=20)
        browser.open(link)
        browser.wait_for("document.querySelectorAll('figure.equity').length > 0")
        page = browser.evaluate(
            """({figures: [...document.querySelectorAll('figure.equity')].map(f => {
                   const r = f.querySelector('svg').getBoundingClientRect();
                   return [f.dataset.symbol, r.width, r.height]; }),
                 first: document.querySelector('#production tbody tr').dataset.symbol,
                 scroll: document.documentElement.scrollWidth, width: window.innerWidth})"""
        )
        browser.screenshot(ARTIFACTS / "desk-report-page-1600x1000.png")
        browser.screenshot(ARTIFACTS / "desk-report-page-full.png", full_page=True)
    print(f"screenshots: {ARTIFACTS}/ui-desk-report-1600x1000.png, desk-report-page-*.png")
    return {"table": table, "link": link, "page": page}


def _assert_desk_report(report: dict) -> None:
    table, page = report["table"], report["page"]
    # The whole table shows in the 1600 px window: nothing past its right edge, nothing clipped.
    assert table["right"] <= table["viewport"] and not table["clipped"], table
    assert table["page"] <= table["viewport"], table
    rows = table["rows"]
    assert rows[0][0] == "NOPEUSDT" and rows[0][1] == "failed today", rows
    assert sorted(r[0] for r in rows) == sorted(["NOPEUSDT", *GOOD]), rows
    assert report["link"].startswith("file://") and report["link"].endswith("desk.html")
    # The page: the failing symbol first, one readable chart per symbol (day one: each says
    # it has no walk-forward day yet).
    assert page["first"] == "NOPEUSDT" and page["scroll"] <= page["width"], page
    charts = {symbol: (w, h) for symbol, w, h in page["figures"]}
    assert [f[0] for f in page["figures"]] == [r[0] for r in rows], page
    assert set(charts) == {"NOPEUSDT", *GOOD}, charts
    assert all(w >= 300 and h >= 150 for w, h in charts.values()), charts
