"""The artifact store resource: picks a storage backend (local, Dropbox, S3) for each run.

Secrets never sit in resource config: credentials are read with `dg.EnvVar(name).get_value()`
when a backend is built, inside a run, a sensor tick or the CLI's start-up check, so an unset
variable only matters to the driver that needs it, and the UI shows nothing but the names.
"""

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import requests
from pydantic import Field, PrivateAttr
from requests.adapters import HTTPAdapter

from resources.settings import setting
from retrain_assets.adapters.storage import LocalBackend, StorageBackend, StorageConfigError
from retrain_assets.adapters.storage.base import RemoteObject
from retrain_assets.vocabulary.tags import DRIVER_TAG, tag_value

if TYPE_CHECKING:  # the SDKs load only for the driver that uses them (~0.3 s of imports)
    from retrain_assets.adapters.storage.dropbox_backend import DropboxBackend
    from retrain_assets.adapters.storage.s3_backend import S3Backend

DROPBOX_ENV = {
    "access_token": "DROPBOX_ACCESS_TOKEN",
    "refresh_token": "DROPBOX_REFRESH_TOKEN",
    "app_key": "DROPBOX_APP_KEY",
    "app_secret": "DROPBOX_APP_SECRET",
}
DROPBOX_HOSTS = ("api.dropboxapi.com", "content.dropboxapi.com", "api.dropbox.com")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class StorageDriver(StrEnum):
    """Where run artifacts are uploaded."""

    LOCAL = "local"
    DROPBOX = "dropbox"
    S3 = "s3"


def parse_driver(value: str | None) -> StorageDriver:
    """The driver named by `value` (case-insensitive), or a StorageConfigError naming choices."""
    try:
        return StorageDriver(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(d.value for d in StorageDriver)
        raise StorageConfigError(f"unknown storage driver {value!r}; choose {choices}") from None


class InPlaceLocalBackend(LocalBackend):
    """The `local` driver without a separate store: the artifact root is the store.

    A file already at its final path is re-hashed instead of copied onto itself.
    """

    def put(self, local_path: Path, remote_path: str) -> RemoteObject:
        """Verify a file in place, or copy it like `LocalBackend` when it lives elsewhere."""
        target = self._path(remote_path)
        if target.exists() and target.samefile(local_path):
            from retrain_assets.adapters.hashing import sha256_file

            digest = sha256_file(target)
            size = target.stat().st_size
            return RemoteObject(self.name, self.uri(remote_path), remote_path, digest, size, True)
        return super().put(local_path, remote_path)


class _LoopbackAdapter(HTTPAdapter):
    """Send requests for Dropbox's API hosts to a local test server over plain HTTP."""

    def __init__(self, netloc: str) -> None:
        super().__init__()
        self._netloc = netloc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname in DROPBOX_HOSTS:
            request.url = urlunsplit(("http", self._netloc, parts.path, parts.query, ""))
            request.headers["Host"] = self._netloc
        return super().send(request, **kwargs)


def loopback_dropbox_session(api_url: str) -> requests.Session:
    """A session routing the Dropbox API hosts to `api_url`, which must be on 127.0.0.1.

    Raises:
        StorageConfigError: The URL is not a loopback address (tokens would travel in clear).
    """
    parts = urlsplit(api_url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise StorageConfigError("Dropbox API override must be http://127.0.0.1:PORT (tests only)")
    session = requests.Session()
    adapter = _LoopbackAdapter(parts.netloc)
    for host in DROPBOX_HOSTS:
        session.mount(f"https://{host}", adapter)
    return session


class StorageResource(dg.ConfigurableResource):
    """The artifact store: which driver uploads run artifacts, and where.

    A run's driver tag (`DRIVER_TAG`, set by the CLI's `--driver`) overrides `driver`.
    """

    driver: str | None = Field(
        default=None,
        description="local, dropbox or s3; unset: $RETRAIN_STORAGE_DRIVER, else local.",
    )
    remote_prefix: str = Field(
        default="models", description="Remote path prefix: {prefix}/{SYMBOL}/{run folder}/{file}."
    )
    local_root: str | None = Field(
        default=None,
        description="local driver: a store folder; unset: $RETRAIN_LOCAL_STORE_ROOT, else the "
        "artifact root itself (files are verified in place).",
    )
    dropbox_root: str | None = Field(
        default=None,
        description="Dropbox folder; unset: $RETRAIN_DROPBOX_ROOT, else /retrain-assets.",
    )
    dropbox_api_url: str | None = Field(
        default=None,
        description="Tests only: http://127.0.0.1:PORT of a fake Dropbox; unset: "
        "$RETRAIN_DROPBOX_API_URL. Credentials come from DROPBOX_* environment variables.",
    )
    s3_bucket: str | None = Field(default=None, description="S3 bucket; unset: $RETRAIN_S3_BUCKET.")
    s3_prefix: str | None = Field(
        default=None, description="Key prefix inside the bucket; unset: $RETRAIN_S3_PREFIX."
    )
    s3_region: str | None = Field(
        default=None, description="AWS region; unset: $AWS_REGION / $AWS_DEFAULT_REGION."
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="S3-compatible endpoint; unset: $AWS_ENDPOINT_URL_S3, else AWS. Credentials "
        "come from the standard AWS variables, profile or instance role.",
    )
    max_retries: int | None = Field(
        default=None,
        description="Retries per remote call; unset: $RETRAIN_STORAGE_MAX_RETRIES, else 5.",
    )
    retry_base_delay: float | None = Field(
        default=None,
        description="First retry backoff (s); unset: $RETRAIN_STORAGE_RETRY_BASE_DELAY, else 0.5.",
    )
    _backends: dict[tuple[str, str], StorageBackend] = PrivateAttr(default_factory=dict)

    def driver_for(self, tags: Mapping[str, str] | None = None) -> StorageDriver:
        """The driver of a run: its driver tag, else config, env, `local`."""
        tagged = tag_value(tags or {}, DRIVER_TAG)
        return parse_driver(tagged or setting(self.driver, "RETRAIN_STORAGE_DRIVER", "local"))

    def remote_path(self, symbol: str, run_folder: str, name: str) -> str:
        """`{prefix}/{SYMBOL}/{YYYYMMDD_HHMMSSZ}_{run8}/{file}`."""
        prefix = self.remote_prefix.strip("/")
        return "/".join(p for p in (prefix, symbol, run_folder, name) if p)

    def backend(self, driver: str | StorageDriver, artifact_root: Path) -> StorageBackend:
        """The (cached) backend for `driver`; credentials are read from the environment now.

        Raises:
            StorageConfigError: Missing credentials or settings, named without their values.
        """
        chosen = parse_driver(driver)
        key = (chosen.value, str(artifact_root))
        if key not in self._backends:
            self._backends[key] = self._build(chosen, artifact_root)
        return self._backends[key]

    def check_access(self, driver: str | StorageDriver, artifact_root: Path) -> str:
        """Prove that `driver` can be used (credentials, bucket or folder); return its name.

        Raises:
            StorageConfigError: The store is unusable; the message names it, never a secret.
            TransientError: The store could not be reached after the retries.
        """
        backend = self.backend(driver, artifact_root)
        backend.check_access()
        return backend.name

    def _build(self, driver: StorageDriver, artifact_root: Path) -> StorageBackend:
        if driver is StorageDriver.DROPBOX:
            return self._dropbox()
        if driver is StorageDriver.S3:
            return self._s3()
        root = setting(self.local_root, "RETRAIN_LOCAL_STORE_ROOT", None)
        if root:
            return LocalBackend(Path(root).expanduser())
        return InPlaceLocalBackend(artifact_root)

    def _retries(self) -> tuple[int, float]:
        retries = setting(_text(self.max_retries), "RETRAIN_STORAGE_MAX_RETRIES", "5")
        delay = setting(_text(self.retry_base_delay), "RETRAIN_STORAGE_RETRY_BASE_DELAY", "0.5")
        try:
            return max(0, int(str(retries))), max(0.0, float(str(delay)))
        except ValueError:
            raise StorageConfigError("storage retry settings must be numbers") from None

    def _dropbox(self) -> "DropboxBackend":
        from retrain_assets.adapters.storage.dropbox_backend import (
            DropboxBackend,
            build_dropbox_client,
        )

        creds = {field: dg.EnvVar(name).get_value() for field, name in DROPBOX_ENV.items()}
        api_url = setting(self.dropbox_api_url, "RETRAIN_DROPBOX_API_URL", None)
        session = loopback_dropbox_session(api_url) if api_url else None
        client = build_dropbox_client(**creds, session=session, timeout=60.0)
        root = setting(self.dropbox_root, "RETRAIN_DROPBOX_ROOT", "/retrain-assets")
        retries, delay = self._retries()
        return DropboxBackend(client, root=str(root), max_retries=retries, base_delay=delay)

    def _s3(self) -> "S3Backend":
        from dagster_aws.s3 import S3Resource

        from retrain_assets.adapters.storage.s3_backend import S3Backend

        bucket = setting(self.s3_bucket, "RETRAIN_S3_BUCKET", None)
        if not bucket:
            raise StorageConfigError("S3: no bucket configured; set RETRAIN_S3_BUCKET")
        region = setting(self.s3_region, "AWS_REGION", None) or setting(
            None, "AWS_DEFAULT_REGION", None
        )
        retries, _ = self._retries()
        client = S3Resource(
            region_name=region,
            endpoint_url=setting(self.s3_endpoint_url, "AWS_ENDPOINT_URL_S3", None),
            max_attempts=retries + 1,
        ).get_client()
        prefix = setting(self.s3_prefix, "RETRAIN_S3_PREFIX", "")
        return S3Backend(client, str(bucket), prefix=str(prefix))


def _text(value: float | None) -> str | None:
    return None if value is None else str(value)
