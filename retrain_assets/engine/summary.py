"""`summary/YYYYMMDDZ/engine_summary.json`: one date's retraining, built from the instance.

The summary is computed from run records and materializations, never from a process's memory,
so failed and skipped symbols are in it and any process (the CLI, a sensor after a backfill or
a schedule tick) can refresh it and get the same answer.
"""

import statistics
from datetime import datetime
from typing import Any

import dagster as dg

from resources.artifact_io import latest_metadata
from retrain_assets.defs.partitions import DRY_RUN_TAG, partition_key
from retrain_assets.engine.ledger import symbol_entry
from retrain_assets.engine.registry import InvocationRecord, recent_invocations

ASSETS = ("costs", "features", "model", "metrics")
STAGE_KEYS = (
    "costs_seconds",
    "load_seconds",
    "features_seconds",
    "train_seconds",
    "evaluate_seconds",
    "upload_seconds",
)
DEFAULT_CPU_HOUR_USD = 0.05
DEFAULT_GPU_HOUR_USD = 2.50


def _latest_metadata(
    instance: dg.DagsterInstance, asset: str, date: str, symbol: str, dry_run: bool
) -> dict[str, Any]:
    key = str(partition_key(date, symbol))
    found = latest_metadata(instance, dg.AssetKey(asset), key, dry_run)
    return found[1] if found else {}


def symbol_costs(instance: dg.DagsterInstance, date: str, symbol: str, dry_run: bool) -> dict:
    """Per-stage seconds, CPU/GPU seconds and peak memory of one symbol-day's latest outputs."""
    stages: dict[str, float] = {}
    cpu = gpu = peak = 0.0
    for asset in ASSETS:
        md = _latest_metadata(instance, asset, date, symbol, dry_run)
        stages.update({k: float(md[k]) for k in STAGE_KEYS if k in md})
        cpu += float(md.get("cpu_seconds", 0.0))
        gpu += float(md.get("gpu_seconds", 0.0))
        peak = max(peak, float(md.get("peak_rss_mb", 0.0)))
    return {
        "stage_seconds": stages,
        "cpu_seconds": round(cpu, 3),
        "gpu_seconds": round(gpu, 3),
        "peak_rss_mb": round(peak, 1),
    }


def _latest_invocation(instance: dg.DagsterInstance, date: str) -> InvocationRecord | None:
    same_day = [r for r in recent_invocations(instance) if r.date == date]
    return same_day[-1] if same_day else None


def _symbol_statuses(
    instance: dg.DagsterInstance, date: str, dry_run: bool, invocation: InvocationRecord | None
) -> dict[str, dict[str, Any]]:
    records = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition/date": date}))
    latest: dict[str, dg.RunRecord] = {}
    for record in sorted(records, key=lambda r: r.create_timestamp):
        tags = record.dagster_run.tags
        if (tags.get(DRY_RUN_TAG) == "true") == dry_run and tags.get("dagster/partition/symbol"):
            latest[tags["dagster/partition/symbol"]] = record
    skipped = dict(invocation.extra.get("skipped_symbols", {})) if invocation else {}
    status: dict[str, dict[str, Any]] = {}
    for symbol in sorted(set(latest) | set(skipped)):
        run = latest.get(symbol)
        if symbol in skipped and (
            run is None
            or run.create_timestamp.timestamp() < (invocation.started_at if invocation else 0)
        ):
            status[symbol] = {"status": "skipped", "skip_reason": skipped[symbol]}
        else:
            status[symbol] = symbol_entry(instance, run)
    return status


def _wall_minutes(
    status: dict[str, dict[str, Any]], invocation: InvocationRecord | None
) -> float | None:
    if invocation is not None and invocation.finished_at is not None:
        return round((invocation.finished_at - invocation.started_at) / 60.0, 4)
    starts = [e["started_at"] for e in status.values() if e.get("started_at")]
    ends = [e["ended_at"] for e in status.values() if e.get("ended_at")]
    if not starts or not ends:
        return None
    span = datetime.fromisoformat(max(ends)) - datetime.fromisoformat(min(starts))
    return round(span.total_seconds() / 60.0, 4)


def _by_symbol(
    instance: dg.DagsterInstance, date: str, symbol: str, entry: dict[str, Any], dry: bool
) -> dict[str, Any]:
    md = _latest_metadata(instance, "metrics", date, symbol, dry)
    files = md.get("files") or {}
    return {
        "status": entry.get("status"),
        "metrics_path": (files.get("metrics.json") or {}).get("path"),
        "net_bps_after_costs": md.get("net_bps_after_costs"),
        "trades": md.get("trades"),
        "train_minutes": md.get("train_minutes"),
        "error_type": entry.get("error_type"),
        "error": entry.get("error"),
        "skip_reason": entry.get("skip_reason"),
        "run_id": entry.get("run_id"),
        **symbol_costs(instance, date, symbol, dry),
    }


def date_summary(
    instance: dg.DagsterInstance,
    date: str,
    cpu_hour_usd: float = DEFAULT_CPU_HOUR_USD,
    gpu_hour_usd: float = DEFAULT_GPU_HOUR_USD,
) -> dict[str, Any]:
    """The spec's engine summary for one date (the latest invocation's kind: real or dry)."""
    invocation = _latest_invocation(instance, date)
    dry = bool(invocation.dry_run) if invocation else False
    status = _symbol_statuses(instance, date, dry, invocation)
    by_symbol = {s: _by_symbol(instance, date, s, e, dry) for s, e in status.items()}
    trained = [
        v["train_minutes"]
        for v in by_symbol.values()
        if v["status"] == "success" and v["train_minutes"] is not None
    ]
    counts = [v["status"] for v in by_symbol.values()]
    cpu = sum(v["cpu_seconds"] for v in by_symbol.values())
    gpu = sum(v["gpu_seconds"] for v in by_symbol.values())
    return {
        "date": date,
        "dry_run": dry,
        "invocation": invocation.id if invocation else None,
        "mode": invocation.mode if invocation else None,
        "total_symbols": len(by_symbol),
        "succeeded": counts.count("success"),
        "failed": counts.count("failed"),
        "skipped": counts.count("skipped"),
        "running": counts.count("running"),
        "avg_train_minutes": round(statistics.fmean(trained), 4) if trained else None,
        "median_train_minutes": round(statistics.median(trained), 4) if trained else None,
        "total_wall_minutes": _wall_minutes(status, invocation),
        "cpu_seconds": round(cpu, 3),
        "gpu_seconds": round(gpu, 3),
        "estimated_cost_usd": round(cpu / 3600 * cpu_hour_usd + gpu / 3600 * gpu_hour_usd, 6),
        "by_symbol": by_symbol,
    }


def markdown_table(summary: dict[str, Any]) -> str:
    """The summary as a markdown table for the Dagster UI."""
    lines = [
        f"**{summary['date']}** — {summary['succeeded']} succeeded, {summary['failed']} failed, "
        f"{summary['skipped']} skipped of {summary['total_symbols']}",
        "",
        "| symbol | status | net bps after costs | trades | train min | error |",
        "|---|---|---|---|---|---|",
    ]
    for symbol, v in summary["by_symbol"].items():
        net = v["net_bps_after_costs"]
        net_text = f"{net:.2f}" if isinstance(net, int | float) else ""
        lines.append(
            f"| {symbol} | {v['status']} | {net_text} | {v['trades'] or ''} | "
            f"{v['train_minutes'] or ''} | {v['error_type'] or v['skip_reason'] or ''} |"
        )
    return "\n".join(lines)
