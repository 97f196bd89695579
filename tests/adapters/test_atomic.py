"""Atomic writes and the stale temp-file sweep."""

import os
import time
from pathlib import Path

import pytest

from retrain_assets.adapters import atomic
from retrain_assets.adapters.atomic import atomic_write_bytes, sweep_stale_temp_files


def test_write_creates_parents_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.bin"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f"
    atomic_write_bytes(target, b"old")

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_sweep_removes_only_stale_temp_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / ".model.bin.tmp-abc"
    fresh = tmp_path / ".x.tmp-def"
    keep = tmp_path / "model.bin"
    for path in (stale, fresh, keep):
        path.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    os.utime(keep, (old, old))
    assert sweep_stale_temp_files(tmp_path, 3600, dry_run=True) == [stale]
    assert stale.exists()
    assert sweep_stale_temp_files(tmp_path, 3600) == [stale]
    assert not stale.exists() and fresh.exists() and keep.exists()
    assert sweep_stale_temp_files(tmp_path / "missing", 3600) == []
