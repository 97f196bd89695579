"""Retries artifact uploads that failed during a run, until each one is verified.

The sensor scans new materializations of the artifact assets for `pending_uploads > 0`, keeps
them in its cursor, and on every tick re-uploads each pending file from its local copy (after
re-hashing it against the recorded sha256). A verification is recorded as an `AssetObservation`
of the same partition, which neither changes the latest materialization (so `latest_files()`,
resume and the schedule see the run exactly as it ended) nor needs a run.
"""

import os
from pathlib import Path
from typing import Any

import dagster as dg

from resources.artifact_io import ArtifactRootResource
from resources.storage import StorageResource
from resources.uploads import (
    Entry,
    PendingCursor,
    _report_upload,
    record_verified,
    recorded_entries,
    scan_new_materializations,
    upload_entry,
    verified_later,
)
from retrain_assets.core.hashing import sha256_file
from retrain_assets.core.redaction import redact, secrets_from_env
from retrain_assets.defs.assets import symbol_day_assets

# Every per-symbol-day asset records its files (the IO manager's, the champion's decision).
ARTIFACT_ASSETS = tuple(a.key.path[-1] for a in symbol_day_assets)


def retry_pending(
    context: Any,
    instance: dg.DagsterInstance,
    storage: StorageResource,
    artifact_root: Path,
    ref: tuple[int, str, str],
) -> int:
    """Retry one materialization's pending uploads; return how many are still pending."""
    storage_id, asset, partition = ref
    key = dg.AssetKey(asset)
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=[storage_id]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return 0  # wiped from the instance: nothing left to track
    entries = recorded_entries(records[0].asset_materialization.metadata)
    done = verified_later(instance, key, partition, storage_id)
    todo = {n: e for n, e in entries.items() if e.get("pending_upload") and n not in done}
    verified: dict[str, Entry] = {}
    for name, entry in todo.items():
        if _local_copy_intact(context, name, entry):
            backend = storage.backend(entry["backend"], artifact_root)
            result = upload_entry(context, backend, name, entry, entry["remote_path"])
            if result["verified"]:
                verified[name] = result
    if verified:
        record_verified(instance, key, partition, storage_id, verified)
    return len(todo) - len(verified)


def _local_copy_intact(context: Any, name: str, entry: Entry) -> bool:
    """Whether the local file still holds the recorded bytes (never upload anything else)."""
    path = Path(entry["path"])
    fields = {"file": name, "backend": entry.get("backend"), "uri": entry.get("uri")}
    if not path.exists():
        _report_upload(context, "upload_failed", **fields, error=f"local copy gone: {path}")
        return False
    if sha256_file(path) != entry["sha256"]:
        _report_upload(context, "upload_failed", **fields, error=f"local copy changed: {path}")
        return False
    return True


def build_pending_uploads_sensor(
    assets: tuple[str, ...] = ARTIFACT_ASSETS, name: str = "pending_uploads_sensor"
) -> dg.SensorDefinition:
    """A sensor retrying the pending uploads of `assets` (those written by the IO manager)."""

    @dg.sensor(
        name=name,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Retries artifact uploads left pending by a run until each is verified.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext,
        storage: StorageResource,
        artifacts: ArtifactRootResource,
    ) -> dg.SkipReason:
        cursor = PendingCursor.load(context.cursor)
        scan_new_materializations(context.instance, cursor, assets)
        still = retry_all(context, storage, artifacts.layout().root, cursor.pending)
        verified = len(cursor.pending) - len(still)
        cursor.pending = still
        context.update_cursor(cursor.dump())
        return dg.SkipReason(
            f"{verified} materialization(s) fully verified, {len(still)} still pending"
        )

    return _sensor


def retry_all(
    context: dg.SensorEvaluationContext,
    storage: StorageResource,
    root: Path,
    pending: dict[str, list[str]],
) -> dict[str, list[str]]:
    """Retry every pending materialization; return those still pending."""
    still: dict[str, list[str]] = {}
    for sid, (asset, partition) in pending.items():
        ref = (int(sid), asset, partition)
        try:
            left = retry_pending(context, context.instance, storage, root, ref)
        except Exception as exc:  # a store still unusable: keep the entry for the next tick
            error = redact(f"{type(exc).__name__}: {exc}", secrets_from_env(os.environ))
            context.log.warning(f"pending uploads of {asset} [{partition}]: {error[:300]}")
            left = 1
        if left:
            still[sid] = [asset, partition]
    return still


pending_uploads_sensor = build_pending_uploads_sensor()
