"""Artifacts in an S3 bucket, each upload checked with SHA-256 checksums."""

import base64
import hashlib
from functools import partial
from pathlib import Path
from typing import Any

from retrain_assets.adapters.hashing import READ_CHUNK, sha256_file
from retrain_assets.adapters.storage.base import (
    Received,
    RemoteNotFoundError,
    RemoteObject,
    clean_remote_path,
    commit_verified,
)
from retrain_assets.adapters.storage.s3_errors import s3_errors
from retrain_assets.core.errors import IntegrityError

MiB = 1024 * 1024
SHA_META = "sha256"


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class S3Backend:
    """Store artifacts under `s3://bucket/prefix/`.

    Single PUTs carry `ChecksumSHA256`; multipart uploads carry one per part and abort on any
    failure. Every object also gets its full-object SHA-256 as `x-amz-meta-sha256`, because a
    multipart object's S3 checksum is a composite (`<b64>-<parts>`).

    Args:
        client: A boto3 S3 client.
        bucket: The bucket name.
        prefix: A key prefix under which everything is stored.
        multipart_threshold: Files larger than this use a multipart upload.
        part_size: The part size of multipart uploads (at least 5 MiB on real S3).
    """

    name = "s3"

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        multipart_threshold: int = 64 * MiB,
        part_size: int = 16 * MiB,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size

    def _key(self, remote_path: str) -> str:
        rel = clean_remote_path(remote_path)
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def uri(self, remote_path: str) -> str:
        """Return `s3://bucket/key`."""
        return f"s3://{self.bucket}/{self._key(remote_path)}"

    def put(self, local_path: Path, remote_path: str) -> RemoteObject:
        """Upload a file and check the stored checksums against the local bytes.

        Raises:
            IntegrityError: The stored checksum or SHA-256 metadata differ; the object is deleted.
            TransientError: S3 kept failing after botocore's retries.
            StorageConfigError: The bucket is missing or the credentials are refused.
        """
        local_path = Path(local_path)
        key = self._key(remote_path)
        size = local_path.stat().st_size
        sha_hex = sha256_file(local_path)
        if size > self.multipart_threshold:
            expected_checksum = self._put_multipart(local_path, key, sha_hex)
        else:
            expected_checksum = _b64(bytes.fromhex(sha_hex))
            with s3_errors(self.bucket, "put", key), local_path.open("rb") as body:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=expected_checksum,
                    Metadata={SHA_META: sha_hex},
                )
        verified = self._verify(key, sha_hex, expected_checksum)
        return RemoteObject(
            self.name,
            self.uri(remote_path),
            clean_remote_path(remote_path),
            sha_hex,
            size,
            verified,
        )

    def _put_multipart(self, local_path: Path, key: str, sha_hex: str) -> str:
        with s3_errors(self.bucket, "create multipart upload", key):
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                ChecksumAlgorithm="SHA256",
                Metadata={SHA_META: sha_hex},
            )["UploadId"]
        try:
            with s3_errors(self.bucket, "multipart upload", key):
                parts, digests = self._upload_parts(local_path, key, upload_id)
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            with s3_errors(self.bucket, "abort multipart upload", key):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return f"{_b64(hashlib.sha256(b''.join(digests)).digest())}-{len(digests)}"

    def _upload_parts(
        self, local_path: Path, key: str, upload_id: str
    ) -> tuple[list[dict[str, Any]], list[bytes]]:
        parts: list[dict[str, Any]] = []
        digests: list[bytes] = []
        with local_path.open("rb") as handle:
            while chunk := handle.read(self.part_size):
                digest = hashlib.sha256(chunk).digest()
                number = len(parts) + 1
                response = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=_b64(digest),
                )
                parts.append(
                    {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": _b64(digest)}
                )
                digests.append(digest)
        return parts, digests

    def _head(self, key: str) -> dict[str, Any]:
        with s3_errors(self.bucket, "head", key):
            return self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")

    def _verify(self, key: str, sha_hex: str, expected_checksum: str) -> bool:
        head = self._head(key)
        stored = head.get("ChecksumSHA256")
        meta_ok = head.get("Metadata", {}).get(SHA_META) == sha_hex
        # a composite checksum may come back with or without its "-<parts>" suffix
        checksum_ok = stored is None or stored.split("-")[0] == expected_checksum.split("-")[0]
        if not (meta_ok and checksum_ok):
            with s3_errors(self.bucket, "delete", key):
                self.client.delete_object(Bucket=self.bucket, Key=key)
            raise IntegrityError(f"s3://{self.bucket}/{key}: stored checksum does not match")
        return stored is not None

    def get(self, remote_path: str, dest: Path) -> Path:
        """Download to a temp file, re-hash it against the stored SHA-256, rename into place.

        Raises:
            RemoteNotFoundError: No object at `remote_path`.
            IntegrityError: The downloaded bytes do not match the stored checksums.
        """
        key = self._key(remote_path)
        return commit_verified(self.uri(remote_path), dest, partial(self._download, key))

    def _download(self, key: str, temp: Path) -> Received | None:
        """Stream `key` into `temp`, hashing on the way; None when no full SHA-256 is stored."""
        with s3_errors(self.bucket, "get", key):
            response = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            digest = hashlib.sha256()
            with temp.open("wb") as handle:
                for chunk in response["Body"].iter_chunks(READ_CHUNK):
                    digest.update(chunk)
                    handle.write(chunk)
        expected = _full_sha256(response)
        return None if expected is None else Received(digest.hexdigest(), expected)

    def exists(self, remote_path: str) -> bool:
        """Tell whether an object is stored at `remote_path`."""
        try:
            self._head(self._key(remote_path))
        except RemoteNotFoundError:
            return False
        return True

    def list(self, prefix: str) -> list[str]:
        """Return the sorted remote paths starting with `prefix`."""
        base = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        with s3_errors(self.bucket, "list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base + prefix
            )
            for page in pages:
                found.extend(item["Key"][len(base) :] for item in page.get("Contents", []))
        return sorted(found)

    def delete(self, remote_path: str) -> None:
        """Delete an object; a missing one is fine."""
        key = self._key(remote_path)
        with s3_errors(self.bucket, "delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def remote_checksum(self, remote_path: str) -> str:
        """Return the stored full-object SHA-256 (hex), from metadata or S3's own checksum.

        Raises:
            IntegrityError: The object has neither (a foreign multipart object).
        """
        head = self._head(self._key(remote_path))
        found = _full_sha256(head)
        if found is None:
            raise IntegrityError(f"{self.uri(remote_path)}: no full-object SHA-256 stored")
        return found

    def check_access(self) -> None:
        """Prove the credentials work and the bucket exists (one HeadBucket call)."""
        with s3_errors(self.bucket, "check access"):
            self.client.head_bucket(Bucket=self.bucket)


def _full_sha256(head: dict[str, Any]) -> str | None:
    """The full-object hex SHA-256 of a head/get response, or None when not recorded."""
    if SHA_META in head.get("Metadata", {}):
        return str(head["Metadata"][SHA_META]).lower()
    stored = head.get("ChecksumSHA256")
    if stored and "-" not in stored:
        return base64.b64decode(stored).hex()
    return None
