"""The engine summary as text: a markdown table for the Dagster UI."""

from collections.abc import Mapping
from typing import Any


def markdown_table(summary: Mapping[str, Any]) -> str:
    """The summary as a markdown table: one row per symbol, counts on top.

    Args:
        summary: An `engine_summary.json` document (see `defs.summary_records.date_summary`).

    Returns:
        Markdown text.
    """
    kind = " (dry run)" if summary.get("dry_run") else ""
    lines = [
        f"**{summary['date']}**{kind} — {summary['succeeded']} succeeded, "
        f"{summary['failed']} failed, {summary['skipped']} skipped of {summary['total_symbols']}",
        "",
        "| symbol | status | walk-forward today: net bps (trades) | held-out net bps/trade "
        "[95% interval] | trades | evidence | train min | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for symbol, v in summary["by_symbol"].items():
        trades = "" if v["trades"] is None else v["trades"]
        minutes = "" if v["train_minutes"] is None else v["train_minutes"]
        lines.append(
            f"| {symbol} | {v['status']} | {_pnl_text(v.get('walk_forward'))} | "
            f"{_net_text(v['net_bps_after_costs'], v.get('net_bps_interval'))} | {trades} | "
            f"{v.get('evidence') or ''} | {minutes} | "
            f"{v['error_type'] or v['skip_reason'] or ''} |"
        )
    return "\n".join(lines)


def _net_text(net: Any, interval: Any) -> str:
    if not isinstance(net, int | float):
        return ""
    if not interval:
        return f"{net:.2f}"
    return f"{net:.2f} [{interval[0]:.1f}, {interval[1]:.1f}]"


def _pnl_text(day: Mapping[str, Any] | None) -> str:
    """What yesterday's live model did today, or why nothing."""
    if not day:
        return ""
    if day.get("net_bps") is None:
        return str(day.get("status") or "")
    return f"{day['net_bps']:.1f} ({day.get('trades') or 0})"
