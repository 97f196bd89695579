"""Retrying the uploads a run left pending: the pending-uploads sensor and a CLI rerun share it.

A pending file is re-hashed against its recorded sha256 and uploaded to the store its entry
names; each verification is recorded as an `AssetObservation` of the materialization's
partition (`record_verified`), so the latest materialization never changes. Once an upload to
a store fails in a pass, that store's other files wait for the next pass: a store that is down
costs one failed upload (with its retries) per pass, not one per file.
"""

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from resources.storage import StorageResource
from resources.uploads import (
    PENDING_KEY,
    SCAN_LIMIT,
    Entry,
    _report_upload,
    record_verified,
    recorded_entries,
    upload_entry,
    verified_later,
)
from retrain_assets.adapters.hashing import sha256_file
from retrain_assets.core.redaction import redact, secrets_from_env
from retrain_assets.vocabulary.figures import whole

# A materialization's storage id (as text) -> [asset, partition], the sensor cursor's form.
Pending = dict[str, list[str]]


@dataclass
class RetryPass:
    """What one pass over pending materializations did.

    Attributes:
        uploaded: Files uploaded and verified in this pass, per backend (`s3`, `dropbox`).
        left: Files still pending after it.
        still: The materializations still pending, in the sensor cursor's form.
        unavailable: Backends an upload failed on in this pass (their other files waited).
    """

    uploaded: Counter[str] = field(default_factory=Counter)
    left: int = 0
    still: Pending = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        """The pass as JSON: `{"uploaded": {backend: files}, "still_pending": files}`."""
        return {"uploaded": dict(sorted(self.uploaded.items())), "still_pending": self.left}

    def line(self) -> str:
        """One line for a console: `uploaded 33 pending files (s3)`, and what is left."""
        stores = ", ".join(sorted({*self.uploaded, *self.unavailable})) or "no store"
        text = f"uploaded {sum(self.uploaded.values())} pending files ({stores})"
        if self.left:
            text += f"; {self.left} still pending, retried by the next run or the sensor"
        return text


def retry_pending(
    context: Any,
    instance: dg.DagsterInstance,
    storage: StorageResource,
    root: Path,
    ref: tuple[int, str, str],
    done: RetryPass,
) -> int:
    """Retry one materialization's pending uploads into `done`; return how many are left."""
    storage_id, asset, partition = ref
    key = dg.AssetKey(asset)
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=[storage_id]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return 0  # wiped from the instance: nothing left to track
    entries = recorded_entries(records[0].asset_materialization.metadata)
    earlier = verified_later(instance, key, partition, storage_id)
    todo = {n: e for n, e in entries.items() if e.get("pending_upload") and n not in earlier}
    verified: dict[str, Entry] = {}
    for name, entry in todo.items():
        if entry["backend"] in done.unavailable or not _local_copy_intact(context, name, entry):
            continue
        backend = storage.backend(entry["backend"], root)
        result = upload_entry(context, backend, name, entry, entry["remote_path"])
        if result["verified"]:
            verified[name] = result
            done.uploaded[entry["backend"]] += 1
        else:
            done.unavailable.add(entry["backend"])
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


def retry_all(
    context: Any,
    instance: dg.DagsterInstance,
    storage: StorageResource,
    root: Path,
    pending: Pending,
) -> RetryPass:
    """Retry every pending materialization; `still` names those left pending."""
    done = RetryPass()
    for sid, (asset, partition) in pending.items():
        ref = (int(sid), asset, partition)
        try:
            left = retry_pending(context, instance, storage, root, ref, done)
        except Exception as exc:  # a store still unusable: keep the entry for the next pass
            error = redact(f"{type(exc).__name__}: {exc}", secrets_from_env(os.environ))
            _report_upload(context, "upload_failed", asset=asset, partition=partition, error=error)
            left = 1
        if left:
            done.still[sid] = [asset, partition]
            done.left += left
    return done


def pending_of_partitions(
    instance: dg.DagsterInstance, assets: tuple[str, ...], partitions: list[str]
) -> Pending:
    """Materializations of `partitions` (any of them, not only the latest) with pending uploads.

    One query per asset for all partitions, paged: what a CLI rerun of a date checks.
    """
    found: Pending = {}
    for asset in assets:
        cursor = None
        while True:
            result = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=partitions),
                limit=SCAN_LIMIT,
                cursor=cursor,
            )
            for record in result.records:
                mat = record.asset_materialization
                if mat is not None and (whole(mat.metadata.get(PENDING_KEY)) or 0) > 0:
                    found[str(record.storage_id)] = [asset, str(mat.partition)]
            if not result.has_more:
                break
            cursor = result.cursor
    return found


def complete_pending_uploads(
    instance: dg.DagsterInstance, root: Path, assets: tuple[str, ...], partitions: list[str]
) -> RetryPass | None:
    """Upload what `partitions` left pending, as the sensor would; None when nothing was.

    Upload events go to the `retrain_assets.storage` logger (there is no run to log to).
    """
    pending = pending_of_partitions(instance, assets, partitions)
    if not pending:
        return None
    done = retry_all(None, instance, StorageResource(), root, pending)
    return done if done.uploaded or done.left else None
