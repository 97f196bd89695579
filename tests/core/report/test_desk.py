"""The production table: its words for each state, its order, its width and its headline."""

import json

from retrain_assets.core.report.desk import (
    NO_CHAMPION,
    NO_EVIDENCE,
    PRODUCTION_COLUMNS,
    EquitySeries,
    equity_series,
    failures,
    headline,
    production_rows,
    row_from_table,
    table_text,
)
from retrain_assets.core.trading.walk_forward import DayPnl


def _champion(action: str, as_of: str | None, **extra) -> dict:
    return {
        "action": action,
        "moved": action == "promoted",
        "demoted": action == "demoted",
        "champion_as_of": as_of,
        "champion_since": extra.pop("since", None),
        "gate_passed": action == "promoted",
        "gate_failing": extra.pop("failing", None),
        "window_days": extra.pop("days", 30),
        "window_trades": extra.pop("trades", 40),
        "window_net_bps_per_trade": extra.pop("net", 6.5),
        "window_net_bps_interval": extra.pop("interval", [-3.0, 16.0]),
        **extra,
    }


def _entry(status: str = "success", champion: dict | None = None, **extra) -> dict:
    return {
        "status": status,
        "champion": champion,
        "walk_forward": extra.pop("walk_forward", {"net_bps": 12.345, "trades": 4}),
        "checks": extra.pop("checks", []),
        "error_type": extra.pop("error_type", None),
        "error": extra.pop("error", None),
        "skip_reason": None,
        **extra,
    }


def _summary(**by_symbol) -> dict:
    return {"date": "2021-06-10", "by_symbol": by_symbol, "made_by": []}


def _status(entry: dict) -> str:
    return production_rows(_summary(XUSDT=entry))[0].status


def test_a_new_install_reads_no_champion_yet_never_kept():
    entry = _entry(champion=_champion("flat", None, failing="method_evidence"))
    assert _status(entry) == NO_CHAMPION


def test_a_symbol_with_a_champion_reads_kept_with_the_date_it_went_live():
    entry = _entry(champion=_champion("kept", "2021-06-02", since="2021-06-03"))
    assert _status(entry) == "kept (champion since 2021-06-03)"


def test_a_promotion_and_a_demotion_read_as_such():
    assert _status(_entry(champion=_champion("promoted", "2021-06-10"))) == "promoted"
    demoted = _entry(champion=_champion("demoted", None))
    assert _status(demoted) == "demoted, now flat"


def test_the_day_after_a_demotion_reads_no_champion_yet():
    entry = _entry(champion=_champion("flat", None, failing="symbol_evidence"))
    assert _status(entry) == NO_CHAMPION


def test_a_record_without_trades_is_no_evidence_yet_not_a_loss():
    entry = _entry(champion=_champion("flat", None, trades=0, net=None, interval=None))
    row = production_rows(_summary(XUSDT=entry))[0]
    assert row.evidence == NO_EVIDENCE
    assert row.window_net == "no trades in 30 d"
    assert "los" not in row.evidence + row.window_net + row.problem


def test_a_failed_run_reads_failed_today_keeps_its_champion_and_comes_first():
    failed = _entry(
        status="failed",
        champion=_champion("kept", "2021-06-08"),
        error_type="DataSourceError",
        error="no bars for BADUSDT",
    )
    warned = _entry(
        champion=_champion("kept", "2021-06-08"),
        checks=[{"check": "feature_drift", "severity": "WARN", "passed": False}],
    )
    rows = production_rows(_summary(AAAUSDT=_entry(), BADUSDT=failed, CCCUSDT=warned))
    assert [r.symbol for r in rows] == ["BADUSDT", "CCCUSDT", "AAAUSDT"]
    assert rows[0].status == "failed today"
    assert rows[0].champion == "2021-06-08"
    assert rows[0].problem == "DataSourceError: no bars for BADUSDT"
    assert rows[1].problem == "feature_drift WARN"
    assert failures(rows) == (("BADUSDT", "DataSourceError: no bars for BADUSDT"),)


def test_the_table_has_at_most_eight_columns_and_every_row_fills_them():
    assert len(PRODUCTION_COLUMNS) <= 8
    row = production_rows(_summary(XUSDT=_entry(champion=_champion("kept", "2021-06-01"))))[0]
    assert list(row.to_table_dict()) == [name for name, _, _ in PRODUCTION_COLUMNS]
    assert row.window_net == "+6.5 bps/trade [-3.0, +16.0], 40 trades, 30 d"
    assert row.day_net_bps == 12.3
    assert row.day_trades == 4


def test_the_headline_counts_failures_production_and_yesterdays_net_with_its_sample():
    failed = _entry(status="failed", champion=None, walk_forward=None, error_type="E")
    rows = production_rows(
        _summary(
            AUSDT=_entry(champion=_champion("promoted", "2021-06-10")),
            BUSDT=_entry(
                champion=_champion("flat", None), walk_forward={"net_bps": -2.0, "trades": 2}
            ),
            CUSDT=failed,
        )
    )
    line = headline(_summary(), rows)
    assert line.startswith("2021-06-10: 3 symbols · 1 failed · 1 in production (1 promoted")
    assert "1 without a champion" in line
    assert "+5.2 bps net a symbol (6 trades, 2 symbols)" in line


def _day(symbol: str, day: str, nets: tuple[float, ...]) -> DayPnl:
    return DayPnl(symbol, day, "2021-06-01", "traded", None, None, net=nets)


def test_equity_series_are_cumulative_per_symbol_with_gaps_where_production_was_flat():
    newest = [_day("AUSDT", "2021-06-02", (0.001,)), _day("AUSDT", "2021-06-03", (-0.0005,))]
    live = [_day("AUSDT", "2021-06-03", (0.002,))]
    (series,) = equity_series(newest, live)
    assert series.days == ("2021-06-02", "2021-06-03")
    assert series.newest_net_bps == (10.0, 5.0)
    assert series.live_net_bps == (None, 20.0)
    assert EquitySeries.from_json_dict(series.to_json_dict()) == series


def _check(name: str, passed: bool, severity: str = "WARN") -> dict:
    return {"check": name, "passed": passed, "severity": severity}


def test_failed_runs_come_first_then_check_errors_then_warnings_then_skips_then_the_rest():
    summary = _summary(
        AAAUSDT=_entry(checks=[_check("data_freshness", True)]),
        BBBUSDT=_entry(checks=[_check("feature_drift", False, "ERROR"), _check("x", False)]),
        CCCUSDT=_entry(status="failed", error_type="DataCheckFailed", error="stale"),
        DDDUSDT=_entry(checks=[_check("live_ic", False, "WARN")]),
        EEEUSDT={**_entry(status="skipped"), "skip_reason": "already done"},
    )
    rows = production_rows(summary)
    assert [r.symbol for r in rows] == ["CCCUSDT", "BBBUSDT", "DDDUSDT", "EEEUSDT", "AAAUSDT"]
    assert rows[1].problem == "feature_drift ERROR; x WARN"
    assert rows[3].problem == "already done" and rows[3].status == "skipped"
    assert rows[-1].problem == ""


def test_the_terminal_table_aligns_every_column_and_shows_undefined_as_a_dash():
    rows = production_rows(_summary(AUSDT=_entry(walk_forward=None), BUSDT=_entry()))
    lines = table_text(rows)
    assert lines[0].split() == [name for name, _, _ in PRODUCTION_COLUMNS]
    assert len(lines) == 3
    assert lines[1].split()[3] == "-" and lines[2].split()[3] == "+12.3"


def test_a_gate_waiting_for_evidence_is_no_problem_but_a_gate_error_is():
    waiting = _entry(checks=[_check("promotion_gate", False, "WARN")])
    losing = _entry(checks=[_check("promotion_gate", False, "ERROR")])
    rows = production_rows(_summary(AUSDT=waiting, BUSDT=losing))
    assert [(r.symbol, r.problem, r.attention) for r in rows] == [
        ("BUSDT", "promotion_gate ERROR", "check error"),
        ("AUSDT", "", "ok"),
    ]


def test_rows_read_back_from_a_ui_tables_records_print_the_same_table_and_headline():
    failed = _entry(status="failed", champion=None, walk_forward=None, error_type="E", error="x")
    summary = _summary(
        AUSDT=_entry(champion=_champion("kept", "2021-06-01", since="2021-06-02")),
        BUSDT=failed,
        CUSDT=_entry(champion=_champion("flat", None), walk_forward={"net_bps": -2.0, "trades": 2}),
    )
    rows = production_rows(summary)
    # A deployment's `production` metadata: each record's cells as JSON (GraphQL's `records`).
    records = [json.loads(json.dumps(row.to_table_dict())) for row in rows]
    back = [row_from_table(cells) for cells in records]
    assert table_text(back) == table_text(rows)
    assert headline(summary, back) == headline(summary, rows)


def test_a_canceled_run_reads_canceled_today_and_counts_as_not_finished():
    canceled = _entry(status="canceled", error_type="Canceled", error="interrupted")
    rows = production_rows(_summary(AUSDT=canceled))
    assert rows[0].status == "canceled today"
    assert failures(rows) == (("AUSDT", "Canceled: interrupted"),)
    assert headline(_summary(), rows).startswith("2021-06-10: 1 symbol · 1 failed")
