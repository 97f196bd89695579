"""A `--submit` deployment's webserver: its GraphQL endpoint, every request retried.

Plain GraphQL over HTTP (`POST {url}/graphql`, `Webserver.query`) and the `dagster_graphql`
client (`Webserver.call`) share one retry policy. Every request has a timeout; connection
errors, timeouts and 5xx answers are retried with backoff. Until the deployment has answered
once, a few times: a wrong URL is a one-line `DeploymentError` (bad input) that names
`--submit` and the URL (never credentials, never a traceback). Once it has answered, for
`patience_s` (`RETRAIN_SUBMIT_PATIENCE_SECONDS`, 120 s by default), so a restarting webserver is
waited for; past that the deployment is lost (`DeploymentLost`), while its runs may go on there.
"""

import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

from retrain_assets.core.errors import PermanentError, RetrainError
from retrain_assets.launcher.endpoint import DeploymentError, parse_url
from retrain_assets.launcher.outcome import DeploymentLost

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 0.5
PATIENCE_ENV = "RETRAIN_SUBMIT_PATIENCE_SECONDS"
# A webserver pod's restart with room to spare (`dagster-webserver` restarts in ~4-6 s here).
DEFAULT_PATIENCE_S = 120.0
MAX_PATIENCE_S = 86_400.0
# The longest wait between two attempts during an outage: a webserver back is seen within it.
MAX_OUTAGE_PAUSE_S = 2.0
MAX_REASON = 300
_UNANSWERED = "could not reach the webserver"


class Webserver:
    """A Dagster webserver reached at a `--submit` URL.

    Args:
        url: The webserver's base URL, e.g. `http://127.0.0.1:3000` (a missing scheme means
            http; a trailing `/graphql` is ignored; a path is a path prefix).
        timeout_s: Timeout of each HTTP request.
        retries: Further attempts after a connection error, a timeout or a 5xx answer.
        backoff_s: The first wait between attempts; doubled after each.
        headers: Extra HTTP headers (e.g. an API token), sent with every request.
        patience_s: Once the deployment has answered, how long a request is retried before
            the deployment counts as lost (default: `$RETRAIN_SUBMIT_PATIENCE_SECONDS`, else
            120 s); the bound is this plus the last attempt's `timeout_s`. 0: `retries` only.

    Raises:
        PermanentError: `url` is not an http(s) URL of a host, or the patience is not a
            number of seconds.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = DEFAULT_BACKOFF_S,
        headers: Mapping[str, str] | None = None,
        patience_s: float | None = None,
    ) -> None:
        self.endpoint = parse_url(url)
        self.patience_s = patience_from_env() if patience_s is None else max(0.0, patience_s)
        self._answered = False  # whether any request got through: then an outage is awaited
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._session = requests.Session()
        self._session.headers.update(dict(headers or {}))
        self._client = DagsterGraphQLClient(
            self.endpoint.netloc_host,
            port_number=self.endpoint.port,
            use_https=self.endpoint.scheme == "https",
            timeout=max(1, round(timeout_s)),
            headers=dict(headers or {}) or None,
            path_prefix=self.endpoint.path_prefix,
        )

    @property
    def url(self) -> str:
        """The deployment's base URL."""
        return self.endpoint.url

    def query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL request (retried while it fails transiently); its `data`.

        Raises:
            DeploymentError: the answer is not GraphQL, or names an error.
            DeploymentLost: the deployment answered before, then not for `patience_s`.
        """
        response = self._with_retries(_UNANSWERED, lambda: self._post(query, variables))
        try:
            body = response.json()
        except ValueError:
            raise DeploymentError(
                f"--submit {self.url}: the answer from /graphql is not JSON"
                " (is this a Dagster webserver?)"
            ) from None
        if not isinstance(body, dict):
            raise DeploymentError(f"--submit {self.url}: unexpected answer from /graphql")
        if body.get("errors"):
            first = body["errors"][0]
            message = first.get("message") if isinstance(first, dict) else first
            raise DeploymentError(f"--submit {self.url}: GraphQL error: {one_line(message)}")
        return body.get("data") or {}

    def call(
        self,
        failure: str,
        call: Callable[[DagsterGraphQLClient], T],
        recover: Callable[[], T | None] | None = None,
    ) -> T:
        """`call(client)` with the `dagster_graphql` client, retried like `query`.

        After each transient failure `recover()` (when given) looks for what the request did
        if it reached the server before its connection dropped: a result there ends the call.
        `failure` says what did not happen when the deployment stays unreachable.

        Raises:
            DagsterGraphQLClientError: the deployment refused the request.
        """
        with _quiet_client():
            return self._with_retries(failure, lambda: call(self._client), recover)

    def _post(self, query: str, variables: Mapping[str, Any] | None) -> requests.Response:
        response = self._session.post(
            self.endpoint.graphql_url,
            json={"query": query, "variables": dict(variables or {})},
            timeout=self.timeout_s,
        )
        if response.status_code >= 500 or response.status_code == 429:
            raise _ServerBusy(f"HTTP {response.status_code}")
        if response.status_code == 404:
            raise DeploymentError(
                f"--submit {self.url}: no GraphQL endpoint at /graphql (HTTP 404):"
                " is this a Dagster webserver?"
            )
        if response.status_code in (401, 403):
            raise DeploymentError(
                f"--submit {self.url}: HTTP {response.status_code}: not authorized"
            )
        if not response.ok:
            raise DeploymentError(f"--submit {self.url}: HTTP {response.status_code} from /graphql")
        return response

    def _with_retries(
        self,
        failure: str,
        call: Callable[[], T],
        recover: Callable[[], T | None] | None = None,
    ) -> T:
        """`call()`, retried with exponential backoff while it fails transiently."""
        outage = _Outage()
        while True:
            try:
                result = call()
                self._answered = True
                return result
            except (requests.ConnectionError, requests.Timeout) as exc:
                outage.failed(type(exc).__name__)
            except _ServerBusy as exc:
                outage.failed(str(exc))
            except DagsterGraphQLClientError as exc:
                if not _transient(exc):
                    raise
                outage.failed(_cause_name(exc))
            found = recover() if recover is not None else None
            if found is not None:
                return found
            pause = self._pause(outage)
            if pause is None:
                raise self._unreachable(outage, failure)
            time.sleep(pause)

    def _pause(self, outage: "_Outage") -> float | None:
        """The wait before the next attempt of a failing request; None: give up.

        Until the deployment has answered once, `retries` more attempts (a wrong URL fails in
        seconds); after, attempts go on until the outage is `patience_s` old, at most
        `MAX_OUTAGE_PAUSE_S` apart, so a webserver back is noticed within that.
        """
        backoff = self.backoff_s * 2 ** (outage.attempts - 1)
        if not self._answered or self.patience_s <= 0:
            return backoff if outage.attempts <= self.retries else None
        left = self.patience_s - outage.age_s
        return min(backoff, MAX_OUTAGE_PAUSE_S, left) if left > 0 else None

    def _unreachable(self, outage: "_Outage", failure: str) -> RetrainError:
        """A lost deployment once it had answered; else a one-line `DeploymentError`."""
        if self._answered:
            return DeploymentLost(self.url, outage.since, outage.age_s, outage.last)
        if failure == _UNANSWERED:
            failure = "no Dagster webserver answered"
        return DeploymentError(f"--submit {self.url}: {failure} ({outage.last})")


class _Outage:
    """A spell of failed attempts at one request: since when, how many, the last failure."""

    def __init__(self) -> None:
        self.attempts = 0
        self.last = ""
        self.since = 0.0  # epoch seconds of the first failure
        self._began = 0.0  # monotonic seconds of the first failure

    def failed(self, why: str) -> None:
        """Count one failed attempt."""
        if not self.attempts:
            self.since, self._began = time.time(), time.monotonic()
        self.attempts += 1
        self.last = why

    @property
    def age_s(self) -> float:
        """Seconds since the first failure."""
        return time.monotonic() - self._began


class _ServerBusy(Exception):
    """A 5xx or 429 answer: worth another attempt."""


@contextmanager
def _quiet_client() -> Iterator[None]:
    """Silence two deprecation warnings the client raises about itself on every call.

    It flags `dagster/partition/<dimension>` as a non-compliant tag key (it is the tag Dagster
    itself puts on every multi-partition run), and its `gql` dependency flags how the client
    passes variables.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Non-compliant tag keys", DeprecationWarning)
        warnings.filterwarnings("ignore", "Using variable_values", DeprecationWarning)
        yield


def patience_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """`$RETRAIN_SUBMIT_PATIENCE_SECONDS`, else `DEFAULT_PATIENCE_S`: how long a deployment that
    answered may stay unreachable before `--submit` gives it up.

    Raises:
        PermanentError: not a number of seconds from 0 to a day (the message names it).
    """
    text = environ.get(PATIENCE_ENV, "").strip()
    if not text:
        return DEFAULT_PATIENCE_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= MAX_PATIENCE_S:  # also refuses nan
        raise PermanentError(
            f"{PATIENCE_ENV}={text!r}: expected seconds from 0 to {MAX_PATIENCE_S:.0f}"
        )
    return value


def _transient(exc: DagsterGraphQLClientError) -> bool:
    cause = exc.__cause__
    if isinstance(cause, requests.ConnectionError | requests.Timeout):
        return True
    code = getattr(cause, "code", None)
    return isinstance(code, int) and (code >= 500 or code == 429)


def _cause_name(exc: DagsterGraphQLClientError) -> str:
    cause = exc.__cause__
    code = getattr(cause, "code", None)
    return f"HTTP {code}" if isinstance(code, int) else type(cause or exc).__name__


def client_reason(exc: DagsterGraphQLClientError) -> str:
    """Why the client's request was refused, in one line."""
    kind = str(exc.args[0]) if exc.args else type(exc).__name__
    detail = exc.body if exc.body is not None else (exc.args[1] if len(exc.args) > 1 else "")
    return f"{kind}: {one_line(str(detail))}" if detail else one_line(kind)


def one_line(text: object) -> str:
    """The text with its whitespace (newlines included) collapsed, at most MAX_REASON long."""
    return " ".join(str(text or "").split())[:MAX_REASON]
