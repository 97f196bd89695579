"""`summary/YYYYMMDDZ/engine_summary.json`, built from the instance's records."""

import statistics
from typing import Any

import dagster as dg

from retrain_assets.core.artifacts import ArtifactLayout, json_bytes
from retrain_assets.core.atomic import atomic_write_bytes
from retrain_assets.defs.partitions import partition_key


def _latest_metrics(
    instance: dg.DagsterInstance, date: str, symbol: str, dry_run: bool
) -> dict[str, Any] | None:
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("metrics"),
            asset_partitions=[str(partition_key(date, symbol))],
        ),
        limit=20,
        ascending=False,
    )
    for record in result.records:
        mat = record.asset_materialization
        if mat is None:
            continue
        md = {k: v.value for k, v in mat.metadata.items()}
        if bool(md.get("dry_run")) == dry_run:
            return md
    return None


def symbol_summary(
    instance: dg.DagsterInstance, date: str, symbol: str, entry: dict[str, Any], dry_run: bool
) -> dict[str, Any]:
    """One `by_symbol` entry: status, metrics path, net bps after costs, error type."""
    md = _latest_metrics(instance, date, symbol, dry_run) or {}
    files = md.get("files") or {}
    return {
        "status": entry.get("status"),
        "metrics_path": (files.get("metrics.json") or {}).get("path"),
        "net_bps_after_costs": md.get("net_bps_after_costs"),
        "train_minutes": md.get("train_minutes"),
        "error_type": entry.get("error_type"),
        "skip_reason": entry.get("skip_reason"),
    }


def build_engine_summary(
    instance: dg.DagsterInstance,
    header: dict[str, Any],
    status: dict[str, dict[str, Any]],
    wall_s: float,
) -> dict[str, Any]:
    """The spec's summary fields for one invocation."""
    date, dry = header["date"], bool(header.get("dry_run"))
    by_symbol = {s: symbol_summary(instance, date, s, e, dry) for s, e in status.items()}
    trained = [
        v["train_minutes"]
        for v in by_symbol.values()
        if v["status"] == "success" and v["train_minutes"] is not None
    ]
    counts = [v["status"] for v in by_symbol.values()]
    return {
        **header,
        "total_symbols": len(by_symbol),
        "succeeded": counts.count("success"),
        "failed": counts.count("failed"),
        "skipped": counts.count("skipped"),
        "avg_train_minutes": round(statistics.fmean(trained), 4) if trained else None,
        "median_train_minutes": round(statistics.median(trained), 4) if trained else None,
        "total_wall_minutes": round(wall_s / 60.0, 4),
        "by_symbol": by_symbol,
    }


def write_engine_summary(
    instance: dg.DagsterInstance,
    layout: ArtifactLayout,
    header: dict[str, Any],
    status: dict[str, dict[str, Any]],
    wall_s: float,
) -> dict[str, Any]:
    """Build the summary and write it atomically to its folder."""
    summary = build_engine_summary(instance, header, status, wall_s)
    atomic_write_bytes(layout.summary_file(header["date"]), json_bytes(summary))
    return summary
