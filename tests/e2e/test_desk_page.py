"""The desk report opens from a file in Chromium at 1600 x 1000 and reads without a hunt.

Six symbols of a hand-made engine summary, one failing with a long unbroken reason: the
production table fits the window (no sideways scroll, no cell cut), the failing symbol is
first, and each symbol has its own chart of a readable size, three a row. Screenshots of
the viewport and of the whole page are saved to test-artifacts/.
"""

import math
import os
from pathlib import Path

import pytest

from retrain_assets.core.report.desk import (
    DeskPage,
    EquitySeries,
    failures,
    headline,
    production_rows,
)
from retrain_assets.core.report.desk_html import render_desk_page
from tests.e2e.browser import chromium
from tests.e2e.conftest import REPO
from tests.e2e.ui_pages import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR") or REPO / "test-artifacts")
DATE = "2025-05-01"
DAYS = tuple(f"2025-04-{d:02d}" for d in range(1, 31))
FAILING = "XRPUSDT"
LONG_REASON = "no volume column in " + "/srv/feeds/binance_spot_1h/" * 6 + "XRPUSDT.parquet"


def _champion(as_of: str | None, trades: int, **extra) -> dict:
    return {
        "action": "kept",
        "champion_as_of": as_of,
        "champion_since": "2025-04-20" if as_of else None,
        "window_days": 12,
        "window_trades": trades,
        "window_net_bps_per_trade": 7.43 if trades else None,
        "window_net_bps_interval": [-170.9, 184.9] if trades else None,
        "gate_passed": bool(trades),
        "gate_failing": None if trades else "trades",
        **extra,
    }


def _check(name: str, passed: bool, severity: str = "WARN") -> dict:
    return {"check": name, "passed": passed, "severity": severity}


GATE_CONDITIONS = (
    "method_evidence",
    "symbol_evidence",
    "symbol_not_losing",
    "not_worse_than_champion",
)
CHECKS = [_check(name, False, "ERROR") for name in ("feature_drift", "live_ic", "model_health")]
SUMMARY = {
    "date": DATE,
    "by_symbol": {
        "ADAUSDT": {"status": "success", "checks": [_check("usable_rows", True)],
                    "champion": _champion(None, 0), "walk_forward": {"net_bps": None}},
        "BNBUSDT": {"status": "success", "checks": CHECKS,
                    "champion": _champion("2025-04-29", 20, gate_passed=False,
                                          gate_failing=", ".join(GATE_CONDITIONS)),
                    "walk_forward": {"net_bps": -3.21, "trades": 2}},
        "BTCUSDT": {"status": "success", "checks": [_check("usable_rows", True)],
                    "champion": _champion("2025-04-30", 31, action="promoted"),
                    "walk_forward": {"net_bps": 12.34, "trades": 4}},
        "ETHUSDT": {"status": "success", "checks": [_check("promotion_gate", False)],
                    "champion": _champion("2025-04-25", 18),
                    "walk_forward": {"net_bps": 0.52, "trades": 1}},
        "SOLUSDT": {"status": "success", "checks": [],
                    "champion": _champion(None, 0), "walk_forward": {"net_bps": 4.0, "trades": 3}},
        FAILING: {"status": "failed", "error_type": "DataSourceError", "error": LONG_REASON,
                  "checks": [], "champion": None},
    },
}  # fmt: skip


def _series(symbol: str, k: int) -> EquitySeries:
    """30 days of a made-up record: production live from day 10, flat on days 18-20."""
    newest = tuple(round(40 * math.sin((i + k) / 5) + i * (k - 2), 1) for i in range(30))
    live = tuple(
        None if i < 10 or 18 <= i <= 20 else round(v * 0.6, 1) for i, v in enumerate(newest)
    )
    return EquitySeries(symbol, DAYS, newest, live, trades=3 * k + 5)


def _page() -> DeskPage:
    rows = tuple(production_rows(SUMMARY))
    charts = tuple(_series(row.symbol, k) for k, row in enumerate(rows))
    health = {r.symbol: f"{r.symbol}: 212 trees, best iteration 187" for r in rows[1:]}
    return DeskPage(DATE, headline(SUMMARY, rows), rows, failures(rows), charts, health,
                    made_by="retrain-assets test", dry_run=False)  # fmt: skip


MEASURE = """(() => {
  const table = document.querySelector('table#production').getBoundingClientRect();
  const cells = [...document.querySelectorAll('#production th, #production td')];
  const figures = [...document.querySelectorAll('figure.equity')].map(f => {
    const svg = f.querySelector('svg').getBoundingClientRect();
    return {symbol: f.dataset.symbol, top: svg.top, width: svg.width, height: svg.height};
  });
  const rows = [...document.querySelectorAll('#production tbody tr')];
  return {
    viewport: innerWidth, scrollWidth: document.documentElement.scrollWidth,
    table: {left: table.left, right: table.right},
    cutCells: cells.filter(c => c.scrollWidth > c.clientWidth).map(c => c.textContent),
    rows: rows.map(r => ({symbol: r.dataset.symbol, failed: r.classList.contains('failed')})),
    figures,
    requests: performance.getEntriesByType('resource').length,
  };
})()"""


def test_the_desk_report_fits_1600_px_with_the_failure_first_and_a_chart_per_symbol(tmp_path):
    page = _page()
    report = tmp_path / f"desk-{DATE}.html"
    report.write_text(render_desk_page(page), encoding="utf-8")
    with chromium() as browser:
        browser.open(report.as_uri(), viewport=(1600, 1000))
        browser.wait_for("document.querySelectorAll('figure.equity svg').length === 6")
        seen = browser.evaluate(MEASURE)
        shots = [
            browser.screenshot(ARTIFACTS / "desk-report-1600x1000.png"),
            browser.screenshot(ARTIFACTS / "desk-report-full.png", full_page=True),
        ]
    print("screenshots:", *shots)
    assert seen["viewport"] == 1600
    assert seen["scrollWidth"] <= seen["viewport"], "the page scrolls sideways"
    assert 0 <= seen["table"]["left"] and seen["table"]["right"] <= seen["viewport"]
    assert seen["cutCells"] == [], "cells whose text is cut"
    assert seen["rows"][0] == {"symbol": FAILING, "failed": True}
    assert [r["symbol"] for r in seen["rows"]] == [r.symbol for r in page.rows]
    assert sum(r["failed"] for r in seen["rows"]) == 1
    assert [f["symbol"] for f in seen["figures"]] == [r.symbol for r in page.rows]
    assert all(f["width"] >= 300 and f["height"] >= 150 for f in seen["figures"]), seen["figures"]
    tops = [f["top"] for f in seen["figures"]]
    assert tops[0] == tops[1] == tops[2] < tops[3] == tops[4] == tops[5], "three charts a row"
    assert seen["requests"] == 0, "the page loaded something"
    assert all(shot.stat().st_size > 10_000 for shot in shots)
