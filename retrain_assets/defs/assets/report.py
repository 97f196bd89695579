"""The `walk_forward_report` asset: the walk-forward record of every symbol up to a date."""

import base64
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from resources.artifact_io import ArtifactRootResource
from resources.market_data import MarketDataResource
from resources.method import current_of
from resources.training import TrainingResource
from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.core.data.families import Family, describe, split_by_family
from retrain_assets.core.lifecycle.artifacts import json_bytes
from retrain_assets.core.model.provenance import family_of
from retrain_assets.core.report.desk import equity_series
from retrain_assets.core.report.pnl_chain import (
    PnlFigures,
    WalkForwardRecord,
    chain_pnl,
    equity_curves,
)
from retrain_assets.core.report.pnl_plot import render_equity_png, render_symbol_png
from retrain_assets.core.trading.walk_forward import DayPnl
from retrain_assets.defs.assets.common import RETRAIN_GROUP
from retrain_assets.defs.model_health import live_health_table
from retrain_assets.defs.partitions import EVERY_SYMBOL_OF_THE_DATE, date_partitions
from retrain_assets.defs.pnl_records import live_days, pnl_days, window_dates

_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("series", "string", "symbol, pooled (all trades) or portfolio (equal weight)"),
    ("status", "string", "ok, or insufficient_evidence below min_trades trades"),
    ("days", "int", "days traded by a live model"),
    ("trades", "int", "trades over those days"),
    ("gross_bps_per_trade", "float", "mean gross return per trade, bps"),
    ("net_bps_per_trade", "float", "mean net per trade after costs, bps (none for portfolio)"),
    ("net_bps_lo", "float", "95% interval of the net per trade (pooled: whole days): low"),
    ("net_bps_hi", "float", "... high"),
    ("hit_rate", "float", "share of trades with a positive net"),
    ("total_net_bps", "float", "cumulative net of a one-unit position, bps"),
    ("exposure_matched_net_bps", "float", "long over the bars held, same costs, bps"),
    ("exposure_matched_bps_per_trade", "float", "... per trade, bps"),
    ("random_timing_net_bps", "float", "as many bars of the same days at random, same costs"),
    ("buy_and_hold_net_bps", "float", "one position over every day, one round trip, bps"),
    ("flat_net_bps", "float", "flat: never trades"),
    ("max_drawdown_bps", "float", "largest fall of the cumulative net, bps"),
    ("net_bps_per_day", "float", "mean daily net, bps"),
    ("net_bps_per_day_lo", "float", "95% interval of the daily net (portfolio's own): low"),
    ("net_bps_per_day_hi", "float", "... high"),
    ("long_net_bps_per_trade", "float", "mean net per long trade, bps"),
    ("short_net_bps_per_trade", "float", "mean net per short trade, bps"),
    (
        "market_neutral_bps_per_trade",
        "float",
        "net per trade less beta x equal-weight market, beta from earlier days, bps",
    ),
)


_SIDE_BY_SIDE: tuple[tuple[str, str, str], ...] = (
    ("series", "string", "symbol, pooled or portfolio"),
    ("live_days", "int", "days production traded a champion (flat days are not counted)"),
    ("live_trades", "int", "the champion's own trades"),
    ("live_net_bps", "float", "production's own net after costs: the headline, bps"),
    ("live_net_bps_per_day", "float", "... per traded day, bps"),
    ("newest_trades", "int", "trades of each day's newest model (the challenger stream)"),
    ("newest_net_bps", "float", "the newest models' net over the same window, bps"),
    ("newest_net_bps_per_day", "float", "... per traded day, bps"),
)


class ReportConfig(dg.Config):
    """How far back the report chains the ledger."""

    window_days: int = Field(
        default=90, ge=1, le=3660, description="Traded days chained, ending at the date."
    )


@dg.asset(
    partitions_def=date_partitions,
    group_name=RETRAIN_GROUP,
    kinds={"matplotlib"},
    deps=[dg.AssetDep("walk_forward", partition_mapping=EVERY_SYMBOL_OF_THE_DATE)],
)
def walk_forward_report(
    context: dg.AssetExecutionContext,
    config: ReportConfig,
    training: TrainingResource,
    market_data: MarketDataResource,
    artifacts: ArtifactRootResource,
) -> dg.MaterializeResult:
    """Equity curves and figures of the walk-forward ledger through the date, every symbol.

    Chains each symbol's latest `walk_forward` days over the window (net and gross after
    costs, trades, hit rate, drawdown, against the exposure-matched benchmark, buy-and-hold and
    flat), per symbol, pooled (intervals over whole days) and as an equal-weight portfolio
    (interval from its own daily net), each with its trade count and 95% interval. Writes
    walk_forward.png and walk_forward.json beside the engine summary, and shows both in the UI;
    walk_forward/{SYMBOL}.png draws each symbol alone (so is the champion's `gate_window`), and
    equity_days.json keeps each symbol's daily record for the desk report's charts.

    The headline is production's own record, the champions' live days (`live_*` metadata,
    the `side_by_side` table and the JSON's `live`), beside the newest models' record over the
    same window; a symbol without a champion trades flat and adds no live day. The
    `model_health` table shows, per symbol, the model that traded the date (its champion,
    else the newest model): its trees, best iteration and top features.

    Only the days traded by a model of the current method and kind of data source are chained: a
    method change starts a new family, and `method_families` (and the JSON's `families`)
    marks each family's first and last day, and which were left out.
    """
    date = context.partition_key
    found = pnl_days(context.instance, window_dates(date, config.window_days))
    _warn_left_out(context, "walk_forward", found.unreadable)
    current = current_of(market_data, training)
    days, families = split_by_family(
        found.days, family_of(current.method.digest_of("model"), current.source_kind)
    )
    record = chain_pnl(days, min_trades=training.min_trades)
    png = render_equity_png(equity_curves(days), record, title=f"Walk-forward through {date}")
    folder = artifacts.layout().summary_file(date).parent
    store = ProductionStore(artifacts.layout().root)
    production = live_days(context.instance, store, window_dates(date, config.window_days))
    _warn_left_out(context, "live day", production.unreadable)
    live = chain_pnl(production.days, min_trades=training.min_trades)
    metadata = {
        **live_metadata(live, record),
        **report_metadata(record, png, folder, len(found.unreadable)),  # before any write
        "method_families": dg.MetadataValue.md(describe(families)),
        "model_health": live_health_table(context.instance, store, date),
    }
    document = _report_document(record, live, date, found.unreadable, families)
    atomic_write_bytes(folder / "walk_forward.png", png)
    atomic_write_bytes(folder / "walk_forward.json", json_bytes(document))
    charts = _write_symbol_charts(folder / "walk_forward", days, record, date)
    metadata["per_symbol_png"] = dg.MetadataValue.path(str(charts))
    series = equity_series(days, production.days)
    equity = {"through": date, "series": [s.to_json_dict() for s in series]}
    atomic_write_bytes(artifacts.layout().equity_file(date), json_bytes(equity))
    return dg.MaterializeResult(metadata=metadata)


def _report_document(
    record: WalkForwardRecord,
    live: WalkForwardRecord,
    date: str,
    unreadable: dict[str, str],
    families: list[Family],
) -> dict[str, Any]:
    """walk_forward.json: the newest models' record, production's own (`live`), through
    which date, the days that could not be read, and the method families seen."""
    return {
        **record.to_json_dict(),
        "live": live.to_json_dict(),
        "through": date,
        "unreadable": unreadable,
        "families": [f.to_json_dict() for f in families],
    }


def _warn_left_out(
    context: dg.AssetExecutionContext, what: str, unreadable: dict[str, str]
) -> None:
    """One warning per record the report could not read, by partition key: it is left out."""
    for pkey, why in sorted(unreadable.items()):
        context.log.warning(f"{what} [{pkey}] left out of the report: {why}")


def _write_symbol_charts(
    charts: Path, days: list[DayPnl], record: WalkForwardRecord, date: str
) -> Path:
    """Draw each symbol's walk-forward alone into `charts`/{SYMBOL}.png; returns the folder."""
    curves = equity_curves(days)
    for symbol, figures in record.per_symbol.items():
        chart = render_symbol_png(curves, figures, title=f"{symbol} walk-forward through {date}")
        atomic_write_bytes(charts / f"{symbol}.png", chart)
    return charts


def report_metadata(
    record: WalkForwardRecord, png: bytes, folder: Path, unreadable: int
) -> dict[str, dg.MetadataValue]:
    """The report as materialization metadata: the PNG inline, the table, where the files are."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, kind, description) for name, kind, description in _COLUMNS]
    )
    # Every row has every column; an undefined figure is None (an empty cell), never 0.
    rows = [dg.TableRecord(row) for row in record.table_rows()]
    image = base64.b64encode(png).decode()
    portfolio = record.portfolio
    metadata: dict[str, dg.MetadataValue] = {
        "equity_curves": dg.MetadataValue.md(f"![walk-forward](data:image/png;base64,{image})"),
        "figures": dg.MetadataValue.table(rows, schema=schema),
        "png": dg.MetadataValue.path(str(folder / "walk_forward.png")),
        "path": dg.MetadataValue.path(str(folder / "walk_forward.json")),
        "symbols": dg.MetadataValue.int(len(record.per_symbol)),
        "portfolio_days": dg.MetadataValue.int(portfolio.days),
        "portfolio_trades": dg.MetadataValue.int(portfolio.trades),
        "unreadable_days": dg.MetadataValue.int(unreadable),
    }
    if portfolio.net_bps_per_day is not None:
        metadata["portfolio_net_bps_per_day"] = dg.MetadataValue.float(portfolio.net_bps_per_day)
    if portfolio.net_bps_per_day_interval is not None:
        low, high = portfolio.net_bps_per_day_interval
        metadata["portfolio_net_bps_per_day_lo"] = dg.MetadataValue.float(low)
        metadata["portfolio_net_bps_per_day_hi"] = dg.MetadataValue.float(high)
    metadata["portfolio_total_net_bps"] = dg.MetadataValue.float(portfolio.total_net_bps)
    if portfolio.exposure_matched_net_bps is not None:
        matched = portfolio.exposure_matched_net_bps
        metadata["portfolio_exposure_matched_net_bps"] = dg.MetadataValue.float(matched)
    return metadata


def live_metadata(
    live: WalkForwardRecord, newest: WalkForwardRecord
) -> dict[str, dg.MetadataValue]:
    """Production's own record (the headline) and the side-by-side table against the newest
    models' record: one row per symbol, then pooled and portfolio."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, kind, about) for name, kind, about in _SIDE_BY_SIDE]
    )
    rows = []
    names = sorted(set(live.per_symbol) | set(newest.per_symbol))
    for name in [*names, "pooled", "portfolio"]:
        theirs = _series(live, name)
        ours = _series(newest, name)
        rows.append(
            dg.TableRecord(
                {
                    "series": name,
                    "live_days": theirs.days if theirs else 0,
                    "live_trades": theirs.trades if theirs else 0,
                    "live_net_bps": _round(theirs.total_net_bps if theirs else None),
                    "live_net_bps_per_day": _round(theirs.net_bps_per_day if theirs else None),
                    "newest_trades": ours.trades if ours else 0,
                    "newest_net_bps": _round(ours.total_net_bps if ours else None),
                    "newest_net_bps_per_day": _round(ours.net_bps_per_day if ours else None),
                }
            )
        )
    portfolio = live.portfolio
    metadata: dict[str, dg.MetadataValue] = {
        "side_by_side": dg.MetadataValue.table(rows, schema=schema),
        "live_days": dg.MetadataValue.int(portfolio.days),
        "live_trades": dg.MetadataValue.int(live.pooled.trades),
        "live_total_net_bps": dg.MetadataValue.float(round(portfolio.total_net_bps, 4)),
    }
    if portfolio.net_bps_per_day is not None:
        metadata["live_net_bps_per_day"] = dg.MetadataValue.float(portfolio.net_bps_per_day)
    if portfolio.net_bps_per_day_interval is not None:
        low, high = portfolio.net_bps_per_day_interval
        metadata["live_net_bps_per_day_lo"] = dg.MetadataValue.float(low)
        metadata["live_net_bps_per_day_hi"] = dg.MetadataValue.float(high)
    return metadata


def _series(record: WalkForwardRecord, name: str) -> PnlFigures | None:
    if name == "pooled":
        return record.pooled if record.pooled.days else None
    if name == "portfolio":
        return record.portfolio if record.portfolio.days else None
    return record.per_symbol.get(name)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
