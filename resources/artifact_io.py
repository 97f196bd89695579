"""IO manager for run artifacts: atomic local files with sha256, size and path as metadata.

Each asset output is an `ArtifactFiles` bundle written into the run's own folder
`models/{SYMBOL}/{YYYYMMDD_HHMMSSZ}_{run8}/`. Inputs are read back from the paths recorded on
the latest materialization of the upstream partition and checked against their sha256, so
partial outputs of an interrupted run are reused but never silently trusted; reused files are
copied into the current run folder so every folder is complete.

Every file is uploaded as soon as it is written, through the run's storage driver (the
`retrain/driver` tag, else `StorageResource`), with backend, uri and `verified` recorded per
file; a failed upload leaves the file `pending_upload` for the pending-uploads sensor and never
fails the run. A dry run (its `retrain/dry_run` tag) stores its files locally only, whatever
its driver. An input whose local file is gone is downloaded from its verified remote copy.
"""

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from resources.output_events import log_output_events
from resources.settings import artifact_root
from resources.storage import StorageResource
from resources.uploads import (
    EXTRA_FILES_KEY,
    Entry,
    UnavailableBackend,
    metadata_value,
    remote_copies,
    unrecorded_files,
    upload_entry,
    upload_summary,
)
from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.adapters.hashing import sha256_bytes, write_sha256sums
from retrain_assets.adapters.storage import StorageBackend
from retrain_assets.core.errors import IntegrityError, PermanentError
from retrain_assets.core.lifecycle.artifacts import CHECKSUM_FILE, ArtifactFiles, ArtifactLayout
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import split_partition_key
from retrain_assets.vocabulary.tags import is_dry_run

SEAL_METADATA_KEY = "seals_run_folder"


class ArtifactRootResource(dg.ConfigurableResource):
    """The artifact root: models/, runs/, logs/, summary/ and training checkpoints."""

    root: str | None = Field(
        default=None,
        description="Artifact root folder; unset: $RETRAIN_ARTIFACT_ROOT, else ./artifacts.",
    )

    def layout(self) -> ArtifactLayout:
        """The artifact layout under the configured root."""
        return ArtifactLayout(artifact_root(self.root))


class ArtifactIOManager(dg.ConfigurableIOManager):
    """Writes each output's files atomically and verifies every input by sha256."""

    artifacts: dg.ResourceDependency[ArtifactRootResource]
    storage: dg.ResourceDependency[StorageResource] = Field(default_factory=StorageResource)

    def layout(self) -> ArtifactLayout:
        """The artifact layout under the configured root."""
        return self.artifacts.layout()

    def handle_output(self, context: dg.OutputContext, obj: ArtifactFiles) -> None:
        """Write `obj`'s files into the run folder, upload them and record their checksums."""
        step = context.step_context
        tags = step.dagster_run.tags
        _, symbol = split_partition_key(context.asset_partition_key)
        folder = self._run_folder(step, symbol)
        entries = {name: self._write(folder / name, data) for name, data in obj.files.items()}
        _remember(step.run_id, context.asset_key, str(context.asset_partition_key), obj)
        extra: dict[str, Entry] = {}
        if context.definition_metadata.get(SEAL_METADATA_KEY):
            names = sorted(p.name for p in folder.iterdir() if _is_artifact(p))
            write_sha256sums(folder, names)
            extra = unrecorded_files(step.instance, step.run_id, folder, names, entries)
        sealed = bool(context.definition_metadata.get(SEAL_METADATA_KEY))
        if is_dry_run(tags):  # a smoke test stores locally only, whatever its driver
            metadata = _metadata(entries, folder, dry_run=True)
            metadata["backend"] = dg.MetadataValue.text("none (dry run)")
            context.add_output_metadata(unplotted(metadata))
            log_output_events(context, self.layout().root, entries, sealed=sealed, uploaded=False)
            return
        backend = self._backend(self.storage.driver_for(tags))
        entries = self._upload_all(context, backend, symbol, folder, entries)
        extra = self._upload_all(context, backend, symbol, folder, extra)  # sha256.txt last
        metadata = _metadata(entries, folder, dry_run=False)
        metadata.update(upload_summary({**entries, **extra}, backend.name))
        if extra:
            metadata[EXTRA_FILES_KEY] = dg.MetadataValue.json(extra)
        context.add_output_metadata(unplotted(metadata))  # symbol-day assets: no plotted figure
        log_output_events(
            context, self.layout().root, {**entries, **extra}, sealed=sealed, uploaded=True
        )

    def load_input(self, context: dg.InputContext) -> ArtifactFiles:
        """Read the upstream partition's latest files, verify them, copy them into this run.

        A file missing locally is downloaded from its verified remote copy (recorded on the
        materialization, or verified later by the pending-uploads sensor) and re-hashed.
        """
        step = context.step_context
        key = context.asset_key
        pkey = context.asset_partition_key
        produced = _SAME_RUN.get((step.run_id, key, str(pkey)))
        if produced is not None:  # written by an earlier step of this run, in this process
            return produced
        found = latest_record(context.instance, key, pkey)
        if found is None:
            raise PermanentError(f"{key.to_user_string()} [{pkey}]: no materialization")
        folder = self._run_folder(step, split_partition_key(pkey)[1])
        return self._read_all(context, key, str(pkey), found, folder, copy=True)

    def load_partition(
        self, context: dg.AssetExecutionContext, key: dg.AssetKey, pkey: str
    ) -> ArtifactFiles | None:
        """Another partition's latest files (None: never materialized), verified, not copied.

        For a step that reads a partition it does not declare as an input: the walk-forward
        ledger reads yesterday's live model this way (see that asset for why).
        """
        found = latest_record(context.instance, key, pkey)
        if found is None:
            return None
        with tempfile.TemporaryDirectory() as scratch:
            return self._read_all(context, key, pkey, found, Path(scratch), copy=False)

    def _read_all(
        self,
        context: dg.InputContext | dg.AssetExecutionContext,
        key: dg.AssetKey,
        pkey: str,
        found: tuple[int, dict[str, Entry]],
        folder: Path,
        *,
        copy: bool,
    ) -> ArtifactFiles:
        storage_id, entries = found
        remote: dict[str, Entry] | None = None
        files: dict[str, bytes] = {}
        for name, entry in entries.items():
            if Path(entry["path"]).exists():
                files[name] = read_verified(name, entry)
                if copy and Path(entry["path"]).parent != folder:
                    self._write(folder / name, files[name])
                continue
            if remote is None:
                remote = remote_copies(context.instance, key, pkey, storage_id, entries)
            files[name] = self._download(context, name, entry, remote.get(name), folder / name)
        return ArtifactFiles(files)

    def _backend(self, driver: str) -> StorageBackend:
        try:
            return self.storage.backend(driver, self.layout().root)
        except Exception as exc:  # uploads stay pending; the sensor retries with fixed settings
            return UnavailableBackend(str(driver), exc)

    def _upload_all(
        self,
        context: dg.OutputContext,
        backend: StorageBackend,
        symbol: str,
        folder: Path,
        entries: dict[str, Entry],
    ) -> dict[str, Entry]:
        return {
            name: upload_entry(
                context, backend, name, entry, self.storage.remote_path(symbol, folder.name, name)
            )
            for name, entry in entries.items()
        }

    def _download(
        self,
        context: dg.InputContext | dg.AssetExecutionContext,
        name: str,
        entry: Entry,
        remote: Entry | None,
        dest: Path,
    ) -> bytes:
        if remote is None:
            raise IntegrityError(
                f"{name}: recorded at {entry['path']} but the file is gone, "
                "and no verified remote copy is recorded"
            )
        uri = remote["uri"]
        backend = self.storage.backend(remote["backend"], self.layout().root)
        try:
            backend.get(remote["remote_path"], dest)
        except IntegrityError as exc:
            raise IntegrityError(f"{name}: {exc}") from None
        data = dest.read_bytes()
        actual = sha256_bytes(data)
        if actual != entry["sha256"]:
            dest.unlink(missing_ok=True)
            raise IntegrityError(
                f"{name}: sha256 mismatch for {uri}: recorded {entry['sha256'][:16]}…, "
                f"downloaded {actual[:16]}… — the remote copy is not the artifact written"
            )
        context.log.info(f"{name}: local copy gone, downloaded and verified from {uri}")
        return data

    def _run_folder(self, step: Any, symbol: str) -> Path:
        created = _run_created(step.instance, step.run_id)
        return self.layout().run_folder(symbol, created, step.run_id)

    @staticmethod
    def _write(path: Path, data: bytes) -> dict[str, Any]:
        atomic_write_bytes(path, data)
        return {"path": str(path), "sha256": sha256_bytes(data), "size": len(data)}


# Outputs of the run in progress: steps run in one process (in-process executor), so a later
# step reads what an earlier one wrote from memory instead of re-reading and re-hashing it.
_SAME_RUN: dict[tuple[str, dg.AssetKey, str], ArtifactFiles] = {}


def _remember(run_id: str, key: dg.AssetKey, pkey: str, files: ArtifactFiles) -> None:
    for stale in [k for k in _SAME_RUN if k[0] != run_id]:
        del _SAME_RUN[stale]
    _SAME_RUN[(run_id, key, pkey)] = files


def latest_metadata(
    instance: dg.DagsterInstance, key: dg.AssetKey, pkey: str
) -> tuple[int, dict[str, Any]] | None:
    """(storage id, metadata values) of the latest materialization of one partition."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(pkey)]),
        limit=1,
        ascending=False,
    )
    for record in result.records:
        mat = record.asset_materialization
        if mat is not None:
            return record.storage_id, {name: _value(entry) for name, entry in mat.metadata.items()}
    return None


def latest_record(
    instance: dg.DagsterInstance, key: dg.AssetKey, pkey: str
) -> tuple[int, dict[str, dict[str, Any]]] | None:
    """(storage id, `files` metadata) of the latest materialization of one partition.

    A dry run has an instance of its own, so a real run never reuses its outputs (nor counts
    it as done), and a dry run never a real one's.
    """
    found = latest_metadata(instance, key, pkey)
    if found is None or "files" not in found[1]:
        return None
    return found[0], found[1]["files"]


_value = metadata_value


def read_verified(name: str, entry: dict[str, Any]) -> bytes:
    """The bytes of a recorded file, checked against its recorded sha256.

    Raises:
        IntegrityError: the file is gone or changed after it was written.
    """
    path = Path(entry["path"])
    if not path.exists():
        raise IntegrityError(f"{name}: recorded at {path} but the file is gone")
    data = path.read_bytes()
    actual = sha256_bytes(data)
    if actual != entry["sha256"]:
        raise IntegrityError(
            f"{name}: sha256 mismatch at {path}: recorded {entry['sha256'][:16]}…, "
            f"found {actual[:16]}… — the file changed after it was written"
        )
    return data


_RUN_CREATED: dict[str, datetime] = {}


def _run_created(instance: dg.DagsterInstance, run_id: str) -> datetime:
    if run_id not in _RUN_CREATED:
        record = instance.get_run_record_by_id(run_id)
        if record is None:
            raise PermanentError(f"run {run_id} is not in the instance")
        _RUN_CREATED[run_id] = record.create_timestamp
    return _RUN_CREATED[run_id]


def _is_artifact(path: Path) -> bool:
    return path.is_file() and path.name != CHECKSUM_FILE and not path.name.startswith(".")


def _metadata(entries: dict[str, dict[str, Any]], folder: Path, *, dry_run: bool) -> dict:
    metadata: dict[str, Any] = {
        "files": dg.MetadataValue.json(entries),
        "run_folder": dg.MetadataValue.path(str(folder)),
        "dry_run": dg.MetadataValue.bool(dry_run),
        "size_bytes": dg.MetadataValue.int(sum(e["size"] for e in entries.values())),
    }
    for name, entry in entries.items():
        metadata[f"sha256 {name}"] = dg.MetadataValue.text(entry["sha256"])
    return metadata
