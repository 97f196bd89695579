"""One date's engine summary, read from the instance's run and materialization records.

The summary is computed from records, never from a process's memory, so failed and skipped
symbols are in it and any process (the launcher, the summary sensor's run) gets the same
answer. A dry run has an instance of its own, so its summary is made of dry runs only, and the
real one never sees them.
"""

import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from retrain_assets.core.model.provenance import Provenance
from retrain_assets.core.report.desk import headline, production_rows
from retrain_assets.core.trading.evaluation import INSUFFICIENT_EVIDENCE
from retrain_assets.defs.partitions import SYMBOLS
from retrain_assets.defs.records import (
    ACTIVE_STATUSES,
    check_evaluations_of,
    failure_of,
    latest_metadata_by_partition,
    metrics_materialization,
)
from retrain_assets.vocabulary.figures import figure, whole
from retrain_assets.vocabulary.keys import symbol_day_key
from retrain_assets.vocabulary.tags import (
    BACKFILL_TAG,
    DATE_TAG,
    SYMBOL_TAG,
    RunTags,
    is_dry_run,
)

ASSETS = ("costs", "features", "model", "walk_forward", "metrics", "champion")
STAGE_KEYS = (
    "costs_seconds",
    "load_seconds",
    "features_seconds",
    "train_seconds",
    "evaluate_seconds",
    "upload_seconds",
)
NET_BPS_KEY = "net_bps_after_costs"
DEFAULT_CPU_HOUR_USD = 0.05
DEFAULT_GPU_HOUR_USD = 2.50
_STATUS = {
    dg.DagsterRunStatus.SUCCESS: "success",
    dg.DagsterRunStatus.FAILURE: "failed",
    dg.DagsterRunStatus.CANCELED: "canceled",
}


def run_net_bps(instance: dg.DagsterInstance, run_id: str) -> float | None:
    """The rankable `net_bps_after_costs` of the `metrics` a run made.

    None without one, and None for a model with insufficient evidence (too few trades), so
    the Telegram completion never ranks it best or worst: such a materialization carries no
    `net_bps_after_costs` (see the `metrics` asset), and the status is checked as well.
    """
    md = metrics_materialization(instance, run_id) or {}
    value = figure(md.get(NET_BPS_KEY))
    if value is None or md.get("status") == INSUFFICIENT_EVIDENCE:
        return None
    return value


def symbol_costs(latest: Mapping[str, Mapping[str, Any]]) -> dict:
    """Per-stage seconds, CPU/GPU seconds and peak memory of one symbol-day's latest outputs
    (`latest`: each asset's latest materialization metadata)."""
    stages: dict[str, float] = {}
    cpu = gpu = peak = 0.0
    for name in ASSETS:
        md = latest.get(name, {})
        stages.update({k: v for k in STAGE_KEYS if (v := figure(md.get(k))) is not None})
        cpu += figure(md.get("cpu_seconds")) or 0.0
        gpu += figure(md.get("gpu_seconds")) or 0.0
        peak = max(peak, figure(md.get("peak_rss_mb")) or 0.0)
    return {
        "stage_seconds": stages,
        "cpu_seconds": round(cpu, 3),
        "gpu_seconds": round(gpu, 3),
        "peak_rss_mb": round(peak, 1),
    }


def date_summary(
    instance: dg.DagsterInstance,
    date: str,
    *,
    skipped: Mapping[str, str] | None = None,
    requested_by: RunTags | None = None,
    cpu_hour_usd: float = DEFAULT_CPU_HOUR_USD,
    gpu_hour_usd: float = DEFAULT_GPU_HOUR_USD,
) -> dict[str, Any]:
    """The spec's engine summary for one date: every registered symbol's latest run.

    A symbol whose partition was removed (`retrain --remove_symbol`) is left out, though its
    runs stay in the instance.

    Args:
        instance: The Dagster instance with the runs and materializations.
        date: The trained day, `YYYY-MM-DD`.
        skipped: Symbols the launcher skipped (symbol -> reason); each is shown as `skipped`
            unless it has a run newer than the invocation that skipped it.
        requested_by: The invocation asking for the summary (the summary run's tags); its id
            and mode are reported (and whether it is a dry run), and its first run dates the
            skips. Default: the invocation of the date's latest run.
        cpu_hour_usd: Price of one CPU hour, for `estimated_cost_usd`.
        gpu_hour_usd: Price of one GPU hour.

    Returns:
        The summary document (`engine_summary.json`).
    """
    registered = set(instance.get_dynamic_partitions(SYMBOLS))
    runs = [r for r in date_runs(instance, date) if r.dagster_run.tags[SYMBOL_TAG] in registered]
    latest = latest_per_symbol(runs)
    invocation, mode = _invocation_of(runs, requested_by)
    dry_run = _is_dry_run(runs, requested_by)
    skipped_at = _skips_decided_at(runs, invocation)
    status: dict[str, dict[str, Any]] = {}
    for symbol in sorted((set(latest) | set(skipped or {})) & registered):
        record = latest.get(symbol)
        if skipped and symbol in skipped and (record is None or _created(record) < skipped_at):
            status[symbol] = {"status": "skipped", "skip_reason": skipped[symbol]}
        elif record is not None:
            status[symbol] = _run_entry(instance, record)
    keys = [symbol_day_key(date, s) for s in status]
    latest_md = {
        name: latest_metadata_by_partition(instance, dg.AssetKey(name), keys) for name in ASSETS
    }
    by_symbol = {
        s: _by_symbol(e, {n: latest_md[n].get(symbol_day_key(date, s), {}) for n in ASSETS})
        for s, e in status.items()
    }
    return _document(date, dry_run, invocation, mode, status, by_symbol, cpu_hour_usd, gpu_hour_usd)


def desk_headline(instance: dg.DagsterInstance, date: str) -> str | None:
    """The production table's headline of `date` from the records (`core.desk.headline`);
    None when the date has no symbol-day run yet."""
    summary = date_summary(instance, date)
    rows = production_rows(summary)
    return headline(summary, rows) if rows else None


def _document(
    date: str,
    dry_run: bool,
    invocation: str | None,
    mode: str | None,
    status: Mapping[str, Mapping[str, Any]],
    by_symbol: Mapping[str, dict[str, Any]],
    cpu_hour_usd: float,
    gpu_hour_usd: float,
) -> dict[str, Any]:
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
        "dry_run": dry_run,
        "invocation": invocation,
        "mode": mode,
        "total_symbols": len(by_symbol),
        "succeeded": counts.count("success"),
        # A canceled symbol did not succeed either; its status says which it was.
        "failed": counts.count("failed") + counts.count("canceled"),
        "skipped": counts.count("skipped"),
        "running": counts.count("running"),
        "avg_train_minutes": round(statistics.fmean(trained), 4) if trained else None,
        "median_train_minutes": round(statistics.median(trained), 4) if trained else None,
        "total_wall_minutes": _wall_minutes(status),
        "cpu_seconds": round(cpu, 3),
        "gpu_seconds": round(gpu, 3),
        "estimated_cost_usd": round(cpu / 3600 * cpu_hour_usd + gpu / 3600 * gpu_hour_usd, 6),
        "made_by": made_by(by_symbol),
        "by_symbol": dict(by_symbol),
    }


def made_by(by_symbol: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each data source and method the date's results were made with, and by how many symbols:
    one entry when the whole date was made the same way."""
    counts: dict[tuple[str, str], int] = {}
    for entry in by_symbol.values():
        made = Provenance.from_json_dict(entry.get("provenance"))
        key = (made.source, made.method) if made else ("unrecorded", "unrecorded")
        counts[key] = counts.get(key, 0) + 1
    return [
        {"source": source, "method": method, "symbols": n}
        for (source, method), n in sorted(counts.items())
    ]


def date_runs(instance: dg.DagsterInstance, date: str) -> list[dg.RunRecord]:
    """The date's symbol-day runs, oldest first."""
    records = instance.get_run_records(dg.RunsFilter(tags={DATE_TAG: date}))
    kept = [r for r in records if r.dagster_run.tags.get(SYMBOL_TAG)]
    return sorted(kept, key=_created)


def latest_per_symbol(runs: Sequence[dg.RunRecord]) -> dict[str, dg.RunRecord]:
    """The newest run of each symbol, from runs oldest first (as `date_runs` gives them)."""
    return {r.dagster_run.tags[SYMBOL_TAG]: r for r in runs}


def _invocation_of(
    runs: Sequence[dg.RunRecord], requested_by: RunTags | None
) -> tuple[str | None, str | None]:
    """(invocation id, mode) to report: the requester's, else the latest run's."""
    if requested_by is not None:
        return requested_by.invocation, requested_by.mode
    if not runs:
        return None, None
    run = runs[-1].dagster_run
    tags = RunTags.from_tags(run.tags)
    return _invocation_id(run), tags.mode if tags else _untagged_mode(run)


def _is_dry_run(runs: Sequence[dg.RunRecord], requested_by: RunTags | None) -> bool:
    """Whether the summary is a dry run's (for its "(dry run)" marks): the requester's tag,
    else the latest run's."""
    if requested_by is not None:
        return requested_by.dry_run
    return bool(runs) and is_dry_run(runs[-1].dagster_run.tags)


def _invocation_id(run: dg.DagsterRun) -> str:
    """The run's invocation; a UI backfill or a run launched from the UI stands for itself."""
    tags = RunTags.from_tags(run.tags)
    if tags is not None:
        return tags.invocation
    backfill = run.tags.get(BACKFILL_TAG)
    return f"backfill:{backfill}" if backfill else f"run:{run.run_id}"


def _untagged_mode(run: dg.DagsterRun) -> str:
    return "backfill" if run.tags.get(BACKFILL_TAG) else "manual"


def _skips_decided_at(runs: Sequence[dg.RunRecord], invocation: str | None) -> float:
    """When the skipping invocation began (its first run); with no run of it, skips stand."""
    own = [r for r in runs if _invocation_id(r.dagster_run) == invocation]
    return _created(own[0]) if own else float("inf")


def _run_entry(instance: dg.DagsterInstance, record: dg.RunRecord) -> dict[str, Any]:
    run = record.dagster_run
    entry: dict[str, Any] = {
        "run_id": run.run_id,
        "started_at": _iso(record.start_time),
        "ended_at": _iso(record.end_time),
    }
    if run.status in ACTIVE_STATUSES or run.status not in _STATUS:
        return {**entry, "status": "running"}
    entry["status"] = _STATUS[run.status]
    entry["checks"] = check_evaluations_of(instance, run.run_id)
    if run.status != dg.DagsterRunStatus.SUCCESS:
        failure = failure_of(instance, run.run_id)
        entry.update(error_type=failure.error_type, error=failure.message)
    return entry


def _by_symbol(entry: Mapping[str, Any], latest: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    md = latest.get("metrics", {})
    files = md.get("files") or {}
    return {
        "status": entry.get("status"),
        "metrics_path": (files.get("metrics.json") or {}).get("path"),
        # Every model's net per trade, with its interval and evidence; None, never 0.0,
        # where undefined. Materializations from before the interval existed have only the key.
        "net_bps_after_costs": figure(md.get("net_bps_per_trade", md.get(NET_BPS_KEY))),
        "net_bps_interval": _interval(md),
        "trades": whole(md.get("trades")),
        "evidence": md.get("status"),
        "train_minutes": figure(md.get("train_minutes")),
        # What made it: the data source, the bars' fingerprint, the method and its settings.
        "provenance": md.get("provenance"),
        "walk_forward": _pnl_day(latest.get("walk_forward", {})),
        "champion": _champion(latest.get("champion", {})),
        "checks": list(entry.get("checks") or []),
        "error_type": entry.get("error_type"),
        "error": entry.get("error"),
        "skip_reason": entry.get("skip_reason"),
        "run_id": entry.get("run_id"),
        **symbol_costs(latest),
    }


def _pnl_day(md: Mapping[str, Any]) -> dict[str, Any] | None:
    """The date's walk-forward day: what yesterday's live model did today (None: not yet)."""
    if "ledger_status" not in md:
        return None
    return {
        "status": md["ledger_status"],
        "live_model_as_of": md.get("live_model_as_of"),
        "live_model_family": md.get("live_model_family"),
        "trades": whole(md.get("day_trades")),
        "net_bps": figure(md.get("day_net_bps")),
        "buy_and_hold_gross_bps": figure(md.get("day_buy_and_hold_gross_bps")),
    }


def _champion(md: Mapping[str, Any]) -> dict[str, Any] | None:
    """The date's promotion: did the champion move, which is live, and the gate's window."""
    if "moved" not in md:
        return None
    low, high = figure(md.get("window_net_bps_lo")), figure(md.get("window_net_bps_hi"))
    return {
        "action": md.get("action") or ("promoted" if md["moved"] else "kept"),
        "moved": bool(md["moved"]),
        "demoted": bool(md.get("demoted", False)),
        "champion_as_of": None if md.get("champion_as_of") == "none" else md.get("champion_as_of"),
        "champion_since": _text_or_none(md.get("champion_since")),
        "reason": md.get("reason"),
        "gate_passed": md.get("gate_passed"),
        "gate_failing": md.get("gate_failing") or None,
        "window_trades": whole(md.get("window_trades")),
        "window_days": whole(md.get("window_days")),
        "window_net_bps_per_trade": figure(md.get("window_net_bps_per_trade")),
        "window_net_bps_interval": None if low is None or high is None else [low, high],
    }


def _text_or_none(value: Any) -> str | None:
    return None if value in (None, "", "none") else str(value)


def _interval(md: Mapping[str, Any]) -> list[float] | None:
    low, high = figure(md.get("net_bps_lo")), figure(md.get("net_bps_hi"))
    return None if low is None or high is None else [low, high]


def _wall_minutes(status: Mapping[str, Mapping[str, Any]]) -> float | None:
    starts = [e["started_at"] for e in status.values() if e.get("started_at")]
    ends = [e["ended_at"] for e in status.values() if e.get("ended_at")]
    if not starts or not ends:
        return None
    span = datetime.fromisoformat(max(ends)) - datetime.fromisoformat(min(starts))
    return round(span.total_seconds() / 60.0, 4)


def _created(record: dg.RunRecord) -> float:
    return record.create_timestamp.timestamp()


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None
