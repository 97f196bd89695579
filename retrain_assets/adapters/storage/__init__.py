"""Artifact stores: a local folder, Dropbox and S3, each upload verified by checksum."""

from retrain_assets.adapters.storage.base import (
    RemoteNotFoundError,
    RemoteObject,
    StorageBackend,
    StorageConfigError,
)
from retrain_assets.adapters.storage.limiter import RateLimiter
from retrain_assets.adapters.storage.local import LocalBackend

__all__ = [
    "LocalBackend",
    "RateLimiter",
    "RemoteNotFoundError",
    "RemoteObject",
    "StorageBackend",
    "StorageConfigError",
]
