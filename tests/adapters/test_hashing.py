"""Checksums and sha256.txt manifests."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from retrain_assets.adapters.hashing import (
    dropbox_content_hash_bytes,
    dropbox_content_hash_file,
    file_digests,
    sha256_bytes,
    sha256_file,
    write_sha256sums,
)

MiB = 1024 * 1024


def reference_content_hash(data: bytes) -> str:
    blocks = [data[i : i + 4 * MiB] for i in range(0, len(data), 4 * MiB)]
    return hashlib.sha256(b"".join(hashlib.sha256(b).digest() for b in blocks)).hexdigest()


@pytest.mark.parametrize(
    "size",
    [0, 1, MiB, 4 * MiB, 4 * MiB + 1, 9 * MiB + 3],  # empty; block edges either side
)
def test_file_and_bytes_hashes_agree(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert sha256_file(path) == sha256_bytes(data) == hashlib.sha256(data).hexdigest()
    assert dropbox_content_hash_file(path) == dropbox_content_hash_bytes(data)
    assert dropbox_content_hash_bytes(data) == reference_content_hash(data)
    digests = file_digests(path)
    assert (digests.sha256, digests.size) == (sha256_bytes(data), size)


def test_dropbox_content_hash_matches_the_documented_example_shape() -> None:
    # the empty file hashes no blocks: SHA-256 of the empty string
    assert dropbox_content_hash_bytes(b"") == hashlib.sha256(b"").hexdigest()


def test_manifest_is_sorted_and_sha256sum_compatible(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text("b")
    (tmp_path / "a.bin").write_bytes(b"a")
    manifest = write_sha256sums(tmp_path, ["b.json", "a.bin"])
    assert manifest.read_text() == (f"{sha256_bytes(b'a')}  a.bin\n{sha256_bytes(b'b')}  b.json\n")
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "-c", "--quiet", "sha256.txt"], cwd=tmp_path, check=True)
