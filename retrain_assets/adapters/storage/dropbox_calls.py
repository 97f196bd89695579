"""The Dropbox client factory and one guarded call: rate-limited, retried, errors mapped."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import dropbox
import requests
from dropbox import exceptions as dbx_exc
from dropbox import files as dbx_files
from dropbox.exceptions import ApiError

from retrain_assets.adapters.storage.base import StorageConfigError
from retrain_assets.adapters.storage.limiter import RateLimiter
from retrain_assets.adapters.storage.retry import Sleep, retry_call
from retrain_assets.core.errors import TransientError

T = TypeVar("T")

RETRYABLE = (
    dbx_exc.RateLimitError,
    dbx_exc.InternalServerError,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def build_dropbox_client(
    *,
    access_token: str | None = None,
    refresh_token: str | None = None,
    app_key: str | None = None,
    app_secret: str | None = None,
    session: requests.Session | None = None,
    max_retries_on_rate_limit: int = 0,
    max_retries_on_error: int = 0,
    timeout: float = 100.0,
) -> dropbox.Dropbox:
    """Build a Dropbox client, preferring a refresh token with the app key (and secret).

    The SDK retries rate limits forever by default and sleeps with `time.sleep`; both retry
    budgets default to 0 here because `DropboxBackend` owns retries (Retry-After, a bounded
    budget, an injectable sleep) and counts every attempt in its rate limiter.

    Args:
        access_token: A (short-lived) access token, used when no refresh token is given.
        refresh_token: A long-lived refresh token; needs `app_key`.
        app_key: The app key, needed for refreshing.
        app_secret: The app secret; optional for PKCE refresh tokens.
        session: A `requests.Session` to send requests through (tests point it at a fake).
        max_retries_on_rate_limit: The SDK's own retries on 429.
        max_retries_on_error: The SDK's own retries on 5xx.
        timeout: Seconds to wait for any single packet.

    Returns:
        A client; no request has been made yet.

    Raises:
        StorageConfigError: Neither a refresh token with an app key nor an access token given.
    """
    if refresh_token and not app_key:
        raise StorageConfigError("Dropbox: a refresh token needs the app key (DROPBOX_APP_KEY)")
    if not refresh_token and not access_token:
        raise StorageConfigError(
            "Dropbox: no credentials: set a refresh token and app key, or an access token"
        )
    return dropbox.Dropbox(
        oauth2_access_token=access_token,
        oauth2_refresh_token=refresh_token,
        app_key=app_key,
        app_secret=app_secret,
        session=session,
        max_retries_on_error=max_retries_on_error,
        max_retries_on_rate_limit=max_retries_on_rate_limit,
        timeout=timeout,
    )


def is_not_found(exc: ApiError, tag: str) -> bool:
    """Tell whether a route error is `<tag>/not_found` (e.g. `path/not_found`)."""
    err = exc.error
    if getattr(err, "_tag", None) != tag:
        return False
    return getattr(getattr(err, f"get_{tag}")(), "_tag", None) == "not_found"


def _retry_after(exc: BaseException) -> float | None:
    if isinstance(exc, dbx_exc.RateLimitError):
        return float(exc.backoff) if exc.backoff is not None else None
    return None


class DropboxCaller:
    """Make SDK calls through a shared rate limiter, with bounded retries.

    Args:
        limiter: Counts every HTTP attempt.
        max_retries: Retries after the first attempt, on 429, 5xx and lost connections.
        base_delay: The first backoff; 429s wait for the server's Retry-After instead.
        max_delay: The cap on any wait, Retry-After included.
        sleep: The sleep function (tests pass a recorder).
    """

    def __init__(
        self,
        limiter: RateLimiter,
        max_retries: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.limiter = limiter
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep

    def __call__(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `fn(*args, **kwargs)`; `what` names the call in error messages.

        Raises:
            StorageConfigError: Credentials were rejected.
            TransientError: The call kept failing after the retry budget.
            dropbox.exceptions.ApiError: A route error (not found, conflict...) for the caller.
        """

        def attempt() -> T:
            self.limiter.acquire()
            return fn(*args, **kwargs)

        try:
            return retry_call(
                attempt,
                attempts=self.max_retries + 1,
                base_delay=self.base_delay,
                max_delay=self.max_delay,
                retry_on=RETRYABLE,
                sleep=self.sleep,
                delay_hint=_retry_after,
            )
        except RETRYABLE as exc:
            raise TransientError(
                f"Dropbox {what}: still failing after {self.max_retries + 1} attempts "
                f"({type(exc).__name__})"
            ) from exc
        except dbx_exc.AuthError as exc:
            tag = getattr(exc.error, "_tag", "auth error")
            raise StorageConfigError(
                f"Dropbox {what}: credentials rejected ({tag}); check the refresh token, "
                "app key and app secret"
            ) from None
        except dbx_exc.BadInputError:
            raise StorageConfigError(
                f"Dropbox {what}: request rejected as bad input (an invalid app key or secret?)"
            ) from None
        except dbx_exc.HttpError as exc:
            raise TransientError(f"Dropbox {what}: HTTP {exc.status_code}") from None


def append_chunk(
    call: DropboxCaller, client: dropbox.Dropbox, session_id: str, offset: int, data: bytes
) -> int:
    """Append one chunk to an upload session and return the offset to continue from.

    An append whose response was lost has been applied; its retry gets `incorrect_offset`
    with the server's offset, from which the upload resumes.
    """
    cursor = dbx_files.UploadSessionCursor(session_id, offset)
    try:
        call("session append", client.files_upload_session_append_v2, data, cursor)
    except ApiError as exc:
        if exc.error.is_incorrect_offset():
            return exc.error.get_incorrect_offset().correct_offset
        raise
    return offset + len(data)
