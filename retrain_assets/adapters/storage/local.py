"""A "remote" store that is another local folder, written atomically and verified."""

import os
import shutil
from functools import partial
from pathlib import Path

from retrain_assets.adapters.atomic import is_temp_name
from retrain_assets.adapters.hashing import sha256_file
from retrain_assets.adapters.storage.base import (
    Received,
    RemoteNotFoundError,
    RemoteObject,
    StorageConfigError,
    clean_remote_path,
    commit_verified,
)


def _copy_to_temp(src: Path, temp: Path) -> None:
    """Copy `src` into `temp` and fsync it; a local copy has no stored checksum to check."""
    with src.open("rb") as source, temp.open("wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
        target.flush()
        os.fsync(target.fileno())


def _copy_checked(src: Path, expected: str, temp: Path) -> Received:
    """Copy `src` into `temp`; return the copy's SHA-256 and the source's, read before."""
    _copy_to_temp(src, temp)
    return Received(sha256_file(temp), expected)


class LocalBackend:
    """Store artifacts under `root`; each put is a verified atomic copy.

    Args:
        root: The folder that plays the remote store.
    """

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, remote_path: str) -> Path:
        return self.root / clean_remote_path(remote_path)

    def uri(self, remote_path: str) -> str:
        """Return the object's `file://` URI."""
        return self._path(remote_path).as_uri()

    def put(self, local_path: Path, remote_path: str) -> RemoteObject:
        """Copy a file under the root, checking the copy's SHA-256 before it goes live.

        Args:
            local_path: The file to store.
            remote_path: Its path under the root.

        Returns:
            The stored object, verified.

        Raises:
            IntegrityError: The bytes written differ from the source's.
        """
        src = Path(local_path)
        dst = self._path(remote_path)
        expected = sha256_file(src)
        write = partial(_copy_checked, src, expected)
        mismatch = "copy does not match source sha256"
        commit_verified(self.uri(remote_path), dst, write, mismatch)
        return RemoteObject(
            self.name,
            self.uri(remote_path),
            clean_remote_path(remote_path),
            expected,
            dst.stat().st_size,
            verified=True,
        )

    def get(self, remote_path: str, dest: Path) -> Path:
        """Copy a stored object to `dest` through a temp file and an atomic rename."""
        src = self._path(remote_path)
        if not src.is_file():
            raise RemoteNotFoundError(f"{self.uri(remote_path)}: not found")
        return commit_verified(self.uri(remote_path), dest, partial(_copy_to_temp, src))

    def exists(self, remote_path: str) -> bool:
        """Tell whether an object is stored at `remote_path`."""
        return self._path(remote_path).is_file()

    def list(self, prefix: str) -> list[str]:
        """Return the sorted remote paths starting with `prefix`, temp files excluded."""
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and not is_temp_name(path.name):
                rel = path.relative_to(self.root).as_posix()
                if rel.startswith(prefix):
                    found.append(rel)
        return sorted(found)

    def delete(self, remote_path: str) -> None:
        """Delete an object; a missing one is fine."""
        self._path(remote_path).unlink(missing_ok=True)

    def remote_checksum(self, remote_path: str) -> str:
        """Return the stored object's hex SHA-256."""
        path = self._path(remote_path)
        if not path.is_file():
            raise RemoteNotFoundError(f"{self.uri(remote_path)}: not found")
        return sha256_file(path)

    def check_access(self) -> None:
        """Create the root if needed and prove it is a writable folder."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageConfigError(f"local store {self.root}: cannot create: {exc}") from exc
        if not os.access(self.root, os.W_OK):
            raise StorageConfigError(f"local store {self.root}: not writable")
