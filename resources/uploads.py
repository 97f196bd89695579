"""Uploading artifact files and recording which uploads were verified.

A file's metadata entry (`path`, `sha256`, `size`) gains `backend`, `remote_path`, `uri` and
either `verified: true` or `pending_upload: true`. A pending entry keeps its local file; the
pending-uploads sensor uploads it later and records the verification as an `AssetObservation`
on the same partition (`verified_upload_of` = the materialization's storage id), so the
latest materialization, and with it resume and `latest_record()`, never changes.
"""

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from retrain_assets.adapters.hashing import sha256_file
from retrain_assets.adapters.storage import StorageBackend
from retrain_assets.core.lifecycle.artifacts import CHECKSUM_FILE
from retrain_assets.core.redaction import redact, secrets_from_env
from retrain_assets.vocabulary.figures import whole

FILES_KEY = "files"
EXTRA_FILES_KEY = "extra_files"
PENDING_KEY = "pending_uploads"
VERIFIED_OF_KEY = "verified_upload_of"
VERIFIED_FILES_KEY = "verified_files"
_OBSERVATIONS_SCANNED = 100
SCAN_LIMIT = 200

Entry = dict[str, Any]


def _report_upload(context: Any, event: str, **fields: Any) -> None:
    """Log one upload event (`upload_succeeded`, `upload_failed`) with its fields.

    The single place upload events are reported; `context` is any Dagster context with `.log`.
    """
    line = f"{event} " + json.dumps(fields, sort_keys=True, default=str)
    log = getattr(context, "log", None) or logging.getLogger("retrain_assets.storage")
    if event == "upload_failed":
        log.warning(line)
    else:
        log.info(line)


def upload_entry(
    context: Any, backend: StorageBackend, name: str, entry: Entry, remote_path: str
) -> Entry:
    """Upload one file and return its entry marked verified, or pending when the upload failed.

    Never raises for a failed upload: the local file stays, and the entry says so.
    """
    base = {**entry, "backend": backend.name, "remote_path": remote_path}
    try:
        base["uri"] = backend.uri(remote_path)
        stored = backend.put(Path(entry["path"]), remote_path)
    except Exception as exc:  # any failure leaves the artifact pending, never lost
        error = redact(f"{type(exc).__name__}: {exc}", secrets_from_env(os.environ))[:500]
        fields = {"file": name, "backend": backend.name, "uri": base.get("uri")}
        _report_upload(context, "upload_failed", **fields, error=error)
        return {**base, "verified": False, "pending_upload": True}
    verified = stored.verified and stored.sha256 == entry["sha256"]
    fields = {"file": name, "backend": backend.name, "uri": stored.uri, "size": stored.size}
    if not verified:
        _report_upload(context, "upload_failed", **fields, error="checksum not confirmed")
        return {**base, "uri": stored.uri, "verified": False, "pending_upload": True}
    _report_upload(context, "upload_succeeded", **fields, sha256=stored.sha256)
    return {**base, "uri": stored.uri, "verified": True, "pending_upload": False}


def upload_summary(entries: Mapping[str, Entry], backend: str) -> dict[str, Any]:
    """Top-level metadata: backend, remote folder, how many files are verified or pending."""
    pending = sum(1 for e in entries.values() if e.get("pending_upload"))
    verified = sum(1 for e in entries.values() if e.get("verified"))
    summary: dict[str, Any] = {
        "backend": dg.MetadataValue.text(backend),
        "verified": dg.MetadataValue.bool(bool(entries) and pending == 0),
        "verified_files": dg.MetadataValue.int(verified),
        PENDING_KEY: dg.MetadataValue.int(pending),
    }
    uris = [e["uri"] for e in entries.values() if e.get("uri")]
    if uris:
        summary["remote_folder"] = dg.MetadataValue.text(uris[0].rsplit("/", 1)[0])
    return summary


def metadata_value(entry: Any) -> Any:
    """The raw value of a metadata entry."""
    return entry.value if isinstance(entry, dg.MetadataValue) else entry


def recorded_entries(metadata: Mapping[str, Any]) -> dict[str, Entry]:
    """Every file entry of a materialization: its outputs and the extra files it placed."""
    found: dict[str, Entry] = {}
    for key in (FILES_KEY, EXTRA_FILES_KEY):
        found.update(metadata_value(metadata.get(key)) or {})
    return found


def verified_later(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str, storage_id: int
) -> dict[str, Entry]:
    """Entries of one materialization that the pending-uploads sensor verified afterwards."""
    records = instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]),
        limit=_OBSERVATIONS_SCANNED,
    ).records
    found: dict[str, Entry] = {}
    for record in reversed(records):  # oldest first, so a later verification wins
        observation = record.asset_observation
        if observation is None:
            continue
        metadata = observation.metadata
        if whole(metadata.get(VERIFIED_OF_KEY)) == storage_id:
            found.update(metadata_value(metadata.get(VERIFIED_FILES_KEY)) or {})
    return found


def record_verified(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    partition: str,
    storage_id: int,
    entries: Mapping[str, Entry],
) -> None:
    """Record late-verified uploads as an observation of the materialization's partition."""
    instance.report_runless_asset_event(
        dg.AssetObservation(
            asset_key=key,
            partition=partition,
            metadata={
                VERIFIED_OF_KEY: dg.MetadataValue.text(str(storage_id)),  # never plotted
                VERIFIED_FILES_KEY: dg.MetadataValue.json(dict(entries)),
                "uris": dg.MetadataValue.json(sorted(e["uri"] for e in entries.values())),
            },
        )
    )


def remote_copies(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    pkey: str,
    storage_id: int,
    entries: dict[str, Entry],
) -> dict[str, Entry]:
    """Verified remote copies of a materialization's files, at upload time or later."""
    found = {name: e for name, e in entries.items() if e.get("verified") and e.get("uri")}
    if len(found) < len(entries):
        found = {**verified_later(instance, key, pkey, storage_id), **found}
    return found


def unrecorded_files(
    instance: dg.DagsterInstance,
    run_id: str,
    folder: Path,
    names: list[str],
    entries: dict[str, Entry],
) -> dict[str, Entry]:
    """Files of the run folder no materialization of this run uploaded yet, sha256.txt last.

    Inputs reused from an earlier run are copied into this run's folder; uploading them here
    makes the remote folder as complete as the local one. What the run uploaded is read with
    `get_records_for_run`, not in Dagster's public API: none reads a run's own events
    (`defs.records.run_events` says more; resources sit below defs, so this reads directly).
    """
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    done: set[str] = set(entries)
    for record in records:
        mat = record.event_log_entry.asset_materialization
        if mat is not None:
            recorded = recorded_entries(mat.metadata).items()
            done |= {n for n, e in recorded if Path(e["path"]).parent == folder}
    missing = [n for n in names if n not in done] + [CHECKSUM_FILE]
    return {n: _describe(folder / n) for n in missing}


def _describe(path: Path) -> Entry:
    return {"path": str(path), "sha256": sha256_file(path), "size": path.stat().st_size}


class UnavailableBackend:
    """Stands in for a backend that could not be built, so every upload is left pending."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self._error = error

    def uri(self, remote_path: str) -> str:
        """The URI the object would have."""
        return f"{self.name}:///{remote_path}"

    def put(self, local_path: Path, remote_path: str) -> Any:
        """Raise the error that prevented building the backend."""
        raise self._error


@dataclass
class PendingCursor:
    """Where each asset's scan stopped, and the materializations still pending.

    `pending` maps a materialization's storage id to `[asset, partition]`.
    """

    after: dict[str, int] = field(default_factory=dict)
    pending: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: str | None) -> "PendingCursor":
        """Parse a cursor; an empty one starts the scan from the beginning."""
        data = json.loads(raw) if raw else {}
        return cls(after=data.get("after", {}), pending=data.get("pending", {}))

    def dump(self) -> str:
        """Serialize the cursor."""
        return json.dumps({"after": self.after, "pending": self.pending}, sort_keys=True)


def scan_new_materializations(
    instance: dg.DagsterInstance, cursor: PendingCursor, assets: tuple[str, ...]
) -> None:
    """Add materializations with pending uploads recorded since the last scan to `cursor`."""
    for asset in assets:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(asset), after_storage_id=cursor.after.get(asset)
            ),
            limit=SCAN_LIMIT,
            ascending=True,
        ).records
        for record in records:
            cursor.after[asset] = record.storage_id
            mat = record.asset_materialization
            if mat is not None and (whole(mat.metadata.get(PENDING_KEY)) or 0) > 0:
                cursor.pending[str(record.storage_id)] = [asset, str(mat.partition)]
