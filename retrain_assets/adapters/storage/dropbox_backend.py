"""Artifacts in a Dropbox folder, uploaded to a temp name, verified, then moved into place."""

import time
import uuid
from functools import partial
from pathlib import Path

import dropbox
from dropbox import files as dbx_files
from dropbox.exceptions import ApiError

from retrain_assets.adapters.hashing import DROPBOX_BLOCK, dropbox_content_hash_file, file_digests
from retrain_assets.adapters.storage.base import (
    Received,
    RemoteNotFoundError,
    RemoteObject,
    StorageConfigError,
    clean_remote_path,
    commit_verified,
)
from retrain_assets.adapters.storage.dropbox_calls import (
    DropboxCaller,
    append_chunk,
    build_dropbox_client,
    is_not_found,
)
from retrain_assets.adapters.storage.limiter import RateLimiter
from retrain_assets.adapters.storage.retry import Sleep
from retrain_assets.core.errors import IntegrityError, TransientError

__all__ = ["DropboxBackend", "build_dropbox_client"]

MiB = 1024 * 1024
PARTIAL_MARKER = ".partial-"


class DropboxBackend:
    """Store artifacts under a Dropbox folder; every upload's content hash is checked.

    Dropbox paths are case-insensitive: two remote paths that differ only in case are the
    same file there.

    Args:
        client: A Dropbox client, e.g. from `build_dropbox_client`.
        root: The folder holding everything, e.g. `/retrain-assets`.
        chunk_size: The upload-session chunk size (a multiple of 4 MiB).
        large_threshold: Files larger than this go through an upload session.
        max_retries: Retries per call on 429 (after Retry-After), 5xx and lost connections.
        limiter: A rate limiter shared by every call; one per backend when None.
        base_delay: The first backoff of the retries.
        max_delay: The cap on any wait, Retry-After included.
        sleep: The sleep function (tests pass a recorder).
    """

    name = "dropbox"

    def __init__(
        self,
        client: dropbox.Dropbox,
        root: str = "/retrain-assets",
        chunk_size: int = 8 * MiB,
        large_threshold: int = 32 * MiB,
        max_retries: int = 5,
        limiter: RateLimiter | None = None,
        *,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        sleep: Sleep = time.sleep,
    ) -> None:
        if chunk_size <= 0 or chunk_size % DROPBOX_BLOCK:
            raise ValueError("chunk_size must be a positive multiple of 4 MiB")
        self.client = client
        self.root = "/" + root.strip("/")
        self.chunk_size = chunk_size
        self.large_threshold = large_threshold
        self.call = DropboxCaller(
            limiter or RateLimiter(), max_retries, base_delay, max_delay, sleep
        )

    def _full(self, remote_path: str) -> str:
        return f"{self.root}/{clean_remote_path(remote_path)}"

    def uri(self, remote_path: str) -> str:
        """Return `dropbox://<root>/<remote_path>`."""
        return "dropbox://" + self._full(remote_path)

    def put(self, local_path: Path, remote_path: str) -> RemoteObject:
        """Upload to a temp name, check its content hash, then move it to the final path.

        Raises:
            IntegrityError: The stored content hash differs from the local file's.
            TransientError: Dropbox kept failing after the retry budget.
            StorageConfigError: The credentials were rejected.
        """
        rel = clean_remote_path(remote_path)
        final = self._full(rel)
        digests = file_digests(Path(local_path))
        partial = f"{final}{PARTIAL_MARKER}{uuid.uuid4().hex}"
        try:
            # The upload's own response carries the stored content hash; ask again only when
            # that response was lost.
            stored_hash = self._upload(Path(local_path), partial, digests.size)
            if stored_hash is None:
                stored_hash = self._content_hash_or_none(partial)
            if stored_hash != digests.dropbox_content_hash:
                raise IntegrityError(f"{self.uri(rel)}: uploaded content hash does not match")
            moved_hash = self._move_into_place(partial, final, digests.dropbox_content_hash)
        except BaseException:
            self._delete_quietly(partial)
            raise
        if moved_hash != digests.dropbox_content_hash:
            self._delete_quietly(final)
            raise IntegrityError(f"{self.uri(rel)}: content hash changed while moving")
        return RemoteObject(self.name, self.uri(rel), rel, digests.sha256, digests.size, True)

    def _upload(self, local_path: Path, target: str, size: int) -> str | None:
        """Upload to `target`; return the content hash Dropbox reports for it, if it did."""
        if size <= self.large_threshold:
            # overwrite: a retry after a lost response re-sends identical bytes, a no-op
            mode = dbx_files.WriteMode.overwrite
            data = local_path.read_bytes()
            result = self.call("upload", self.client.files_upload, data, target, mode=mode)
            return getattr(result, "content_hash", None)
        return self._upload_session(local_path, target, size)

    def _upload_session(self, local_path: Path, target: str, size: int) -> str | None:
        with local_path.open("rb") as handle:
            first = handle.read(self.chunk_size)
            start = self.call("session start", self.client.files_upload_session_start, first)
            offset = len(first)
            while size - offset > self.chunk_size:
                handle.seek(offset)
                data = handle.read(self.chunk_size)
                offset = append_chunk(self.call, self.client, start.session_id, offset, data)
            handle.seek(offset)
            cursor = dbx_files.UploadSessionCursor(start.session_id, offset)
            commit = dbx_files.CommitInfo(target, mode=dbx_files.WriteMode.overwrite)
            finish = self.client.files_upload_session_finish
            try:
                result = self.call("session finish", finish, handle.read(), cursor, commit)
                return getattr(result, "content_hash", None)
            except ApiError as exc:
                # a finish whose response was lost has already committed: the caller's
                # content-hash check decides whether what is there is ours
                if not exc.error.is_lookup_failed() or not self.exists_full(target):
                    raise TransientError(f"Dropbox upload session for {target} failed") from None
                return None

    def _move_into_place(self, partial: str, final: str, expected: str) -> str | None:
        for _ in range(3):
            try:
                result = self.call("move", self.client.files_move_v2, partial, final)
                return getattr(result.metadata, "content_hash", None)
            except ApiError as exc:
                err = exc.error
                if err.is_to() and err.get_to().is_conflict():
                    self._delete_full(final)  # files_move_v2 never overwrites
                elif is_not_found(exc, "from_lookup"):
                    return self._content_hash_or_none(final)  # an earlier move got through
                else:
                    raise
        raise TransientError(f"Dropbox: could not move an upload into {final}")

    def _content_hash_or_none(self, full: str) -> str | None:
        try:
            meta = self.call("get_metadata", self.client.files_get_metadata, full)
        except ApiError as exc:
            if is_not_found(exc, "path"):
                return None
            raise
        return getattr(meta, "content_hash", None)

    def exists_full(self, full: str) -> bool:
        """Tell whether a file exists at an absolute Dropbox path."""
        return self._content_hash_or_none(full) is not None

    def _delete_full(self, full: str) -> None:
        try:
            self.call("delete", self.client.files_delete_v2, full)
        except ApiError as exc:
            if not is_not_found(exc, "path_lookup"):
                raise

    def _delete_quietly(self, full: str) -> None:
        try:
            self._delete_full(full)
        except Exception:  # noqa: S110 - cleanup must not hide the original error
            pass

    def get(self, remote_path: str, dest: Path) -> Path:
        """Download to a temp file next to `dest`, check its content hash, rename it into place.

        Raises:
            RemoteNotFoundError: Nothing is stored there.
            IntegrityError: The bytes received do not match Dropbox's content hash.
        """
        full = self._full(remote_path)
        return commit_verified(self.uri(remote_path), dest, partial(self._download, full))

    def _download(self, full: str, temp: Path) -> Received:
        """Download `full` into `temp`; return its content hash and the one Dropbox reports."""
        try:
            meta = self.call("download", self.client.files_download_to_file, str(temp), full)
        except ApiError as exc:
            if is_not_found(exc, "path"):
                raise RemoteNotFoundError(f"dropbox://{full}: not found") from None
            raise
        return Received(dropbox_content_hash_file(temp), meta.content_hash)

    def exists(self, remote_path: str) -> bool:
        """Tell whether a file is stored at `remote_path`."""
        return self.exists_full(self._full(remote_path))

    def list(self, prefix: str) -> list[str]:
        """Return the sorted remote paths starting with `prefix` (upload temp names excluded)."""
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        path = f"{self.root}/{folder}".rstrip("/")
        try:
            page = self.call("list_folder", self.client.files_list_folder, path, recursive=True)
        except ApiError as exc:
            if is_not_found(exc, "path"):
                return []
            raise
        entries = list(page.entries)
        while page.has_more:
            page = self.call("list_folder", self.client.files_list_folder_continue, page.cursor)
            entries.extend(page.entries)
        cut = len(self.root) + 1
        names = [
            e.path_display[cut:]
            for e in entries
            if isinstance(e, dbx_files.FileMetadata) and PARTIAL_MARKER not in e.name
        ]
        return sorted(n for n in names if n.startswith(prefix))

    def delete(self, remote_path: str) -> None:
        """Delete a file; a missing one is fine."""
        self._delete_full(self._full(remote_path))

    def remote_checksum(self, remote_path: str) -> str:
        """Return Dropbox's content hash of the stored file."""
        found = self._content_hash_or_none(self._full(remote_path))
        if found is None:
            raise RemoteNotFoundError(f"{self.uri(remote_path)}: not found")
        return found

    def check_access(self) -> None:
        """Prove the credentials work and that the root is a folder (or not created yet)."""
        self.call("get_current_account", self.client.users_get_current_account)
        try:
            meta = self.call("get_metadata", self.client.files_get_metadata, self.root)
        except ApiError as exc:
            if is_not_found(exc, "path"):
                return  # created by the first upload
            raise StorageConfigError(f"Dropbox root {self.root}: not usable") from None
        if not isinstance(meta, dbx_files.FolderMetadata):
            raise StorageConfigError(f"Dropbox root {self.root}: is a file, not a folder")
