"""The day's summary as table rows, the symbols needing attention first.

One row per symbol of `engine_summary.json`: how its run ended, whether its champion moved, the
walk-forward net of the gate's window with its interval and trade count, which checks did not
pass, and why it failed. Undefined figures are None (an empty cell), never 0.0.

Attention, most first: a failed or canceled run; a check failing with ERROR (drift, the live
IC, the gate finding a losing record); a check warning; still running or skipped; then the
rest. Within a rank, symbols sort by name.
"""

from collections.abc import Mapping
from typing import Any

FAILED = "failed"
CHECK_ERROR = "check error"
CHECK_WARNING = "check warning"
PENDING = "running or skipped"
OK = "ok"
ATTENTION_ORDER = (FAILED, CHECK_ERROR, CHECK_WARNING, PENDING, OK)

# (name, type, description) of each column, in order.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("symbol", "string", "the trading symbol"),
    ("attention", "string", "failed, check error, check warning, running or skipped, ok"),
    ("status", "string", "how the symbol-day's latest run ended"),
    ("champion_moved", "bool", "whether the gate moved the production pointer to today's model"),
    ("champion_as_of", "string", "the model live tomorrow (trained through this date)"),
    ("wf_net_bps_per_trade", "float", "walk-forward net per trade after costs, gate window"),
    ("wf_net_bps_lo", "float", "95% block-bootstrap interval of that net: low"),
    ("wf_net_bps_hi", "float", "... high"),
    ("wf_trades", "int", "walk-forward trades in the gate window"),
    ("checks", "string", "checks that did not pass (severity), or how many passed"),
    ("failure", "string", "error type and reason of a failed run, or why it was skipped"),
)


def attention(entry: Mapping[str, Any]) -> str:
    """How much one symbol's day needs a look (see the module docstring)."""
    if entry.get("status") in ("failed", "canceled"):
        return FAILED
    failing = [c for c in entry.get("checks") or [] if not c["passed"]]
    if any(c["severity"] == "ERROR" for c in failing):
        return CHECK_ERROR
    if failing:
        return CHECK_WARNING
    if entry.get("status") in ("running", "skipped"):
        return PENDING
    return OK


def checks_text(checks: list[Mapping[str, Any]]) -> str:
    """`feature_drift ERROR; promotion_gate WARN`, or `all 8 passed`, or empty."""
    if not checks:
        return ""
    failing = [f"{c['check']} {c['severity']}" for c in checks if not c["passed"]]
    return "; ".join(failing) if failing else f"all {len(checks)} passed"


def summary_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per symbol with every column of `COLUMNS`, most attention first."""
    rows = [_row(symbol, entry) for symbol, entry in summary["by_symbol"].items()]
    return sorted(rows, key=lambda r: (ATTENTION_ORDER.index(r["attention"]), r["symbol"]))


def _row(symbol: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    champion = entry.get("champion") or {}
    interval = champion.get("window_net_bps_interval") or [None, None]
    return {
        "symbol": symbol,
        "attention": attention(entry),
        "status": entry.get("status"),
        "champion_moved": champion.get("moved"),
        "champion_as_of": champion.get("champion_as_of"),
        "wf_net_bps_per_trade": _rounded(champion.get("window_net_bps_per_trade")),
        "wf_net_bps_lo": _rounded(interval[0]),
        "wf_net_bps_hi": _rounded(interval[1]),
        "wf_trades": champion.get("window_trades"),
        "checks": checks_text(list(entry.get("checks") or [])),
        "failure": _failure(entry),
    }


def _failure(entry: Mapping[str, Any]) -> str | None:
    if entry.get("error_type"):
        return f"{entry['error_type']}: {entry.get('error') or ''}".strip()
    return entry.get("skip_reason")


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)
