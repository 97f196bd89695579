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
        champion="kept (evidence, net_after_costs)",
    )
    assert _line(entry) == (
        "  ADAUSDT        success  net -32.7 bps/trade [-170.1, +81.5], 34 trades (ok)  "
        "champion kept (evidence, net_after_costs)  attempts 1"
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
