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
        "| symbol | status | net bps after costs | trades | train min | error |",
        "|---|---|---|---|---|---|",
    ]
    for symbol, v in summary["by_symbol"].items():
        net = v["net_bps_after_costs"]
        net_text = f"{net:.2f}" if isinstance(net, int | float) else ""
        trades = "" if v["trades"] is None else v["trades"]
        minutes = "" if v["train_minutes"] is None else v["train_minutes"]
        lines.append(
            f"| {symbol} | {v['status']} | {net_text} | {trades} | {minutes} | "
            f"{v['error_type'] or v['skip_reason'] or ''} |"
        )
    return "\n".join(lines)
