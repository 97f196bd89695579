"""The day's summary table: one row per symbol, the ones needing attention first."""

from retrain_assets.core.summary_table import COLUMNS, checks_text, summary_rows


def _entry(status: str, **extra) -> dict:
    return {"status": status, "checks": [], "champion": None, **extra}


def _check(name: str, passed: bool, severity: str = "WARN") -> dict:
    return {"check": name, "passed": passed, "severity": severity}


def test_failed_runs_come_first_then_check_errors_then_warnings_then_the_rest():
    summary = {
        "by_symbol": {
            "AAAUSDT": _entry("success", checks=[_check("data_freshness", True)]),
            "BBBUSDT": _entry("success", checks=[_check("feature_drift", False, "ERROR")]),
            "CCCUSDT": _entry(
                "failed", error_type="DataCheckFailed", error="data_freshness: stale"
            ),
            "DDDUSDT": _entry("success", checks=[_check("promotion_gate", False, "WARN")]),
            "EEEUSDT": _entry("skipped", skip_reason="already done"),
        }
    }
    rows = summary_rows(summary)
    assert [r["symbol"] for r in rows] == ["CCCUSDT", "BBBUSDT", "DDDUSDT", "EEEUSDT", "AAAUSDT"]
    assert rows[0]["failure"] == "DataCheckFailed: data_freshness: stale"
    assert rows[1]["checks"] == "feature_drift ERROR"
    assert rows[3]["failure"] == "already done"
    assert rows[-1]["attention"] == "ok" and rows[-1]["checks"] == "all 1 passed"


def test_every_row_has_every_column_and_undefined_figures_are_empty_not_zero():
    champion = {
        "moved": True,
        "champion_as_of": "2025-04-26",
        "window_net_bps_per_trade": 12.3456,
        "window_net_bps_interval": [1.234, 20.0],
        "window_trades": 40,
    }
    rows = summary_rows(
        {"by_symbol": {"AUSDT": _entry("success", champion=champion), "BUSDT": _entry("failed")}}
    )
    assert all(set(r) == {name for name, _, _ in COLUMNS} for r in rows)
    failed, ok = rows
    assert failed["wf_net_bps_per_trade"] is None and failed["champion_moved"] is None
    assert ok["wf_net_bps_per_trade"] == 12.35 and ok["wf_net_bps_lo"] == 1.23
    assert ok["champion_moved"] is True and ok["wf_trades"] == 40


def test_checks_text_names_what_did_not_pass_or_counts_what_did():
    assert checks_text([]) == ""
    assert checks_text([_check("a", True), _check("b", True)]) == "all 2 passed"
    assert checks_text([_check("a", True), _check("b", False, "ERROR")]) == "b ERROR"
