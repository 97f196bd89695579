"""The `desk_report` asset: the desk's morning view of one date, a table and one HTML page."""

import json
from pathlib import Path
from typing import Any

import dagster as dg

from resources.artifact_io import ArtifactRootResource
from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.core.model.model_health import health_text
from retrain_assets.core.report.desk import (
    NOT_FINISHED,
    PRODUCTION_COLUMNS,
    DeskPage,
    EquitySeries,
    ProductionRow,
    failures,
    headline,
    production_rows,
)
from retrain_assets.core.report.desk_html import render_desk_page
from retrain_assets.defs.assets.common import RETRAIN_GROUP
from retrain_assets.defs.model_health import model_health
from retrain_assets.defs.partitions import date_partitions
from retrain_assets.defs.summary_records import date_summary
from retrain_assets.vocabulary.keys import symbol_day_key


@dg.asset(
    partitions_def=date_partitions,
    group_name=RETRAIN_GROUP,
    kinds={"html"},
    deps=["engine_summary", "walk_forward_report"],
)
def desk_report(
    context: dg.AssetExecutionContext, artifacts: ArtifactRootResource
) -> dg.MaterializeResult:
    """The production table and the desk report of the date (desk.html).

    One row per symbol, the symbols needing attention first: what production trades from
    tomorrow (no champion yet, promoted, kept since D, demoted, failed today), the champion's
    as-of date, yesterday's model's net after costs on the date's bars and its trades, the
    gate window's net with its interval and the gate's evidence, and the problem, if any.

    desk.html is one self-contained page (no outside assets; it opens from a file) with the
    table, the day's failures and one equity chart per symbol: the newest models' and
    production's own cumulative net after costs, with each symbol's model health (trees, best
    iteration, top features) under its chart. Built from the date's engine_summary.json
    and the walk-forward report's equity_days.json, so it runs after both (the summary job
    materializes all three); without the summary file it reads the records itself.
    """
    date = context.partition_key
    layout = artifacts.layout()
    summary = _summary(context, layout.summary_file(date))
    rows = production_rows(summary)
    line = headline(summary, rows)
    page = DeskPage(
        date=date,
        headline=line,
        rows=tuple(rows),
        failures=failures(rows),
        charts=charts_for(rows, _series(layout.equity_file(date))),
        health=_health(context.instance, date, rows),
        made_by=_made_by(summary),
        dry_run=bool(summary.get("dry_run")),
    )
    path = layout.desk_file(date)
    atomic_write_bytes(path, render_desk_page(page).encode())
    return dg.MaterializeResult(metadata=desk_metadata(rows, line, path))


def production_table(rows: list[ProductionRow]) -> dg.MetadataValue:
    """The production table as a UI table (`core.desk.PRODUCTION_COLUMNS`, 8 columns)."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, kind, about) for name, kind, about in PRODUCTION_COLUMNS]
    )
    table = [dg.TableRecord(row.to_table_dict()) for row in rows]
    return dg.MetadataValue.table(table, schema=schema)


def desk_metadata(rows: list[ProductionRow], line: str, path: Path) -> dict[str, Any]:
    """The production table, the headline, the page's path and link, and the counts."""
    return {
        "production": production_table(rows),
        "headline": dg.MetadataValue.text(line),
        "report": dg.MetadataValue.path(str(path)),
        "report_url": dg.MetadataValue.url(path.resolve().as_uri()),
        "symbols": dg.MetadataValue.int(len(rows)),
        "failed_today": dg.MetadataValue.int(sum(r.status in NOT_FINISHED for r in rows)),
        "in_production": dg.MetadataValue.int(sum(r.champion is not None for r in rows)),
    }


def charts_for(
    rows: list[ProductionRow], series: tuple[EquitySeries, ...]
) -> tuple[EquitySeries, ...]:
    """One chart per symbol of the table, in its order: a symbol without a record yet gets an
    empty series (the page says so) rather than no chart."""
    found = {s.symbol: s for s in series}
    return tuple(found.get(r.symbol) or EquitySeries(r.symbol, (), (), ()) for r in rows)


def _summary(context: dg.AssetExecutionContext, path: Path) -> dict[str, Any]:
    """The date's engine summary as `engine_summary` wrote it, else read from the records."""
    if path.exists():
        return json.loads(path.read_bytes())
    context.log.warning(f"{path} is missing: the production table is read from the records")
    return date_summary(context.instance, context.partition_key)


def _health(instance: dg.DagsterInstance, date: str, rows: list[ProductionRow]) -> dict[str, str]:
    """Each symbol's model in a line: the champion production trades from tomorrow, else the
    date's newest model (what would be promoted), with its trees and top features."""
    models = {r.symbol: (r.champion, "champion") if r.champion else (date, "newest") for r in rows}
    keys = {s: symbol_day_key(d, s) for s, (d, _) in models.items()}
    recorded = model_health(instance, list(keys.values()))
    return {
        symbol: f"{kind} model {as_of}: {health_text(recorded[keys[symbol]])}"
        for symbol, (as_of, kind) in models.items()
        if keys[symbol] in recorded
    }


def _made_by(summary: dict[str, Any]) -> str:
    """The sources and methods the date's results were made with (a failed symbol's missing
    record is not one)."""
    made = [m for m in summary["made_by"] if m["source"] != "unrecorded"]
    return "; ".join(f"{m['source']} · method {m['method']} ({m['symbols']} symbols)" for m in made)


def _series(path: Path) -> tuple[EquitySeries, ...]:
    """The charts' series `walk_forward_report` wrote (none before it has run)."""
    if not path.exists():
        return ()
    return tuple(EquitySeries.from_json_dict(s) for s in json.loads(path.read_bytes())["series"])
