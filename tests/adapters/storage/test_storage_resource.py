"""StorageResource: driver choice, credentials from the environment, start-up checks."""

import pytest

from resources.storage import StorageDriver, StorageResource, loopback_dropbox_session
from retrain_assets.adapters.storage import StorageConfigError
from retrain_assets.adapters.storage.dropbox_backend import DropboxBackend
from retrain_assets.adapters.storage.s3_backend import S3Backend
from retrain_assets.vocabulary.tags import DRIVER_TAG
from tests.adapters.storage.drivers import dropbox_env, s3_env

ALL_STORAGE_VARS = (
    "RETRAIN_STORAGE_DRIVER",
    "RETRAIN_LOCAL_STORE_ROOT",
    "RETRAIN_DROPBOX_API_URL",
    "DROPBOX_ACCESS_TOKEN",
    "DROPBOX_REFRESH_TOKEN",
    "DROPBOX_APP_KEY",
    "DROPBOX_APP_SECRET",
    "RETRAIN_S3_BUCKET",
    "AWS_ENDPOINT_URL_S3",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ALL_STORAGE_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("config", "env", "tags", "expected"),
    [
        (None, None, None, "local"),
        (None, "s3", None, "s3"),
        ("dropbox", "s3", None, "dropbox"),  # config beats the environment
        ("dropbox", None, {DRIVER_TAG: "s3"}, "s3"),  # the run's tag beats config
        ("dropbox", None, {"retrain/driver": "s3"}, "s3"),  # so does a run's tag of before
        (None, "DropBox", None, "dropbox"),
    ],
)
def test_the_run_tag_then_config_then_env_choose_the_driver(
    monkeypatch, config, env, tags, expected
):
    if env:
        monkeypatch.setenv("RETRAIN_STORAGE_DRIVER", env)
    assert StorageResource(driver=config).driver_for(tags) == StorageDriver(expected)


def test_an_unknown_driver_is_a_config_error_naming_the_choices():
    with pytest.raises(StorageConfigError, match="local, dropbox, s3"):
        StorageResource(driver="ftp").driver_for()


def test_the_remote_path_follows_the_artifact_layout():
    path = StorageResource(remote_prefix="/models/").remote_path("BTCUSDT", "20250501_x", "a.bin")
    assert path == "models/BTCUSDT/20250501_x/a.bin"


def test_dropbox_without_credentials_is_a_clear_error(tmp_path):
    with pytest.raises(StorageConfigError, match="no credentials"):
        StorageResource().backend("dropbox", tmp_path)


def test_dropbox_with_a_wrong_refresh_token_fails_the_check_without_leaking_it(
    fake_dropbox, monkeypatch, tmp_path
):
    env = {**dropbox_env(fake_dropbox), "DROPBOX_REFRESH_TOKEN": "wrong-secret-token-123"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StorageConfigError) as err:
        StorageResource().check_access("dropbox", tmp_path)
    assert "wrong-secret-token-123" not in str(err.value)
    assert fake_dropbox.accounts.app_secret not in str(err.value)


def test_dropbox_check_passes_with_refresh_token_and_app_key(fake_dropbox, monkeypatch, tmp_path):
    for name, value in dropbox_env(fake_dropbox).items():
        monkeypatch.setenv(name, value)
    resource = StorageResource()
    assert resource.check_access("dropbox", tmp_path) == "dropbox"
    backend = resource.backend("dropbox", tmp_path)
    assert isinstance(backend, DropboxBackend) and backend.root == "/retrain-assets"
    assert resource.backend("dropbox", tmp_path) is backend  # one client per process


def test_the_dropbox_api_override_only_accepts_loopback():
    with pytest.raises(StorageConfigError, match=r"127\.0\.0\.1"):
        loopback_dropbox_session("http://example.com:8080")
    assert loopback_dropbox_session("http://127.0.0.1:9") is not None


def test_s3_without_a_bucket_is_a_clear_error(tmp_path):
    with pytest.raises(StorageConfigError, match="RETRAIN_S3_BUCKET"):
        StorageResource().backend("s3", tmp_path)


def test_s3_check_fails_for_a_missing_bucket_and_passes_for_an_existing_one(
    moto_endpoint, s3, bucket, monkeypatch, tmp_path
):
    for name, value in s3_env(moto_endpoint, "no-such-bucket").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StorageConfigError, match="no-such-bucket"):
        StorageResource().check_access("s3", tmp_path)
    monkeypatch.setenv("RETRAIN_S3_BUCKET", bucket)
    resource = StorageResource(s3_prefix="team")
    assert resource.check_access("s3", tmp_path) == "s3"
    backend = resource.backend("s3", tmp_path)
    assert isinstance(backend, S3Backend) and backend.uri("a/b") == f"s3://{bucket}/team/a/b"


def test_local_without_a_store_root_verifies_files_in_place(tmp_path):
    backend = StorageResource().backend("local", tmp_path)
    target = tmp_path / "models" / "X" / "f.txt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"abc")
    stored = backend.put(target, "models/X/f.txt")
    assert stored.verified and stored.uri == target.as_uri()
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_local_with_a_store_root_copies_there(tmp_path, monkeypatch):
    monkeypatch.setenv("RETRAIN_LOCAL_STORE_ROOT", str(tmp_path / "nas"))
    source = tmp_path / "f.txt"
    source.write_bytes(b"abc")
    stored = StorageResource().backend("local", tmp_path / "art").put(source, "m/f.txt")
    assert stored.verified and (tmp_path / "nas" / "m" / "f.txt").read_bytes() == b"abc"
