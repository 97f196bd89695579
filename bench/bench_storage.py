"""Upload throughput with verification vs a raw upload of the same bytes, on local servers.

Run: `.venv/bin/python bench/bench_storage.py [--large-mb 300] [--small-count 200]`.
"""

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dropbox
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrain_assets.adapters.hashing import file_digests, sha256_file
from retrain_assets.adapters.storage.dropbox_backend import DropboxBackend
from retrain_assets.adapters.storage.limiter import RateLimiter
from retrain_assets.adapters.storage.s3_backend import S3Backend
from tests.fakes.fake_dropbox import local_dropbox_session, running_fake_dropbox
from tests.fakes.moto_s3 import FAKE_ENV, start_moto

MiB = 1024 * 1024
PART = 16 * MiB


REPEAT = 1


def timed(fn: Callable[[], Any]) -> float:
    """The best wall time of `REPEAT` runs (the first run also warms the server up)."""
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def report(label: str, nbytes: int, raw_s: float, verified_s: float) -> None:
    mb = nbytes / 1e6
    print(
        f"{label:<28} raw {mb / raw_s:8.1f} MB/s  verified {mb / verified_s:8.1f} MB/s  "
        f"verified/raw throughput {raw_s / verified_s:5.2f}  ({raw_s:.2f}s vs {verified_s:.2f}s)"
    )


def raw_s3_put(client: Any, bucket: str, path: Path, key: str) -> None:
    """A plain upload: one PUT, or a multipart upload without checksums or a read-back."""
    if path.stat().st_size <= 64 * MiB:
        with path.open("rb") as body:
            client.put_object(Bucket=bucket, Key=key, Body=body)
        return
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    with path.open("rb") as handle:
        while chunk := handle.read(PART):
            n = len(parts) + 1
            etag = client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=chunk
            )["ETag"]
            parts.append({"PartNumber": n, "ETag": etag})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )


def raw_dropbox_put(client: dropbox.Dropbox, path: Path, target: str, chunk: int) -> None:
    """A plain upload: files_upload, or an upload session, no temp name, no read-back."""
    mode = dropbox.files.WriteMode.overwrite
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size <= 32 * MiB:
            client.files_upload(handle.read(), target, mode=mode)
            return
        session = client.files_upload_session_start(handle.read(chunk))
        offset = chunk
        while size - offset > chunk:
            cursor = dropbox.files.UploadSessionCursor(session.session_id, offset)
            client.files_upload_session_append_v2(handle.read(chunk), cursor)
            offset += chunk
        cursor = dropbox.files.UploadSessionCursor(session.session_id, offset)
        commit = dropbox.files.CommitInfo(target, mode=mode)
        client.files_upload_session_finish(handle.read(), cursor, commit)


def bench_s3(large: Path, smalls: list[Path]) -> None:
    import boto3

    os.environ.update(FAKE_ENV)
    server, url = start_moto()
    try:
        raw_cfg = Config(request_checksum_calculation="when_required")
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=raw_cfg)
        client.create_bucket(Bucket="bench-raw")
        client.create_bucket(Bucket="bench-verified")
        backend = S3Backend(client, "bench-verified", part_size=PART)
        raw = timed(lambda: raw_s3_put(client, "bench-raw", large, "large"))
        ver = timed(lambda: backend.put(large, "large"))
        report("S3 (moto) large", large.stat().st_size, raw, ver)
        total = sum(p.stat().st_size for p in smalls)
        raw = timed(lambda: [raw_s3_put(client, "bench-raw", p, p.name) for p in smalls])
        ver = timed(lambda: [backend.put(p, p.name) for p in smalls])
        report(f"S3 (moto) {len(smalls)} small", total, raw, ver)
    finally:
        server.stop()


def bench_dropbox(large: Path, smalls: list[Path]) -> None:
    with running_fake_dropbox() as server:
        session = local_dropbox_session(server.port)
        token = next(iter(server.accounts.static_tokens))
        client = dropbox.Dropbox(oauth2_access_token=token, session=session, max_retries_on_error=0)
        limiter = RateLimiter(10**9, 1.0)  # measure the protocol, not the 600/600 s budget
        backend = DropboxBackend(client, root="/bench-verified", limiter=limiter)
        chunk = backend.chunk_size
        raw = timed(lambda: raw_dropbox_put(client, large, "/bench-raw/large", chunk))
        ver = timed(lambda: backend.put(large, "large"))
        report("Dropbox (fake) large", large.stat().st_size, raw, ver)
        total = sum(p.stat().st_size for p in smalls)
        raw = timed(
            lambda: [raw_dropbox_put(client, p, f"/bench-raw/{p.name}", chunk) for p in smalls]
        )
        ver = timed(lambda: [backend.put(p, p.name) for p in smalls])
        report(f"Dropbox (fake) {len(smalls)} small", total, raw, ver)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large-mb", type=int, default=300, help="size of the large file, MB")
    parser.add_argument("--small-count", type=int, default=200, help="number of small files")
    parser.add_argument("--small-kib", type=int, default=64, help="size of each small file, KiB")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; best kept")
    parser.add_argument("--only", choices=["s3", "dropbox"], help="run one backend only")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        large = Path(tmp) / "large.bin"
        with large.open("wb") as handle:
            for _ in range(args.large_mb):
                handle.write(os.urandom(1_000_000))
        smalls = []
        for i in range(args.small_count):
            path = Path(tmp) / f"small-{i:04d}.bin"
            path.write_bytes(os.urandom(args.small_kib * 1024))
            smalls.append(path)
        size_mb = large.stat().st_size / 1e6
        sha_s = timed(lambda: sha256_file(large))
        both_s = timed(lambda: file_digests(large))
        print(
            f"hashing {size_mb:.0f} MB: sha256 {sha_s:.2f}s ({size_mb / sha_s:.0f} MB/s), "
            f"sha256 + Dropbox content hash in one pass {both_s:.2f}s ({size_mb / both_s:.0f} MB/s)"
        )
        if args.only in (None, "s3"):
            bench_s3(large, smalls)
        if args.only in (None, "dropbox"):
            bench_dropbox(large, smalls)


if __name__ == "__main__":
    main()
