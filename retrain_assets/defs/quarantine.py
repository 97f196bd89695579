"""Which earlier run folders of a symbol-day to move aside, read from the instance.

Called by the champion step, the last of a symbol-day's run, once the run's other assets are
recorded and the pointer is replayed. An earlier run of the same symbol-day (any job: the CLI,
a UI backfill, the schedule) leaves its folder to quarantine when the run did not succeed
(failed, canceled, killed and failed by the next CLI or the dead-runs sensor) or when a file it
recorded is missing or no longer matches its sha256 (the damage a repair rebuilt). Its files the
ledger still points to stay: those of its materializations that are still the latest of their
asset (reused by a repair or a resume), the live champion's, and uploads still pending. Intact
folders of successful runs (an earlier `--force`) are retention's to delete, not this.
"""

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg

from resources.uploads import PENDING_KEY, recorded_entries, verified_later
from retrain_assets.adapters.hashing import sha256_file
from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.adapters.quarantine import Quarantined, move_aside
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.lifecycle.artifacts import MODELS_DIR, ArtifactLayout
from retrain_assets.defs.records import run_events
from retrain_assets.vocabulary.figures import whole
from retrain_assets.vocabulary.tags import DATE_TAG, SYMBOL_TAG

_NOT_SUCCEEDED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def tidy_symbol_day(
    instance: dg.DagsterInstance,
    layout: ArtifactLayout,
    partition: tuple[str, str],
    run_id: str,
    now: datetime,
) -> list[Quarantined]:
    """Move aside what earlier runs of `partition` (date, symbol) left; return each move."""
    date, symbol = partition
    live = _champion_files(layout.root, symbol)
    if live is None:
        return []  # an unreadable pointer: leave everything, retention reports it
    runs = [
        r.dagster_run
        for r in instance.get_run_records(dg.RunsFilter(tags={DATE_TAG: date, SYMBOL_TAG: symbol}))
    ]
    folders = _run_folders(layout.root / MODELS_DIR / symbol)
    moved = []
    for run in runs:
        folder = folders.get(run.run_id[:8])
        if run.run_id == run_id or folder is None:
            continue
        records = _materializations(instance, run.run_id)
        why = _why_aside(run, folder, records)
        if why is None:
            continue
        keep = _still_recorded(instance, folder, records) | {p.name for p in live & _in(folder)}
        record = move_aside(layout, folder, keep, why, run_id, now)
        if record is not None:
            moved.append(record)
    return moved


def _run_folders(symbol_dir: Path) -> dict[str, Path]:
    """Run folders of a symbol by the run id's first 8 characters (their names' suffix)."""
    if not symbol_dir.is_dir():
        return {}
    return {p.name[-8:]: p.resolve() for p in symbol_dir.iterdir() if p.is_dir()}


def _materializations(instance: dg.DagsterInstance, run_id: str) -> list[dg.EventLogRecord]:
    return list(run_events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION))


def _why_aside(
    run: dg.DagsterRun, folder: Path, records: Iterable[dg.EventLogRecord]
) -> str | None:
    """Why the run's folder goes aside (None: it stays): the run failed, or a file is damaged."""
    if run.status in _NOT_SUCCEEDED:
        return f"run {run.run_id[:8]} ended {run.status.value}"
    if run.status != dg.DagsterRunStatus.SUCCESS:
        return None  # still running somewhere: never touched
    problems = sorted(
        f"{name} {problem}"
        for record in records
        for name, entry in _entries(record).items()
        if _parent(entry) == folder and (problem := _damage(entry)) is not None
    )
    if not problems:
        return None
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


def _damage(entry: dict[str, Any]) -> str | None:
    path = Path(entry["path"])
    if not path.exists():
        return "is missing"
    if sha256_file(path) != entry["sha256"]:
        return "does not match its recorded sha256"
    return None


def _still_recorded(
    instance: dg.DagsterInstance, folder: Path, records: Iterable[dg.EventLogRecord]
) -> set[str]:
    """Files of `folder` the ledger still points to: the latest record's, or pending upload."""
    keep: set[str] = set()
    for record in records:
        mat = record.asset_materialization
        if mat is None:
            continue
        entries = {n: e for n, e in _entries(record).items() if _parent(e) == folder}
        if _is_latest(instance, mat, record.storage_id):
            keep |= set(entries)
        elif (whole(mat.metadata.get(PENDING_KEY)) or 0) > 0:
            done = verified_later(instance, mat.asset_key, str(mat.partition), record.storage_id)
            keep |= {
                n
                for n, e in entries.items()
                if e.get("pending_upload") and n not in done and _damage(e) is None
            }
    return keep


def _entries(record: dg.EventLogRecord) -> dict[str, dict[str, Any]]:
    mat = record.asset_materialization
    return recorded_entries(mat.metadata) if mat is not None else {}


def _parent(entry: dict[str, Any]) -> Path:
    """The folder of a recorded file, resolved (a root may be recorded relative or not)."""
    return Path(entry["path"]).resolve().parent


def _is_latest(instance: dg.DagsterInstance, mat: dg.AssetMaterialization, storage_id: int) -> bool:
    newest = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=mat.asset_key, asset_partitions=[str(mat.partition)]),
        limit=1,
    ).records
    return bool(newest) and newest[0].storage_id == storage_id


def _champion_files(root: Path, symbol: str) -> set[Path] | None:
    """The live champion's files (absolute); None when the pointer cannot be read."""
    path = ProductionStore(root).pointer_path(symbol)
    if not path.exists():
        return set()
    try:
        champion = json.loads(path.read_bytes()).get("champion")
        files = champion["files"].values() if champion is not None else []
        return {(root / e["path"]).resolve() for e in files}
    except (OSError, ValueError, KeyError, TypeError, PermanentError):
        return None


def _in(folder: Path) -> set[Path]:
    return {p.resolve() for p in folder.iterdir()} if folder.is_dir() else set()
