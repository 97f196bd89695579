"""IO manager for run artifacts: atomic local files with sha256, size and path as metadata.

Each asset output is an `ArtifactFiles` bundle written into the run's own folder
`models/{SYMBOL}/{YYYYMMDD_HHMMSSZ}_{run8}/`. Inputs are read back from the paths recorded on
the latest materialization of the upstream partition and checked against their sha256, so
partial outputs of an interrupted run are reused but never silently trusted; reused files are
copied into the current run folder so every folder is complete.
"""

from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from resources.settings import artifact_root
from retrain_assets.core.artifacts import CHECKSUM_FILE, ArtifactFiles, ArtifactLayout
from retrain_assets.core.atomic import atomic_write_bytes
from retrain_assets.core.errors import IntegrityError, PermanentError
from retrain_assets.core.hashing import sha256_bytes, write_sha256sums
from retrain_assets.defs.partitions import is_dry_run, split_partition_key

SEAL_METADATA_KEY = "seals_run_folder"
_RECORDS_SCANNED = 50


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

    def layout(self) -> ArtifactLayout:
        """The artifact layout under the configured root."""
        return self.artifacts.layout()

    def handle_output(self, context: dg.OutputContext, obj: ArtifactFiles) -> None:
        """Write `obj`'s files into the run folder and record their checksums."""
        step = context.step_context
        _, symbol = split_partition_key(context.asset_partition_key)
        folder = self._run_folder(step, symbol)
        entries = {name: self._write(folder / name, data) for name, data in obj.files.items()}
        if context.definition_metadata.get(SEAL_METADATA_KEY):
            names = sorted(p.name for p in folder.iterdir() if _is_artifact(p))
            write_sha256sums(folder, names)
        context.add_output_metadata(_metadata(entries, folder, is_dry_run(step.dagster_run.tags)))

    def load_input(self, context: dg.InputContext) -> ArtifactFiles:
        """Read the upstream partition's latest files, verify them, copy them into this run."""
        step = context.step_context
        key = context.asset_key
        pkey = context.asset_partition_key
        dry = is_dry_run(step.dagster_run.tags)
        entries = latest_files(context.instance, key, pkey, dry)
        if entries is None:
            kind = "dry-run" if dry else "real"
            raise PermanentError(f"{key.to_user_string()} [{pkey}]: no {kind} materialization")
        folder = self._run_folder(step, split_partition_key(pkey)[1])
        files = {name: _read_verified(name, entry) for name, entry in entries.items()}
        for name, data in files.items():
            if Path(entries[name]["path"]).parent != folder:
                self._write(folder / name, data)
        return ArtifactFiles(files)

    def _run_folder(self, step: Any, symbol: str) -> Path:
        created = _run_created(step.instance, step.run_id)
        return self.layout().run_folder(symbol, created, step.run_id)

    @staticmethod
    def _write(path: Path, data: bytes) -> dict[str, Any]:
        atomic_write_bytes(path, data)
        return {"path": str(path), "sha256": sha256_bytes(data), "size": len(data)}


def latest_files(
    instance: dg.DagsterInstance, key: dg.AssetKey, pkey: str, dry_run: bool
) -> dict[str, dict[str, Any]] | None:
    """The `files` metadata of the latest materialization of one partition of the same kind.

    A dry run only reuses dry-run outputs and a real run only real ones, so a dry run never
    counts as done for a real run.
    """
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(pkey)]),
        limit=_RECORDS_SCANNED,
        ascending=False,
    )
    for record in result.records:
        mat = record.asset_materialization
        if mat is None:
            continue
        metadata = mat.metadata
        if bool(_value(metadata.get("dry_run"))) != dry_run or "files" not in metadata:
            continue
        return _value(metadata["files"])
    return None


def _value(entry: Any) -> Any:
    return entry.value if isinstance(entry, dg.MetadataValue) else entry


def _read_verified(name: str, entry: dict[str, Any]) -> bytes:
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


def _metadata(entries: dict[str, dict[str, Any]], folder: Path, dry_run: bool) -> dict:
    metadata: dict[str, Any] = {
        "files": dg.MetadataValue.json(entries),
        "run_folder": dg.MetadataValue.path(str(folder)),
        "dry_run": dg.MetadataValue.bool(dry_run),
        "size_bytes": dg.MetadataValue.int(sum(e["size"] for e in entries.values())),
    }
    for name, entry in entries.items():
        metadata[f"sha256 {name}"] = dg.MetadataValue.text(entry["sha256"])
    return metadata
