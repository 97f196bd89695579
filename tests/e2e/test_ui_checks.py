"""The Dagster UI shows a day's asset checks, the promotion gate and the summary table.

A real CLI run of two symbols, one without data, then `dagster dev` on that instance and
headless Chromium on the Checks tabs of `features` and `champion` and on the `engine_summary`
partition whose `symbols` table puts the failed symbol first.
"""

import os
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.core.synthetic import SyntheticSource
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
    "attention",
    "status",
    "champion_moved",
    "champion_as_of",
    "wf_net_bps_per_trade",
    "wf_net_bps_lo",
    "wf_net_bps_hi",
    "wf_trades",
    "checks",
    "failure",
]
PASSED = CheckRow("check_circle", "Passed")
WARNED = CheckRow("warning_outline", "Failed")  # a failed WARN check: yellow, worded "Failed"
FAILED = CheckRow("cancel", "Failed")  # a failed ERROR check, or one whose execution failed
BTC_PARTITION = f"Partition {DATE}|BTCUSDT"


def _write_candles(folder: Path, symbol: str) -> None:
    """The embedded synthetic bars of `symbol` as a candle file, 200 days through DATE."""
    end = pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=1)
    bars, _ = SyntheticSource().load(symbol, end, pd.Timedelta(days=200))
    folder.mkdir()
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
def test_the_ui_shows_the_checks_the_gate_and_the_failed_symbol_first_in_the_summary(
    artifacts, tmp_path, monkeypatch
):
    candles = tmp_path / "candles"
    _write_candles(candles, "BTCUSDT")
    write_candles_without_volume(candles, "NOPEUSDT")
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(candles))
    # Sequential with the failing symbol first: BTCUSDT's evaluations are then each check's
    # latest execution, which the Checks tab details.
    result = run_cli("--mode", "sequential", "--symbols", "NOPEUSDT,BTCUSDT", "--date", DATE)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    status = status_of(artifacts)
    assert {s: e["status"] for s, e in status.items()} == {
        "NOPEUSDT": "failed",
        "BTCUSDT": "success",
    }

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
        # Wide enough for all eleven columns of the table (and a long artifact path) to show.
        summary = _page(
            base,
            f"/assets/engine_summary?view=partitions&partition={DATE}",
            "ui-summary-table",
            "champion_moved",
            profile,
            window=(3000, 1000),
        )

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
    found = [t for t in tables(summary) if "champion_moved" in t.headers]
    assert len(found) == 1, visible_text(summary)[:3000]
    table = found[0]
    assert table.headers == SUMMARY_COLUMNS
    rows = table.records()
    assert [r["symbol"] for r in rows] == ["NOPEUSDT", "BTCUSDT"], rows
    failed, ok = rows
    assert failed["attention"] == "failed" and failed["status"] == "failed", failed
    assert failed["failure"].startswith("DataSourceError: NOPEUSDT: bars have no 'volume'"), failed
    assert ok["attention"] == "check warning" and ok["status"] == "success", ok
    assert ok["champion_moved"] == "false" and ok["checks"] == "promotion_gate WARN", ok
    assert ok["failure"] == "", ok
