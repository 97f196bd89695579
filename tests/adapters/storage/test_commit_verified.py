"""commit_verified: the one temp-file, checksum and rename ending shared by every backend."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from retrain_assets.adapters.storage.base import Received, RemoteNotFoundError, commit_verified
from retrain_assets.core.errors import IntegrityError

URI = "s3://bucket/models/m.bin"


def writing(data: bytes, received: Received | None) -> Callable[[Path], Received | None]:
    """A write that puts `data` in the temp file and reports `received`."""

    def write(temp: Path) -> Received | None:
        temp.write_bytes(data)
        return received

    return write


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    "received",
    [Received("abc", "abc"), None],  # None: nothing recorded to check against
)
def test_a_checked_write_lands_at_the_destination_and_leaves_no_temp_file(
    tmp_path: Path, received: Received | None
) -> None:
    dest = tmp_path / "new" / "m.bin"
    assert commit_verified(URI, dest, writing(b"new", received)) == dest
    assert dest.read_bytes() == b"new"
    assert names(dest.parent) == ["m.bin"]


@pytest.mark.parametrize(
    ("mismatch", "message"),
    [
        ({}, f"{URI}: downloaded bytes do not match"),
        ({"mismatch": "copy does not match source sha256"}, f"{URI}: copy does not match"),
    ],
)
def test_a_mismatch_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path: Path, mismatch: dict[str, str], message: str
) -> None:
    dest = tmp_path / "m.bin"
    dest.write_bytes(b"old")
    with pytest.raises(IntegrityError, match="^" + re.escape(message)):
        commit_verified(URI, dest, writing(b"bad", Received("abc", "def")), **mismatch)
    assert dest.read_bytes() == b"old"
    assert names(tmp_path) == ["m.bin"]


def test_a_write_that_fails_half_way_leaves_no_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "m.bin"

    def write(temp: Path) -> Received:
        temp.write_bytes(b"half")
        raise RemoteNotFoundError(f"{URI}: not found")

    with pytest.raises(RemoteNotFoundError, match="not found"):
        commit_verified(URI, dest, write)
    assert names(tmp_path) == []
