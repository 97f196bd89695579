"""Mapping botocore failures onto the project's error classes, without leaking secrets."""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore import exceptions as bc_exc

from retrain_assets.adapters.storage.base import RemoteNotFoundError, StorageConfigError
from retrain_assets.core.errors import IntegrityError, TransientError

CONFIG_CODES = {
    "NoSuchBucket": "bucket does not exist",
    "AccessDenied": "access denied",
    "AllAccessDisabled": "access disabled",
    "InvalidAccessKeyId": "access key not recognised",
    "SignatureDoesNotMatch": "secret key does not match",
    "InvalidBucketName": "invalid bucket name",
    "403": "access denied",
}
NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchUpload"}


@contextmanager
def s3_errors(bucket: str, what: str, key: str | None = None) -> Iterator[None]:
    """Translate botocore errors raised inside the block.

    Args:
        bucket: The bucket, named in messages.
        what: The operation, named in messages.
        key: The object key, when the operation has one.

    Raises:
        StorageConfigError: Missing bucket, refused credentials or no credentials at all.
        RemoteNotFoundError: No object at the key.
        IntegrityError: botocore found a checksum mismatch on download.
        TransientError: Anything else a retry may fix (network, throttling, 5xx).
    """
    where = f"s3://{bucket}/{key}" if key else f"S3 bucket {bucket!r}"
    try:
        yield
    except bc_exc.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "404" and key is None:
            raise StorageConfigError(f"{where}: bucket does not exist") from None
        if code in NOT_FOUND_CODES:
            raise RemoteNotFoundError(f"{where}: not found") from None
        if code in CONFIG_CODES:
            raise StorageConfigError(f"{where}: {what}: {CONFIG_CODES[code]}") from None
        raise TransientError(f"{where}: {what} failed ({code or 'unknown error'})") from exc
    except bc_exc.FlexibleChecksumError:
        raise IntegrityError(
            f"{where}: downloaded bytes do not match the stored checksum"
        ) from None
    except (bc_exc.NoCredentialsError, bc_exc.PartialCredentialsError):
        raise StorageConfigError(f"{where}: no AWS credentials configured") from None
    except bc_exc.BotoCoreError as exc:
        raise TransientError(f"{where}: {what} failed ({type(exc).__name__})") from None
