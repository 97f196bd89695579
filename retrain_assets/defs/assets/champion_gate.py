"""The promotion gate of one symbol-day, as the `champion` asset evaluates it, and its check.

The verdict itself is `core.lifecycle.gate`'s; this reads its evidence from the instance (the
symbol's walk-forward days in the gate's window, of the candidate's family only), draws the
window as the UI's per-symbol chart, and turns the verdict into the `promotion_gate` check.
"""

import base64
from dataclasses import replace

import dagster as dg
import pandas as pd

from retrain_assets.core.data.families import describe, split_by_family
from retrain_assets.core.lifecycle.gate import (
    GATE_CHECK,
    DayNet,
    GatePolicy,
    GateVerdict,
    day_nets,
    promotion_gate,
)
from retrain_assets.core.lifecycle.production import Decision
from retrain_assets.core.report.pnl_chain import chain_pnl, equity_curves
from retrain_assets.core.report.pnl_plot import render_symbol_png
from retrain_assets.defs.pnl_records import pnl_days, window_dates


def method_dates(date: str, policy: GatePolicy) -> list[str]:
    """The method test's dates: the window before `date` (the day's own ledgers of other
    symbols may still be running, so the pooled record stops at the day before)."""
    before = (pd.Timestamp(date) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    return window_dates(before, policy.method_window_days)


def fresh_since(decisions: list[Decision]) -> str | None:
    """The last demotion's date: the symbol's own evidence starts after it."""
    demoted = [d.date for d in decisions if d.demoted]
    return max(demoted) if demoted else None


def gate(
    context: dg.AssetExecutionContext,
    partition: tuple[str, str],
    policy: GatePolicy,
    family: str,
    method_days: list[DayNet],
    evidence_after: str | None,
    live: list[DayNet] | None,
) -> tuple[GateVerdict, dg.MetadataValue, str]:
    """The gate's verdict; the symbol's own window as an equity chart of this symbol alone
    (the UI's per-symbol view); and the families seen in the window (one line each)."""
    date, symbol = partition
    found = pnl_days(context.instance, window_dates(date, policy.window_days), [symbol])
    for pkey, why in sorted(found.unreadable.items()):
        context.log.warning(f"walk_forward [{pkey}] left out of the gate: {why}")
    days, families = split_by_family(found.days, family)
    if evidence_after is not None:
        days = [d for d in days if d.day > evidence_after]  # evidence from after the demotion
    left_out = sum(f.days for f in families if not f.current)
    if left_out:
        context.log.info(f"{symbol}: {left_out} day(s) of another method or source left out")
    window = window_dates(date, policy.window_days)[0]
    verdict = promotion_gate(
        symbol,
        date,
        method=method_days,
        own=day_nets(days),
        champion_record=None if live is None else [n for n in live if n.day >= window],
        policy=policy,
    )
    record = chain_pnl(days, min_trades=policy.min_trades)
    figures = record.per_symbol.get(symbol)
    if figures is not None:  # the window's per-trade figures, for the summary and the CLI
        verdict = replace(verdict, figures={**verdict.figures, "window": figures.to_json_dict()})
    if figures is None:
        chart = dg.MetadataValue.md(f"{symbol}: no walk-forward day of this method in the window")
        return verdict, chart, describe(families)
    title = f"{symbol} walk-forward, {policy.window_days} days through {date}"
    png = render_symbol_png(equity_curves(days), figures, title=title)
    image = base64.b64encode(png).decode()
    chart = dg.MetadataValue.md(f"![{symbol}](data:image/png;base64,{image})")
    return verdict, chart, describe(families)


def gate_check_result(verdict: GateVerdict) -> dg.AssetCheckResult:
    """ERROR when the record argues against the model (the symbol loses, or the newest models
    are worse than the champion); WARN when evidence is still short. The check carries no
    numbers: Dagster plots a check's numeric metadata across partitions, mixing symbols."""
    severity = dg.AssetCheckSeverity.ERROR if verdict.losing else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=GATE_CHECK,
        passed=verdict.passed,
        severity=severity,
        description=verdict.describe()[:1000],
        metadata={"failing": dg.MetadataValue.text(", ".join(verdict.failing) or "none")},
    )
