"""The storage backend interface shared by the local, Dropbox and S3 stores."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from retrain_assets.adapters.atomic import commit_temp, fsync_path, temp_path_for
from retrain_assets.core.errors import IntegrityError, PermanentError


class StorageConfigError(PermanentError):
    """A store that cannot be used as configured: bad credentials, a missing bucket or folder.

    Messages name the store (bucket, folder) and never a secret.
    """


class RemoteNotFoundError(PermanentError):
    """A remote path that holds no object."""


@dataclass(frozen=True)
class RemoteObject:
    """One uploaded artifact and how it was checked.

    Attributes:
        backend: The backend's name (`local`, `dropbox`, `s3`).
        uri: Where the object lives, e.g. `s3://bucket/key`.
        remote_path: The path relative to the backend's root.
        sha256: The hex SHA-256 of the uploaded bytes.
        size: The size in bytes.
        verified: Whether the remote checksum was read back and matched.
    """

    backend: str
    uri: str
    remote_path: str
    sha256: str
    size: int
    verified: bool


@dataclass(frozen=True)
class Received:
    """The checksum of the bytes written to a temp file, and the one they must match.

    Attributes:
        digest: The checksum of the bytes written, in the store's own kind.
        expected: The checksum the store (or the source) recorded for them.
    """

    digest: str
    expected: str


Write = Callable[[Path], Received | None]


@runtime_checkable
class StorageBackend(Protocol):
    """A place to put, fetch and list artifacts, each upload verified against its checksum."""

    name: str

    def uri(self, remote_path: str) -> str:
        """Return the object's URI."""
        ...

    def put(self, local_path: Path, remote_path: str) -> RemoteObject:
        """Upload a file and verify the remote checksum.

        Raises:
            IntegrityError: The stored object's checksum differs from the local file's.
            TransientError: The upload kept failing after bounded retries.
            StorageConfigError: Credentials or the bucket/folder are wrong.
        """
        ...

    def get(self, remote_path: str, dest: Path) -> Path:
        """Download to a temp file next to `dest`, then rename it into place."""
        ...

    def exists(self, remote_path: str) -> bool:
        """Tell whether an object is stored at `remote_path`."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Return the sorted remote paths that start with `prefix`."""
        ...

    def delete(self, remote_path: str) -> None:
        """Delete an object; deleting a missing one is not an error."""
        ...

    def remote_checksum(self, remote_path: str) -> str:
        """Return the checksum the store reports (hex SHA-256, or Dropbox's content hash)."""
        ...

    def check_access(self) -> None:
        """Prove that credentials and the bucket/folder work, or raise StorageConfigError."""
        ...


def clean_remote_path(remote_path: str) -> str:
    """Normalize a relative remote path, refusing absolute paths and `..`.

    Args:
        remote_path: A `/`-separated path relative to a backend's root.

    Returns:
        The path without leading, trailing or doubled slashes.

    Raises:
        ValueError: The path is empty or climbs out of the root.
    """
    parts = [p for p in str(remote_path).replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"invalid remote path: {remote_path!r}")
    return str(PurePosixPath(*parts))


def commit_verified(
    uri: str, dest: Path, write: Write, mismatch: str = "downloaded bytes do not match"
) -> Path:
    """Let `write` fill a temp file next to `dest`, check its checksum, rename it into place.

    Every backend's `get` ends here (and the local store's `put`), so that `dest` only ever
    holds the old file or a complete, checked new one, and no temp file outlives a failure.

    Args:
        uri: The object's URI, named in the mismatch message.
        dest: The local destination; its parent folders are created.
        write: Writes the object into the temp path it is given and returns the checksums
            to compare, or None when there is nothing recorded to check against.
        mismatch: What the IntegrityError says after the URI.

    Returns:
        `dest`.

    Raises:
        IntegrityError: The written bytes' checksum differs from the expected one.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(dest)
    try:
        received = write(temp)
        if received is not None and received.digest != received.expected:
            raise IntegrityError(f"{uri}: {mismatch}")
        fsync_path(temp)  # the rename must never publish bytes still in the page cache
        commit_temp(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    return dest
