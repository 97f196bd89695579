"""`runs/YYYYMMDDZ/status.json`: the resume ledger, exported from the Dagster instance.

The instance's run and materialization records are the truth; this file is a readable export
rewritten (atomically) after every change an invocation sees.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from retrain_assets.core.artifacts import json_bytes
from retrain_assets.core.atomic import atomic_write_bytes
from retrain_assets.defs.partitions import INVOCATION_TAG
from retrain_assets.engine.plan import SymbolPlan
from retrain_assets.engine.runner import outcome_from_run

_RUNNING = {
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
}


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None


# A finished run never changes, so its entry is read from the event log once per process.
_FINISHED: dict[str, dict[str, Any]] = {}


def symbol_entry(instance: dg.DagsterInstance, record: dg.RunRecord | None) -> dict[str, Any]:
    """The ledger entry of one symbol from its latest run record (None: not started yet)."""
    if record is None:
        return {"status": "pending", "attempts": 0}
    run = record.dagster_run
    if run.run_id in _FINISHED:
        return dict(_FINISHED[run.run_id])
    entry: dict[str, Any] = {
        "run_id": run.run_id,
        "started_at": _iso(record.start_time),
        "ended_at": _iso(record.end_time),
    }
    if run.status in _RUNNING:
        return {**entry, "status": "running", "attempts": None}
    outcome = outcome_from_run(
        instance,
        run.tags.get("dagster/partition/symbol", ""),
        run.run_id,
        run.status == dg.DagsterRunStatus.SUCCESS,
    )
    entry.update(status="success" if outcome.success else "failed", attempts=outcome.attempts)
    if not outcome.success:
        entry.update(
            error_type=outcome.error_type,
            error=outcome.error_message,
            stack_summary=outcome.stack_summary,
        )
    _FINISHED[run.run_id] = dict(entry)
    return entry


def invocation_status(
    instance: dg.DagsterInstance, invocation: str, plans: list[SymbolPlan]
) -> dict[str, dict[str, Any]]:
    """Per symbol status of one invocation: skipped ones from the plan, others from runs."""
    records = instance.get_run_records(dg.RunsFilter(tags={INVOCATION_TAG: invocation}))
    latest: dict[str, dg.RunRecord] = {}
    for record in sorted(records, key=lambda r: r.create_timestamp):
        latest[record.dagster_run.tags.get("dagster/partition/symbol", "")] = record
    status: dict[str, dict[str, Any]] = {}
    for plan in plans:
        if plan.skipped:
            status[plan.symbol] = {"status": "skipped", "skip_reason": plan.skip_reason}
        else:
            entry = symbol_entry(instance, latest.get(plan.symbol))
            status[plan.symbol] = {
                **entry,
                "assets": list(plan.assets),
                "reused": list(plan.reused),
            }
    return status


def write_status(path: Path, header: dict[str, Any], symbols: dict[str, dict[str, Any]]) -> None:
    """Write status.json atomically, merging with symbols of earlier invocations of the day."""
    previous: dict[str, Any] = {}
    if path.exists():
        try:
            previous = json.loads(path.read_text()).get("symbols", {})
        except (ValueError, OSError):
            previous = {}
    document = {
        **header,
        "updated_at": datetime.now(UTC).isoformat(),
        "symbols": {**previous, **symbols},
    }
    atomic_write_bytes(path, json_bytes(document))
