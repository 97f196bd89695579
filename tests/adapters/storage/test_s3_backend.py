"""S3Backend against a local moto server."""

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from retrain_assets.adapters.hashing import sha256_bytes
from retrain_assets.adapters.storage.base import RemoteNotFoundError, StorageConfigError
from retrain_assets.adapters.storage.s3_backend import S3Backend
from retrain_assets.core.errors import IntegrityError, TransientError
from tests.fakes.moto_s3 import s3_client

MiB = 1024 * 1024


def small_backend(client: Any, bucket_name: str) -> S3Backend:
    return S3Backend(
        client, bucket_name, prefix="models", multipart_threshold=6 * MiB, part_size=5 * MiB
    )


def write(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


@pytest.mark.parametrize("size", [0, 1000, 11 * MiB + 7])  # 11 MiB: a three-part upload
def test_put_and_get_round_trip(s3: Any, bucket: str, tmp_path: Path, size: int) -> None:
    backend = small_backend(s3, bucket)
    src = write(tmp_path, "a.bin", size)
    obj = backend.put(src, "2026-11-27/BTCUSDT/a.bin")
    assert obj.verified and obj.size == size and obj.sha256 == sha256_bytes(src.read_bytes())
    assert obj.uri == f"s3://{bucket}/models/2026-11-27/BTCUSDT/a.bin"
    assert backend.remote_checksum("2026-11-27/BTCUSDT/a.bin") == obj.sha256
    out = backend.get("2026-11-27/BTCUSDT/a.bin", tmp_path / "out" / "a.bin")
    assert out.read_bytes() == src.read_bytes()


def test_a_large_file_is_uploaded_in_parts_with_a_composite_checksum(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    backend = small_backend(s3, bucket)
    backend.put(write(tmp_path, "big", 11 * MiB), "big")
    head = s3.head_object(Bucket=bucket, Key="models/big", ChecksumMode="ENABLED")
    assert head["Metadata"]["sha256"] == sha256_bytes((tmp_path / "big").read_bytes())
    assert head["ChecksumSHA256"] != base64.b64encode(bytes.fromhex(head["Metadata"]["sha256"]))


def test_list_exists_and_delete(s3: Any, bucket: str, tmp_path: Path) -> None:
    backend = small_backend(s3, bucket)
    src = write(tmp_path, "f", 10)
    for name in ["d1/BTC/a", "d1/BTC/b", "d1/ETH/a", "d2/BTC/a"]:
        backend.put(src, name)
    assert backend.list("d1/") == ["d1/BTC/a", "d1/BTC/b", "d1/ETH/a"]
    assert backend.list("") == ["d1/BTC/a", "d1/BTC/b", "d1/ETH/a", "d2/BTC/a"]
    assert backend.exists("d2/BTC/a") and not backend.exists("d3")
    backend.delete("d2/BTC/a")
    backend.delete("d2/BTC/a")
    assert not backend.exists("d2/BTC/a")
    with pytest.raises(RemoteNotFoundError):
        backend.get("d2/BTC/a", tmp_path / "x")
    with pytest.raises(RemoteNotFoundError):
        backend.remote_checksum("d2/BTC/a")


class FailingParts:
    """A client whose second upload_part fails, as a dropped connection would."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.aborted = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def upload_part(self, **kwargs: Any) -> Any:
        if kwargs["PartNumber"] == 2:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="http://127.0.0.1")
        return self._client.upload_part(**kwargs)

    def abort_multipart_upload(self, **kwargs: Any) -> Any:
        self.aborted += 1
        return self._client.abort_multipart_upload(**kwargs)


def test_a_failed_multipart_upload_is_aborted_and_leaves_no_object(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    client = FailingParts(s3)
    backend = small_backend(client, bucket)
    with pytest.raises(TransientError):
        backend.put(write(tmp_path, "big", 11 * MiB), "big")
    assert client.aborted == 1
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert backend.list("") == []


class TamperAfterPut:
    """A client that lets another writer replace the object right after each PUT."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        result = self._client.put_object(**kwargs)
        self._client.put_object(
            Bucket=kwargs["Bucket"], Key=kwargs["Key"], Body=b"evil", ChecksumAlgorithm="SHA256"
        )
        return result


def test_an_object_changed_during_put_fails_verification_and_is_removed(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    backend = small_backend(TamperAfterPut(s3), bucket)
    with pytest.raises(IntegrityError, match="does not match"):
        backend.put(write(tmp_path, "f", 1000), "f")
    assert backend.list("") == []


@pytest.mark.parametrize("size", [1000, 11 * MiB])
def test_a_corrupted_stored_object_fails_on_get(
    s3: Any, bucket: str, tmp_path: Path, size: int
) -> None:
    backend = small_backend(s3, bucket)
    src = write(tmp_path, "f", size)
    original = backend.put(src, "f")
    # silent corruption: new bytes behind the backend's back, old metadata kept
    s3.put_object(
        Bucket=bucket,
        Key="models/f",
        Body=b"x" + src.read_bytes()[1:],
        Metadata={"sha256": original.sha256},
    )
    with pytest.raises(IntegrityError, match="models/f: downloaded bytes do not match"):
        backend.get("f", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.glob(".out.tmp-*")) == []


def test_bytes_not_matching_the_stored_s3_checksum_fail_on_get(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    backend = small_backend(s3, bucket)
    digest = base64.b64encode(hashlib.sha256(b"good").digest()).decode()
    # moto stores a declared checksum without checking it: a body that does not match it
    s3.put_object(
        Bucket=bucket,
        Key="models/f",
        Body=b"evil",
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=digest,
    )
    with pytest.raises(IntegrityError):
        backend.get("f", tmp_path / "out")


def test_a_missing_bucket_is_a_clear_config_error(s3: Any, tmp_path: Path) -> None:
    backend = small_backend(s3, "no-such-bucket-here")
    with pytest.raises(StorageConfigError, match=r"no-such-bucket-here.*does not exist"):
        backend.check_access()
    with pytest.raises(StorageConfigError, match="no-such-bucket-here"):
        backend.put(write(tmp_path, "f", 10), "f")


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "AccessDenied", "SignatureDoesNotMatch"])
def test_refused_credentials_are_a_config_error_without_the_keys(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASECRETKEYID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "VERYSECRET")
    client = s3_client(moto_endpoint)
    with Stubber(client) as stub:
        stub.add_client_error("head_bucket", service_error_code=code, http_status_code=403)
        with pytest.raises(StorageConfigError) as info:
            S3Backend(client, "bkt-x").check_access()
    text = str(info.value)
    assert "bkt-x" in text and "AKIASECRETKEYID" not in text and "VERYSECRET" not in text


def test_an_unreachable_endpoint_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    client = s3_client("http://127.0.0.1:9", max_attempts=1)
    with pytest.raises(TransientError, match="bkt-x"):
        S3Backend(client, "bkt-x").check_access()
