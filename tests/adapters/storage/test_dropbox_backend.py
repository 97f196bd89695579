"""DropboxBackend against the fake Dropbox server: round trips, refresh and injected faults."""

import os
from pathlib import Path

import pytest

from retrain_assets.adapters.hashing import dropbox_content_hash_bytes, sha256_bytes
from retrain_assets.adapters.storage import dropbox_backend as dropbox_module
from retrain_assets.adapters.storage.base import RemoteNotFoundError, StorageConfigError
from retrain_assets.adapters.storage.dropbox_backend import DropboxBackend, build_dropbox_client
from retrain_assets.core.errors import IntegrityError, TransientError
from tests.fakes.dropbox_fixtures import SleepRecorder, make_backend
from tests.fakes.fake_dropbox import FakeDropbox, local_dropbox_session

MiB = 1024 * 1024
BIG = 3 * 4 * MiB + 12345  # four session requests with 4 MiB chunks
UPLOAD_ROUTES = ("files/upload", "files/upload_session/append_v2", "files/upload_session/finish")


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.bin"
    path.write_bytes(os.urandom(200_000))
    return path


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "features.parquet"
    path.write_bytes(os.urandom(BIG))
    return path


def stored_paths(server: FakeDropbox) -> list[str]:
    return sorted(f.path_display for f in server.store.files.values())


@pytest.mark.parametrize("which", ["small_file", "big_file"])
def test_put_round_trips_and_reports_a_verified_object(
    request: pytest.FixtureRequest, dropbox_backend: DropboxBackend, tmp_path: Path, which: str
) -> None:
    src: Path = request.getfixturevalue(which)
    data = src.read_bytes()
    obj = dropbox_backend.put(src, "2026-11-27/BTCUSDT/x.bin")
    assert obj.verified and obj.sha256 == sha256_bytes(data) and obj.size == len(data)
    assert obj.uri == "dropbox:///retrain-assets/2026-11-27/BTCUSDT/x.bin"
    assert dropbox_backend.remote_checksum("2026-11-27/BTCUSDT/x.bin") == (
        dropbox_content_hash_bytes(data)
    )
    out = dropbox_backend.get("2026-11-27/BTCUSDT/x.bin", tmp_path / "out" / "x.bin")
    assert out.read_bytes() == data


def test_big_files_go_through_an_upload_session(
    dropbox_backend: DropboxBackend, fake_dropbox: FakeDropbox, big_file: Path
) -> None:
    dropbox_backend.put(big_file, "a/big.bin")
    calls = [c.removeprefix("2/") for c in fake_dropbox.calls]
    assert calls.count("files/upload_session/append_v2") == 2
    assert "files/upload" not in calls


def test_list_exists_and_delete(
    dropbox_backend: DropboxBackend, fake_dropbox: FakeDropbox, small_file: Path
) -> None:
    fake_dropbox.store.page_size = 2  # force list_folder/continue
    for name in ["d1/BTC/a", "d1/BTC/b", "d1/ETH/a", "d2/BTC/a"]:
        dropbox_backend.put(small_file, name)
    assert dropbox_backend.list("d1/") == ["d1/BTC/a", "d1/BTC/b", "d1/ETH/a"]
    assert dropbox_backend.list("d1/BTC/b") == ["d1/BTC/b"]
    assert dropbox_backend.list("zzz/") == []
    assert dropbox_backend.exists("d2/BTC/a")
    dropbox_backend.delete("d2/BTC/a")
    dropbox_backend.delete("d2/BTC/a")  # deleting twice is fine
    assert not dropbox_backend.exists("d2/BTC/a")
    with pytest.raises(RemoteNotFoundError):
        dropbox_backend.get("d2/BTC/a", small_file.parent / "nope")


def test_put_replaces_an_existing_file(
    dropbox_backend: DropboxBackend, fake_dropbox: FakeDropbox, tmp_path: Path
) -> None:
    for content in (b"first", b"second"):
        (tmp_path / "f").write_bytes(content)
        dropbox_backend.put(tmp_path / "f", "x/f")
    assert dropbox_backend.get("x/f", tmp_path / "g").read_bytes() == b"second"
    assert stored_paths(fake_dropbox) == ["/retrain-assets/x/f"]


def test_an_expired_access_token_is_refreshed(
    dropbox_backend: DropboxBackend, fake_dropbox: FakeDropbox, small_file: Path
) -> None:
    dropbox_backend.put(small_file, "a")
    fake_dropbox.expire_all_tokens()
    dropbox_backend.put(small_file, "b")
    assert fake_dropbox.calls.count("oauth2/token") == 2


def test_rate_limits_wait_for_retry_after_then_succeed(
    dropbox_backend: DropboxBackend,
    fake_dropbox: FakeDropbox,
    sleeps: SleepRecorder,
    small_file: Path,
) -> None:
    fake_dropbox.inject("files/upload", "429", times=2, retry_after=7)
    dropbox_backend.put(small_file, "a")
    assert sleeps.waits == [7.0, 7.0]


def test_rate_limits_give_up_after_the_retry_budget(
    fake_dropbox: FakeDropbox, sleeps: SleepRecorder, small_file: Path
) -> None:
    backend = make_backend(fake_dropbox, sleeps, max_retries=2)
    fake_dropbox.inject("files/upload", "429", times=10)
    with pytest.raises(TransientError, match="3 attempts"):
        backend.put(small_file, "a")
    assert len(sleeps.waits) == 2
    assert stored_paths(fake_dropbox) == []


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
@pytest.mark.parametrize("kind", ["500", "drop", "commit_lose"])
def test_upload_faults_are_retried_and_leave_only_the_final_file(
    dropbox_backend: DropboxBackend,
    fake_dropbox: FakeDropbox,
    small_file: Path,
    big_file: Path,
    route: str,
    kind: str,
) -> None:
    src = small_file if route == "files/upload" else big_file
    fake_dropbox.inject(route, kind)
    obj = dropbox_backend.put(src, "k/x.bin")
    assert obj.verified
    assert not fake_dropbox.faults[route]  # the fault did fire
    assert stored_paths(fake_dropbox) == ["/retrain-assets/k/x.bin"]
    assert dropbox_backend.remote_checksum("k/x.bin") == dropbox_content_hash_bytes(
        src.read_bytes()
    )


@pytest.mark.parametrize("kind", ["drop", "commit_lose", "500"])
def test_a_lost_move_response_is_recovered(
    dropbox_backend: DropboxBackend, fake_dropbox: FakeDropbox, small_file: Path, kind: str
) -> None:
    fake_dropbox.inject("files/move_v2", kind)
    assert dropbox_backend.put(small_file, "m/x").verified
    assert not fake_dropbox.faults["files/move_v2"]
    assert stored_paths(fake_dropbox) == ["/retrain-assets/m/x"]


@pytest.mark.parametrize("route", ["files/upload", "files/upload_session/finish"])
def test_a_corrupted_body_raises_and_leaves_nothing_behind(
    dropbox_backend: DropboxBackend,
    fake_dropbox: FakeDropbox,
    small_file: Path,
    big_file: Path,
    route: str,
) -> None:
    src = small_file if route == "files/upload" else big_file
    fake_dropbox.inject(route, "corrupt")
    with pytest.raises(IntegrityError, match="content hash"):
        dropbox_backend.put(src, "c/x.bin")
    assert stored_paths(fake_dropbox) == []


def test_a_corrupted_body_does_not_replace_a_good_file(
    dropbox_backend: DropboxBackend, fake_dropbox: FakeDropbox, small_file: Path
) -> None:
    dropbox_backend.put(small_file, "c/x.bin")
    fake_dropbox.inject("files/upload", "corrupt")
    with pytest.raises(IntegrityError):
        dropbox_backend.put(small_file, "c/x.bin")
    assert stored_paths(fake_dropbox) == ["/retrain-assets/c/x.bin"]
    assert dropbox_backend.remote_checksum("c/x.bin") == dropbox_content_hash_bytes(
        small_file.read_bytes()
    )


def test_a_download_not_matching_the_content_hash_keeps_the_old_file(
    dropbox_backend: DropboxBackend,
    small_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dropbox_backend.put(small_file, "c/x.bin")
    dest = tmp_path / "out" / "x.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    # bytes damaged on the way: the received file's content hash is not Dropbox's
    monkeypatch.setattr(dropbox_module, "dropbox_content_hash_file", lambda path: "0" * 64)
    with pytest.raises(IntegrityError, match=r"c/x\.bin: downloaded bytes do not match"):
        dropbox_backend.get("c/x.bin", dest)
    assert dest.read_bytes() == b"old"
    assert [p.name for p in dest.parent.iterdir()] == ["x.bin"]


def test_check_access_passes_with_good_credentials(dropbox_backend: DropboxBackend) -> None:
    dropbox_backend.check_access()


@pytest.mark.parametrize(
    "creds",
    [
        {"refresh_token": "wrong-refresh-SECRET1", "app_key": "fake-app-key"},
        {"refresh_token": "fake-refresh-token", "app_key": "wrong-key", "app_secret": "SECRET2"},
        {"access_token": "wrong-access-SECRET3"},
    ],
)
def test_bad_credentials_raise_a_config_error_without_the_secret(
    fake_dropbox: FakeDropbox, sleeps: SleepRecorder, small_file: Path, creds: dict[str, str]
) -> None:
    client = build_dropbox_client(session=local_dropbox_session(fake_dropbox.port), **creds)
    backend = DropboxBackend(client, sleep=sleeps)
    for action in (backend.check_access, lambda: backend.put(small_file, "a")):
        with pytest.raises(StorageConfigError) as info:
            action()
        text = str(info.value) + repr(info.value)
        assert all(secret not in text for secret in creds.values())
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_an_expired_static_access_token_is_a_config_error(
    fake_dropbox: FakeDropbox, sleeps: SleepRecorder
) -> None:
    fake_dropbox.accounts.static_tokens.clear()
    fake_dropbox.accounts.issued["old-token"] = 0.0
    client = build_dropbox_client(
        access_token="old-token", session=local_dropbox_session(fake_dropbox.port)
    )
    with pytest.raises(StorageConfigError, match="expired_access_token"):
        DropboxBackend(client, sleep=sleeps).check_access()


def test_missing_credentials_are_refused_before_any_request() -> None:
    with pytest.raises(StorageConfigError):
        build_dropbox_client()
    with pytest.raises(StorageConfigError):
        build_dropbox_client(refresh_token="x")


def test_a_small_upload_is_verified_from_its_own_response_in_two_calls(
    dropbox_backend: DropboxBackend, fake_dropbox: FakeDropbox, small_file: Path
) -> None:
    # The upload response carries the stored content hash, and the move's response carries it
    # again: no separate metadata request is needed to verify.
    fake_dropbox.calls.clear()
    assert dropbox_backend.put(small_file, "c/x").verified
    files_calls = [c for c in fake_dropbox.calls if c.startswith("2/files/")]
    assert files_calls == ["2/files/upload", "2/files/move_v2"]
