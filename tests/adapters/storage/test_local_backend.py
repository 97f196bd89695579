"""LocalBackend: a folder playing the remote store."""

import os
from pathlib import Path

import pytest

from retrain_assets.adapters import hashing
from retrain_assets.adapters.storage import LocalBackend, RemoteNotFoundError, StorageBackend
from retrain_assets.adapters.storage import local as local_module
from retrain_assets.core.errors import IntegrityError


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "remote")


def test_it_satisfies_the_protocol(backend: LocalBackend) -> None:
    assert isinstance(backend, StorageBackend)


def test_round_trip_list_exists_delete(backend: LocalBackend, tmp_path: Path) -> None:
    src = tmp_path / "m.bin"
    src.write_bytes(os.urandom(5000))
    obj = backend.put(src, "2026-11-27/BTCUSDT/m.bin")
    assert obj.verified and obj.sha256 == hashing.sha256_file(src) and obj.size == 5000
    assert obj.uri.startswith("file:///") and obj.uri.endswith("/remote/2026-11-27/BTCUSDT/m.bin")
    backend.put(src, "2026-11-27/ETHUSDT/m.bin")
    assert backend.list("2026-11-27/") == ["2026-11-27/BTCUSDT/m.bin", "2026-11-27/ETHUSDT/m.bin"]
    assert backend.remote_checksum("2026-11-27/BTCUSDT/m.bin") == obj.sha256
    out = backend.get("2026-11-27/BTCUSDT/m.bin", tmp_path / "dl" / "m.bin")
    assert out.read_bytes() == src.read_bytes()
    backend.delete("2026-11-27/BTCUSDT/m.bin")
    backend.delete("2026-11-27/BTCUSDT/m.bin")
    assert not backend.exists("2026-11-27/BTCUSDT/m.bin")
    with pytest.raises(RemoteNotFoundError):
        backend.get("2026-11-27/BTCUSDT/m.bin", tmp_path / "x")


@pytest.mark.parametrize("bad", ["", "/", "../x", "a/../../b"])
def test_paths_outside_the_root_are_refused(backend: LocalBackend, bad: str) -> None:
    with pytest.raises(ValueError):
        backend.uri(bad)


def test_a_corrupt_copy_never_reaches_the_final_path(
    backend: LocalBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "m.bin"
    src.write_bytes(b"good")
    backend.put(src, "m.bin")
    calls = iter([hashing.sha256_bytes(b"new"), "0" * 64])  # source hash, then the copy's
    monkeypatch.setattr(local_module, "sha256_file", lambda path: next(calls))
    src.write_bytes(b"new")
    with pytest.raises(IntegrityError):
        backend.put(src, "m.bin")
    assert (backend.root / "m.bin").read_bytes() == b"good"
    assert backend.list("") == ["m.bin"]
    assert [p.name for p in backend.root.iterdir()] == ["m.bin"]


def test_check_access_creates_the_root(backend: LocalBackend) -> None:
    backend.check_access()
    assert backend.root.is_dir()
