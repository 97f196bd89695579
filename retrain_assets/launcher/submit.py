"""`retrain --submit URL`: symbol-day runs sent to a running Dagster deployment's run queue.

Everything goes through public interfaces: the `dagster_graphql` client submits and terminates
runs, and plain GraphQL over HTTP (`POST {url}/graphql`) checks the deployment and reads the
invocation's runs back. A submitted run is an ordinary launch of the asset job with the
partition's tags (`dagster/partition` = `date|symbol`, as the UI and backfills set them), so the
deployment queues it, its daemon dequeues it and its run launcher executes it; this process
only waits and reports.

Every request has a timeout; connection errors, timeouts and 5xx answers are retried with
backoff. Until the deployment has answered once, a few times: a wrong URL is a one-line
`DeploymentError` (bad input) that names `--submit` and the URL (never credentials, never a
traceback). Once it has answered, for `patience_s` (`RETRAIN_SUBMIT_PATIENCE_SECONDS`, 120 s by
default), so a restarting webserver is waited for; past that the deployment is lost
(`DeploymentLost`), while its runs may go on there.
"""

import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import dagster as dg
import requests
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

from retrain_assets.core.errors import PermanentError, RetrainError
from retrain_assets.defs.partitions import split_partition_key
from retrain_assets.defs.records import ERROR_TYPE_ALIASES
from retrain_assets.defs.tags import (
    DATE_TAG,
    INVOCATION_TAG,
    PARTITION_TAG,
    SUBMISSION_TAG,
    SYMBOL_TAG,
    WILL_RETRY_TAG,
)
from retrain_assets.launcher.endpoint import DeploymentError, parse_url
from retrain_assets.launcher.outcome import DeploymentLost
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import State, SymbolStatus

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
SYMBOLS_DEF = "symbols"  # the dynamic partitions definition of the symbol dimension

# Dagster run status -> the launcher's state. A failed run that the daemon will retry is
# still pending (see `_state`).
_STATES: Mapping[str, State] = {
    "QUEUED": "pending",
    "NOT_STARTED": "pending",
    "MANAGED": "pending",
    "STARTING": "running",
    "STARTED": "running",
    "SUSPENDED": "running",
    "CANCELING": "running",
    "SUCCESS": "success",
    "FAILURE": "failed",
    "CANCELED": "canceled",
}

_FINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# A run that will still do its symbol-day's work (CANCELING ends CANCELED, doing none).
_ACTIVE_STATUSES = ("QUEUED", "NOT_STARTED", "MANAGED", "STARTING", "STARTED", "SUSPENDED")
# The job of asset runs launched from the UI (materialize, backfills).
ASSET_JOB = "__ASSET_JOB"
_STEP_STATS_FIELDS = "__typename ... on Run { stepStats { stepKey attempts { startTime } } }"
# Statuses in which Dagster refuses or defers a termination: ask again once started.
_NOT_YET_TERMINABLE = frozenset({"NOT_STARTED", "MANAGED", "QUEUED", "STARTING"})

_DEPLOYMENT_QUERY = """
query RetrainDeployment {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes { name location { name } jobs { name } assetNodes { assetKey { path } opVersion } }
    }
    ... on PythonError { message }
  }
  instance { runQueuingSupported daemonHealth { allDaemonStatuses { daemonType healthy } } }
}
"""

_RUNS_QUERY = """
query RetrainRuns($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs {
      results {
        runId status creationTime startTime endTime jobName
        assetSelection { path }
        tags { key value }
      }
    }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message }
  }
}
"""

_ERROR_FIELDS = "message className cause { message className cause { message className } }"
_REASON_FIELDS = f"""
  __typename
  ... on EventConnection {{
    events {{
      __typename
      ... on ExecutionStepFailureEvent {{
        message
        error {{ {_ERROR_FIELDS} }}
        failureMetadata {{
          description
          metadataEntries {{ label ... on TextMetadataEntry {{ text }} }}
        }}
      }}
      ... on RunFailureEvent {{ message error {{ {_ERROR_FIELDS} }} }}
      ... on RunCanceledEvent {{ message }}
    }}
  }}
  ... on RunNotFoundError {{ message }}
  ... on PythonError {{ message }}
"""


@dataclass(frozen=True)
class DeploymentInfo:
    """What `Deployment.check` found.

    Attributes:
        location: The code location holding the job(s).
        repository: The repository holding the job(s).
        jobs: Every job name in that repository.
        run_queuing: Whether the instance queues runs (QueuedRunCoordinator).
        daemon_healthy: Whether the daemon dequeuing runs reports healthy (None: unknown).
        code_versions: Each asset's code version there (its method and data source).
    """

    location: str
    repository: str
    jobs: tuple[str, ...]
    run_queuing: bool
    daemon_healthy: bool | None
    code_versions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteRun:
    """One run of an invocation as the deployment reports it.

    Attributes:
        run_id: The run.
        symbol: Its `dagster/partition/symbol`.
        date: Its `dagster/partition/date`.
        dagster_status: Dagster's status (QUEUED, STARTED, SUCCESS, FAILURE, ...).
        state: The launcher's state (pending, running, success, failed, canceled).
        created: Creation time (epoch seconds).
        started: Start time (epoch seconds), once started.
        ended: End time (epoch seconds), once finished.
        attempts: Attempts of its most-retried step (None before any step ran).
        error_type: Failure type, for failed and canceled runs.
        error: One-line reason, for failed and canceled runs.
        tags: Every tag of the run.
        job: Its job (`retrain_symbol_day`, `__ASSET_JOB` for the UI's, ...).
        assets: The asset keys it selected, as paths (empty: its job's every asset).
    """

    run_id: str
    symbol: str
    date: str
    dagster_status: str
    state: State
    created: float
    started: float | None = None
    ended: float | None = None
    attempts: int | None = None
    error_type: str | None = None
    error: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    job: str = ""
    assets: tuple[tuple[str, ...], ...] = ()

    def does(self, spec: RunSpec) -> bool:
        """Whether this run does `spec`'s work: its partition, by the same job, or by the UI's
        asset job with some of the same assets (a backfill)."""
        if self.symbol != spec.symbol or self.date != spec.date:
            return False
        if self.job == spec.job_name:
            return True
        return self.job == ASSET_JOB and bool(set(self.assets) & set(spec.asset_keys))

    def symbol_status(self, base: SymbolStatus | None = None) -> SymbolStatus:
        """`base` (or a fresh record) with this run's facts filled in."""
        record = base or SymbolStatus(symbol=self.symbol)
        return record.with_run(
            status=self.state,
            run_id=self.run_id,
            attempts=self.attempts,
            started_at=_iso(self.started),
            ended_at=_iso(self.ended),
            error_type=self.error_type,
            error=self.error,
        )


class Deployment:
    """A running Dagster deployment (webserver + daemon) reached at a `--submit` URL.

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
        self._headers = dict(headers or {})
        self._session = requests.Session()
        self._session.headers.update(self._headers)
        self._client = DagsterGraphQLClient(
            self.endpoint.netloc_host,
            port_number=self.endpoint.port,
            use_https=self.endpoint.scheme == "https",
            timeout=max(1, round(timeout_s)),
            headers=self._headers or None,
            path_prefix=self.endpoint.path_prefix,
        )
        self._info: DeploymentInfo | None = None
        # run id -> (attempts, (error type, reason) or None), read once a run is final
        self._outcomes: dict[str, tuple[int | None, tuple[str, str] | None]] = {}

    @property
    def url(self) -> str:
        """The deployment's base URL."""
        return self.endpoint.url

    # ------------------------------------------------------------------ checking

    def check(self, job_names: Sequence[str] = ()) -> DeploymentInfo:
        """Prove the deployment answers and has `job_names` in exactly one repository.

        Raises:
            DeploymentError: no webserver answered, or no single repository has the jobs.
        """
        data = self._query(_DEPLOYMENT_QUERY)
        info = _deployment_info(self.url, data, job_names)
        self._info = info
        return info

    # ------------------------------------------------------------------ submitting

    def submit(self, spec: RunSpec) -> str:
        """Queue one symbol-day run on the deployment; return its run id.

        The run carries `spec.run_tags()` (the partition tags among them, which make the
        asset job's run materialize that `date|symbol` partition).

        Raises:
            DeploymentError: the deployment refused the run or stayed unreachable.
        """
        selection = [dg.AssetKey(list(key)) for key in spec.asset_keys]
        what = f"{spec.job_name} {spec.partition_key}"
        return self.launch(spec.job_name, spec.run_tags(), selection, what=what)

    def launch(
        self,
        job_name: str,
        tags: Mapping[str, str],
        selection: Sequence[dg.AssetKey] = (),
        run_config: Mapping[str, Any] | None = None,
        what: str = "",
    ) -> str:
        """Queue one run of `job_name` (its `selection`, else every asset); return its id.

        A submission tag added to `tags` makes the call safe to retry: a launch whose answer
        was lost is found by it instead of being made twice.

        Raises:
            DeploymentError: the deployment refused the run or stayed unreachable.
        """
        info = self._info
        if info is None or job_name not in info.jobs:
            info = self.check((job_name,))
        token = uuid.uuid4().hex
        tagged = {**tags, SUBMISSION_TAG: token}

        def launch() -> str:
            with _quiet_client():
                return self._client.submit_job_execution(
                    job_name,
                    repository_location_name=info.location,
                    repository_name=info.repository,
                    run_config=dict(run_config or {}),
                    tags=tagged,
                    asset_selection=list(selection) or None,
                )

        what, outage = what or job_name, _Outage()
        while True:
            try:
                run_id = launch()
                self._answered = True
                return run_id
            except DagsterGraphQLClientError as exc:
                if not _transient(exc):
                    raise DeploymentError(
                        f"--submit {self.url}: {what} refused: {_client_reason(exc)}"
                    ) from None
                outage.failed(_cause_name(exc))
            # The request may have reached the server before the connection dropped.
            existing = self._run_with_tag(SUBMISSION_TAG, token)
            if existing:
                return existing
            pause = self._pause(outage)
            if pause is None:
                raise self._unreachable(outage, f"{what} not submitted")
            time.sleep(pause)

    def add_symbols(self, symbols: Iterable[str], partitions_def: str = SYMBOLS_DEF) -> list[str]:
        """Register symbols as dynamic partitions on the deployment; return the new ones.

        A `--submit` CLI need not share the deployment's instance, so it adds the symbols it
        is about to submit through the `addDynamicPartition` mutation (one request for all);
        symbols already there are left alone.

        Raises:
            DeploymentError: the deployment refused one (e.g. no permission) or is unreachable.
        """
        keys = list(dict.fromkeys(symbols))
        if not keys:
            return []
        info = self._info or self.check()
        names = [f"p{i}" for i in range(len(keys))]
        params = ", ".join(["$repo: RepositorySelector!", "$def: String!"])
        params += "".join(f", ${n}: String!" for n in names)
        fields = "\n".join(
            f"{n}: addDynamicPartition(repositorySelector: $repo, partitionsDefName: $def,"
            f" partitionKey: ${n}) {{ __typename ... on Error {{ message }} }}"
            for n in names
        )
        variables: dict[str, Any] = {
            "repo": {"repositoryName": info.repository, "repositoryLocationName": info.location},
            "def": partitions_def,
            **dict(zip(names, keys, strict=True)),
        }
        data = self._query(f"mutation RetrainAddSymbols({params}) {{\n{fields}\n}}", variables)
        added = []
        for name, key in zip(names, keys, strict=True):
            result = data.get(name) or {}
            kind = result.get("__typename")
            if kind == "AddDynamicPartitionSuccess":
                added.append(key)
            elif kind != "DuplicateDynamicPartitionError":
                raise DeploymentError(
                    f"--submit {self.url}: cannot add symbol {key}: {kind}:"
                    f" {_one_line(result.get('message'))}"
                )
        return added

    # ------------------------------------------------------------------ progress

    def runs(self, invocation: str) -> dict[str, RemoteRun]:
        """The newest run of each symbol of `invocation`, keyed by symbol.

        One query reads every run tagged `retrain/invocation=<invocation>`; failed and
        canceled runs seen for the first time cost one more query for their reasons.
        """
        runs = self._runs({"tags": [{"key": INVOCATION_TAG, "value": invocation}]})
        latest: dict[str, dict[str, Any]] = {}
        for run in sorted(runs, key=lambda r: r["creationTime"]):
            symbol = _tags(run).get(SYMBOL_TAG)
            if symbol:
                latest[symbol] = run
        self._fetch_outcomes(list(latest.values()))
        return {symbol: self._remote_run(run) for symbol, run in latest.items()}

    def statuses(
        self, invocation: str, base: Mapping[str, SymbolStatus] | None = None
    ) -> dict[str, SymbolStatus]:
        """`runs` as `SymbolStatus` records, each on top of its `base` record if given.

        Symbols without a run yet are absent (or their `base` record, unchanged).
        """
        base = base or {}
        result = dict(base)
        for symbol, run in self.runs(invocation).items():
            result[symbol] = run.symbol_status(base.get(symbol))
        return result

    def runs_tagged(
        self,
        key: str,
        value: str,
        *,
        statuses: Sequence[str] = (),
        created_after: float | None = None,
        updated_after: float | None = None,
    ) -> list[RemoteRun]:
        """Every run with tag `key=value` matching the filters, of any invocation, job or
        backfill, oldest first (e.g. a date's runs: `dagster/partition/date=2026-11-30`)."""
        runs_filter: dict[str, Any] = {"tags": [{"key": key, "value": value}]}
        if statuses:
            runs_filter["statuses"] = list(statuses)
        if created_after is not None:
            runs_filter["createdAfter"] = created_after
        if updated_after is not None:
            runs_filter["updatedAfter"] = updated_after
        runs = sorted(self._runs(runs_filter), key=lambda r: r["creationTime"])
        self._fetch_outcomes(runs)
        return [self._remote_run(run) for run in runs]

    def taken(self, date: str, since: float) -> list[RemoteRun]:
        """The runs of `date` that have its symbol-days' work already: those still queued or
        running, and those that succeeded after `since` (epoch seconds, e.g. its planning).

        A rerun after a lost deployment follows these instead of submitting the work again.
        """
        active = self.runs_tagged(DATE_TAG, date, statuses=_ACTIVE_STATUSES)
        done = self.runs_tagged(DATE_TAG, date, statuses=["SUCCESS"], updated_after=since)
        return [*active, *(r for r in done if (r.ended or 0) >= since)]

    # ------------------------------------------------------------------ canceling

    def cancel(
        self, run_ids: Iterable[str], wait_s: float = 30.0, poll_s: float = 0.5
    ) -> list[str]:
        """Terminate runs (a queued run leaves the queue); return those not stopped.

        Dagster refuses to terminate a run while its launcher is still starting it, so such
        runs are asked again every `poll_s` until they have started, for at most `wait_s`.
        Runs that finished first (or are unknown) are returned, like any still not
        canceling at the deadline.

        Raises:
            DeploymentError: the deployment stayed unreachable.
        """
        ids = list(dict.fromkeys(run_ids))
        deadline = time.monotonic() + wait_s
        pending = ids
        while pending:
            self._terminate(pending)
            statuses = self._statuses_of(ids)
            pending = [r for r in ids if statuses.get(r) in _NOT_YET_TERMINABLE]
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(poll_s)
        statuses = self._statuses_of(ids) if ids else {}
        return [r for r in ids if statuses.get(r) not in ("CANCELING", "CANCELED")]

    # ------------------------------------------------------------------ internals

    def _runs(self, runs_filter: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The runs matching a GraphQL `RunsFilter`."""
        data = self._query(_RUNS_QUERY, {"filter": dict(runs_filter)})
        result = data["runsOrError"]
        if result["__typename"] != "Runs":
            raise DeploymentError(
                f"--submit {self.url}: cannot list runs: {_one_line(result.get('message'))}"
            )
        return list(result["results"])

    def _terminate(self, run_ids: list[str]) -> None:
        """Ask for termination; refusals are fine (the caller reads the statuses after)."""
        try:
            with _quiet_client():
                self._with_retries("terminate runs", lambda: self._client.terminate_runs(run_ids))
        except DagsterGraphQLClientError:
            pass

    def _statuses_of(self, run_ids: list[str]) -> dict[str, str]:
        runs = self._runs({"runIds": run_ids})
        return {r["runId"]: str(r["status"]) for r in runs}

    def _run_with_tag(self, key: str, value: str) -> str | None:
        """The run carrying a tag, or None (also when the answer is an error: a lost
        deployment, though, is raised)."""
        try:
            runs = self._runs({"tags": [{"key": key, "value": value}]})
        except DeploymentError:
            return None
        return runs[0]["runId"] if runs else None

    def _fetch_outcomes(self, runs: list[dict[str, Any]]) -> None:
        """Read once, for all newly finished runs in one query, their attempts and reasons.

        Step stats and event logs cost the server a scan of each run's events, so they are
        asked for only once a run is final (they cannot change after).
        """
        missing = [
            r for r in runs if r["status"] in _FINAL_STATUSES and r["runId"] not in self._outcomes
        ]
        if not missing:
            return
        fields, params, variables = [], [], {}
        for i, run in enumerate(missing):
            params.append(f"$r{i}: ID!")
            variables[f"r{i}"] = run["runId"]
            fields.append(f"s{i}: runOrError(runId: $r{i}) {{ {_STEP_STATS_FIELDS} }}")
            if run["status"] != "SUCCESS":
                fields.append(f"l{i}: logsForRun(runId: $r{i}) {{ {_REASON_FIELDS} }}")
        query = f"query RetrainOutcomes({', '.join(params)}) {{\n" + "\n".join(fields) + "\n}"
        data = self._query(query, variables)
        for i, run in enumerate(missing):
            stats = (data.get(f"s{i}") or {}).get("stepStats") or []
            reason = None
            if run["status"] != "SUCCESS":
                canceled = run["status"] == "CANCELED"
                reason = reason_from_events(data.get(f"l{i}") or {}, canceled)
            self._outcomes[run["runId"]] = (_attempts(stats), reason)

    def _remote_run(self, run: dict[str, Any]) -> RemoteRun:
        tags = _tags(run)
        status = str(run["status"])
        state = _state(status, tags)
        attempts, reason = self._outcomes.get(run["runId"], (None, None))
        error_type, error = (None, None)
        if state in ("failed", "canceled"):
            error_type, error = reason or ("RunFailure", "the run failed")
        return RemoteRun(
            run_id=run["runId"],
            symbol=tags.get(SYMBOL_TAG, ""),
            date=tags.get(DATE_TAG) or split_partition_key(tags.get(PARTITION_TAG, ""))[0],
            dagster_status=status,
            state=state,
            created=float(run["creationTime"]),
            started=run.get("startTime"),
            ended=run.get("endTime"),
            attempts=attempts,
            error_type=error_type,
            error=error,
            tags=tags,
            job=str(run.get("jobName") or ""),
            assets=tuple(tuple(a["path"]) for a in run.get("assetSelection") or ()),
        )

    def query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One GraphQL request's `data`, retried like every other request."""
        return self._query(query, variables)

    def _query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL request (retried when transient); its `data`."""
        response = self._with_retries("reach the webserver", lambda: self._post(query, variables))
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
            raise DeploymentError(f"--submit {self.url}: GraphQL error: {_one_line(message)}")
        return body.get("data") or {}

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

    def _with_retries(self, what: str, call: Callable[[], T]) -> T:
        """`call()`, retried with exponential backoff while it fails transiently."""
        outage = _Outage()
        while True:
            try:
                result = call()
                self._answered = True
                return result
            except (requests.ConnectionError, requests.Timeout, _ServerBusy) as exc:
                outage.failed(type(exc).__name__ if not isinstance(exc, _ServerBusy) else str(exc))
            except DagsterGraphQLClientError as exc:
                if not _transient(exc):
                    raise
                outage.failed(_cause_name(exc))
            pause = self._pause(outage)
            if pause is None:
                raise self._unreachable(outage, f"could not {what}")
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

    def _unreachable(self, outage: "_Outage", what: str) -> RetrainError:
        """A lost deployment once it had answered; else a one-line `DeploymentError`."""
        if self._answered:
            return DeploymentLost(self.url, outage.since, outage.age_s, outage.last)
        if what == "could not reach the webserver":
            what = "no Dagster webserver answered"
        return DeploymentError(f"--submit {self.url}: {what} ({outage.last})")


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


# ---------------------------------------------------------------------- pure helpers


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


def reason_from_events(connection: Mapping[str, Any], canceled: bool = False) -> tuple[str, str]:
    """(error type, one-line reason) of a failed or canceled run, from its `logsForRun`.

    A canceled run is `Canceled` with the cancellation's message (the step it interrupted
    fails with an interruption error, which is not the reason). For a failed run the last
    step failure wins (its declared `error_type`, else its root cause's class), as
    `retrain_assets.defs.records.failure_of` reads it from an instance; else the run's own
    failure message.
    """
    events = connection.get("events") or []
    if canceled:
        found = [e for e in events if e.get("__typename") == "RunCanceledEvent"]
        message = _one_line(found[-1].get("message")) if found else ""
        return "Canceled", message or "the run was canceled"
    steps = [e for e in events if e.get("__typename") == "ExecutionStepFailureEvent"]
    if steps:
        return _step_reason(steps[-1])
    runs = [e for e in events if e.get("__typename") == "RunFailureEvent"]
    if not runs:
        return "RunFailure", "the run failed before any step failed"
    error = runs[-1].get("error") or {}
    message = _one_line(error.get("message") or runs[-1].get("message"))
    return "RunFailure", message or "the run failed"


def _step_reason(event: Mapping[str, Any]) -> tuple[str, str]:
    error = event.get("error") or {}
    root = error
    while root.get("cause"):
        root = root["cause"]
    metadata = event.get("failureMetadata") or {}
    declared = next(
        (
            m.get("text")
            for m in metadata.get("metadataEntries") or []
            if m.get("label") == "error_type" and m.get("text")
        ),
        None,
    )
    error_type = str(declared or root.get("className") or error.get("className") or "StepFailure")
    message = _one_line(
        root.get("message")
        or metadata.get("description")
        or error.get("message")
        or event.get("message")
    )
    return ERROR_TYPE_ALIASES.get(error_type, error_type), message or "step failed"


def _deployment_info(url: str, data: Mapping[str, Any], job_names: Sequence[str]) -> DeploymentInfo:
    repos = data.get("repositoriesOrError") or {}
    if repos.get("__typename") != "RepositoryConnection":
        raise DeploymentError(
            f"--submit {url}: cannot list code locations: {_one_line(repos.get('message'))}"
        )
    wanted = set(job_names)
    matches = []
    for node in repos.get("nodes") or []:
        jobs = tuple(sorted(j["name"] for j in node.get("jobs") or []))
        versions = {
            "/".join(a["assetKey"]["path"]): a["opVersion"]
            for a in node.get("assetNodes") or []
            if a.get("opVersion")
        }
        if wanted <= set(jobs):
            matches.append(
                DeploymentInfo(node["location"]["name"], node["name"], jobs, False, None, versions)
            )
    if not matches:
        raise DeploymentError(
            f"--submit {url}: no code location has job(s) {', '.join(sorted(wanted))}"
            " (is retrain_assets loaded there?)"
        )
    if len(matches) > 1:
        where = ", ".join(f"{m.location}/{m.repository}" for m in matches)
        raise DeploymentError(f"--submit {url}: job(s) found in several code locations: {where}")
    instance = data.get("instance") or {}
    daemons = (instance.get("daemonHealth") or {}).get("allDaemonStatuses") or []
    queue = [d for d in daemons if d.get("daemonType") == "QUEUED_RUN_COORDINATOR"]
    return DeploymentInfo(
        location=matches[0].location,
        repository=matches[0].repository,
        jobs=matches[0].jobs,
        run_queuing=bool(instance.get("runQueuingSupported")),
        daemon_healthy=queue[0].get("healthy") if queue else None,
        code_versions=matches[0].code_versions,
    )


def _state(status: str, tags: Mapping[str, str]) -> State:
    if status == "FAILURE" and tags.get(WILL_RETRY_TAG, "false").lower() == "true":
        return "pending"  # the daemon launches it again: a newer run will take over
    return _STATES.get(status, "pending")


def _tags(run: Mapping[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run.get("tags") or []}


def _attempts(step_stats: list[Mapping[str, Any]]) -> int | None:
    counts = [len(s.get("attempts") or []) for s in step_stats]
    return max(counts) if counts and max(counts) > 0 else None


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


def _client_reason(exc: DagsterGraphQLClientError) -> str:
    kind = str(exc.args[0]) if exc.args else type(exc).__name__
    detail = exc.body if exc.body is not None else (exc.args[1] if len(exc.args) > 1 else "")
    return f"{kind}: {_one_line(str(detail))}" if detail else _one_line(kind)


def _one_line(text: object) -> str:
    """The text with its whitespace (newlines included) collapsed, at most MAX_REASON long."""
    return " ".join(str(text or "").split())[:MAX_REASON]


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None
