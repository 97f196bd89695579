"""Checksums for artifacts: plain SHA-256, Dropbox's content hash and `sha256.txt` manifests."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from retrain_assets.adapters.atomic import atomic_write_bytes

# sha256_bytes is pure and lives in the core; adapters keep importing it from here.
from retrain_assets.core.digests import sha256_bytes as sha256_bytes

READ_CHUNK = 1024 * 1024
DROPBOX_BLOCK = 4 * 1024 * 1024
SHA256SUMS_NAME = "sha256.txt"


@dataclass(frozen=True)
class FileDigests:
    """Both checksums of one file, computed in a single read."""

    sha256: str
    dropbox_content_hash: str
    size: int


def sha256_file(path: Path) -> str:
    """Return the lowercase hex SHA-256 of a file, read in 1 MiB chunks.

    Args:
        path: The file to hash.

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _content_hash_of_blocks(blocks: Iterable[bytes]) -> str:
    outer = hashlib.sha256()
    for block in blocks:
        outer.update(hashlib.sha256(block).digest())
    return outer.hexdigest()


def dropbox_content_hash_bytes(data: bytes) -> str:
    """Return Dropbox's `content_hash` of `data`.

    It is the SHA-256 of the concatenated raw SHA-256 digests of each 4 MiB block.
    """
    blocks = (data[i : i + DROPBOX_BLOCK] for i in range(0, len(data), DROPBOX_BLOCK))
    return _content_hash_of_blocks(blocks)


def dropbox_content_hash_file(path: Path) -> str:
    """Return Dropbox's `content_hash` of a file, read one 4 MiB block at a time."""
    return file_digests(path).dropbox_content_hash


def file_digests(path: Path) -> FileDigests:
    """Compute the SHA-256, the Dropbox content hash and the size of a file in one pass.

    Args:
        path: The file to hash.

    Returns:
        The file's digests.
    """
    whole = hashlib.sha256()
    outer = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as handle:
        while block := handle.read(DROPBOX_BLOCK):
            whole.update(block)
            outer.update(hashlib.sha256(block).digest())
            size += len(block)
    return FileDigests(whole.hexdigest(), outer.hexdigest(), size)


def write_sha256sums(folder: Path, names: list[str]) -> Path:
    """Write `sha256.txt` in `sha256sum -c` format for files of `folder`, atomically.

    Args:
        folder: The folder holding the files; the manifest is written there.
        names: File names relative to `folder`; they are written sorted.

    Returns:
        The manifest's path.
    """
    folder = Path(folder)
    lines = [f"{sha256_file(folder / name)}  {name}\n" for name in sorted(names)]
    manifest = folder / SHA256SUMS_NAME
    atomic_write_bytes(manifest, "".join(lines).encode())
    return manifest
