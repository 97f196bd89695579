"""Crash-safe local writes: a temp file in the same folder, fsync, rename, fsync the folder."""

import os
import time
import uuid
from pathlib import Path

TEMP_MARKER = ".tmp-"


def temp_path_for(path: Path) -> Path:
    """Return a unique temp path next to `path`, named `.<name>.tmp-<uuid>`."""
    return path.with_name(f".{path.name}{TEMP_MARKER}{uuid.uuid4().hex}")


def fsync_path(path: Path) -> None:
    """Flush a file's bytes, or a folder's entries, to disk.

    A folder's, so that a rename inside it survives a crash; a file's, for a download
    written by a library that does not flush it (`storage.base.commit_verified`).
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_temp(temp: Path, path: Path) -> None:
    """Rename a fully written and fsynced temp file over `path`, then fsync the folder."""
    temp.replace(path)
    fsync_path(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part.

    Args:
        path: The destination; its parent folders are created.
        data: The full content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(path)
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        commit_temp(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def is_temp_name(name: str) -> bool:
    """Tell whether a file name is one of our temp files."""
    return name.startswith(".") and TEMP_MARKER in name


def sweep_stale_temp_files(
    root: Path, older_than_s: float, *, now: float | None = None, dry_run: bool = False
) -> list[Path]:
    """Delete the temp files under `root` that killed writers left; return them, sorted.

    Args:
        root: The folder to scan recursively; a missing folder has nothing to sweep.
        older_than_s: Only files last modified longer ago than this go, so that a live
            writer's temp file survives.
        now: The current epoch time; defaults to `time.time()`.
        dry_run: Find them only; delete nothing.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - older_than_s
    swept: list[Path] = []
    for path in root.rglob(f".*{TEMP_MARKER}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                if not dry_run:
                    path.unlink()
                swept.append(path)
        except FileNotFoundError:
            continue  # another sweeper or the writer itself got there first
    return sorted(swept)
