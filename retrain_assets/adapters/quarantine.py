"""Moving a run folder's files aside: damaged, or left by a run that did not succeed.

A symbol-day repaired after damage, or retrained after a failed, canceled or killed run, leaves
the earlier run's folder behind: a `sha256.txt` that no longer checks out, or partial outputs no
record points to. Those files move to `quarantine/models/{SYMBOL}/{run folder}/` (same names),
with a note `quarantined_by_{run8}.json` saying why, when, by which run, what moved and what
stayed. Files the ledger still points to (the latest materialization of an asset reused by the
repair, the live champion, an upload still pending) stay where they are. Nothing is deleted:
quarantine/ is for a person to inspect, and retention never reads it.
"""

import errno
import shutil
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.lifecycle.artifacts import MODELS_DIR, ArtifactLayout, json_bytes

NOTE_PREFIX = "quarantined_by_"


@dataclass(frozen=True)
class Quarantined:
    """One move: `folder` and `moved_to` relative to the artifact root, the names moved and kept."""

    folder: str
    moved_to: str
    why: str
    by_run: str
    moved_at: str
    files: tuple[str, ...]
    kept: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The note's content (and the materialization metadata's entry)."""
        return {**asdict(self), "files": list(self.files), "kept": list(self.kept)}


def move_aside(
    layout: ArtifactLayout,
    folder: Path,
    keep: AbstractSet[str],
    why: str,
    by_run: str,
    moved_at: datetime,
) -> Quarantined | None:
    """Move every file of the run folder `folder` but those named in `keep` to quarantine/.

    The note is written first, so a move cut short is still explained; an emptied folder is
    removed. None when there is nothing to move.

    Raises:
        PermanentError: `folder` is not a run folder under the root's models/.
    """
    root = layout.root.resolve()
    folder = folder.resolve()
    if folder.parent.parent != root / MODELS_DIR:
        raise PermanentError(f"refusing to move {folder} aside: not a run folder of {root}")
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    moving = tuple(n for n in names if n not in keep)
    if not moving:
        return None
    dest = ArtifactLayout(root).quarantine_of(folder)
    record = Quarantined(
        folder=folder.relative_to(root).as_posix(),
        moved_to=dest.relative_to(root).as_posix(),
        why=why,
        by_run=by_run,
        moved_at=moved_at.isoformat(),
        files=moving,
        kept=tuple(n for n in names if n in keep),
    )
    atomic_write_bytes(dest / f"{NOTE_PREFIX}{by_run[:8]}.json", json_bytes(record.to_json()))
    for name in moving:
        _move(folder / name, dest / name)
    if not any(folder.iterdir()):
        folder.rmdir()
    return record


def _move(source: Path, dest: Path) -> None:
    """A rename within the artifact root's file system (a copy and delete across two)."""
    try:
        source.replace(dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(source, dest)
