"""The CLI's line per finished symbol: the net with its interval, evidence and the gate."""

import io

from retrain_assets.launcher.progress import ConsoleProgress
from retrain_assets.launcher.status import SymbolStatus


def _line(entry: SymbolStatus) -> str:
    out = io.StringIO()
    ConsoleProgress(out)({entry.symbol: entry}, 1.0)
    return out.getvalue().splitlines()[0]


def test_a_success_shows_the_net_with_its_interval_evidence_and_what_the_gate_did():
    entry = SymbolStatus(
        "ADAUSDT",
        "success",
        attempts=1,
        net_bps_per_trade=-32.71,
        net_bps_interval=(-170.14, 81.5),
        trades=34,
        evidence="ok",
        champion="kept (champion since 2025-04-20; symbol_evidence)",
    )
    assert _line(entry) == (
        "  ADAUSDT        success  net -32.7 bps/trade [-170.1, +81.5], 34 trades (ok)  "
        "kept (champion since 2025-04-20; symbol_evidence)  attempts 1"
    )


def test_one_trade_has_no_interval_and_no_trade_says_so():
    one = SymbolStatus(
        "TRXUSDT", "success", attempts=1, net_bps_per_trade=81.7, trades=1, evidence="thin"
    )
    assert "net +81.7 bps/trade, 1 trade (thin)  attempts 1" in _line(one)
    none = SymbolStatus("LTCUSDT", "success", attempts=1, trades=0, evidence="insufficient")
    assert "no trades (insufficient)  attempts 1" in _line(none)


def test_a_failure_shows_its_type_and_reason():
    entry = SymbolStatus("NOPEUSDT", "failed", error_type="DataCheckFailed", error="stale")
    assert _line(entry).endswith("failed   DataCheckFailed: stale")


def test_a_canceled_symbol_shows_its_reason_after_the_state_without_the_type():
    entry = SymbolStatus(
        "BTCUSDT", "canceled", error_type="Canceled", error="interrupted (Ctrl-C / SIGTERM)"
    )
    assert _line(entry) == "  BTCUSDT        canceled interrupted (Ctrl-C / SIGTERM)"


def test_a_multi_line_reason_is_printed_on_one_bounded_line():
    entry = SymbolStatus("BTCUSDT", "failed", error_type="RuntimeError", error="a\nb\n" + "c" * 900)
    out = io.StringIO()
    ConsoleProgress(out)({entry.symbol: entry}, 1.0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("  BTCUSDT        failed   RuntimeError: a b c")
    assert len(lines[0]) <= 30 + 400 and lines[0].endswith("…")


def test_an_undecodable_byte_in_a_reason_is_escaped_on_a_strict_utf8_console():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    entry = SymbolStatus("BTCUSDT", "failed", error_type="PermanentError", error="no 'x\udcff'")
    ConsoleProgress(stream)({entry.symbol: entry}, 1.0)
    stream.flush()
    assert "PermanentError: no 'x\\udcff'" in raw.getvalue().decode("utf-8")
