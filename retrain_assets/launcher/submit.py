"""`retrain --submit URL`: symbol-day runs sent to a running Dagster deployment's run queue.

Only what must go through the deployment's webserver goes through it (`launcher/webserver.py`
retries every request): checking the job is there, registering symbols, queueing runs and
terminating them. A submitted run is an ordinary launch of the asset job with the partition's
tags (`dagster/partition` = `date|symbol`, as the UI and backfills set them), so the deployment
queues it, its daemon dequeues it and its run launcher executes it. How the runs go is read
from the deployment's instance, which the CLI plans on already, with the readers a local run
uses (`launcher/remote.py`).
"""

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster_graphql import DagsterGraphQLClientError

from retrain_assets.launcher.endpoint import DeploymentError
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.webserver import Webserver, client_reason, one_line
from retrain_assets.vocabulary.tags import SUBMISSION_TAG

SYMBOLS_DEF = "symbols"  # the dynamic partitions definition of the symbol dimension
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
    ... on Runs { results { runId status } }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message }
  }
}
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


class Deployment(Webserver):
    """A running Dagster deployment (webserver + daemon) reached at a `--submit` URL; its
    options are `Webserver`'s."""

    _info: DeploymentInfo | None = None  # set by `check`

    def check(self, job_names: Sequence[str] = ()) -> DeploymentInfo:
        """Prove the deployment answers and has `job_names` in exactly one repository.

        Raises:
            DeploymentError: no webserver answered, or no single repository has the jobs.
        """
        self._info = _deployment_info(self.url, self.query(_DEPLOYMENT_QUERY), job_names)
        return self._info

    def ping(self) -> str:
        """The deployment's Dagster version: proof that its webserver still answers.

        Raises:
            DeploymentLost: it answered before, then not for `patience_s`.
        """
        return str(self.query("query RetrainPing { version }").get("version") or "")

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
        options = {
            "repository_location_name": info.location,
            "repository_name": info.repository,
            "run_config": dict(run_config or {}),
            "tags": {**tags, SUBMISSION_TAG: token},
            "asset_selection": list(selection) or None,
        }
        what = what or job_name
        try:
            return self.call(
                f"{what} not submitted",
                lambda client: client.submit_job_execution(job_name, **options),
                # The request may have reached the server before the connection dropped.
                recover=lambda: self._run_with_tag(SUBMISSION_TAG, token),
            )
        except DagsterGraphQLClientError as exc:
            raise DeploymentError(
                f"--submit {self.url}: {what} refused: {client_reason(exc)}"
            ) from None

    def add_symbols(self, symbols: Iterable[str], partitions_def: str = SYMBOLS_DEF) -> list[str]:
        """Register symbols as dynamic partitions on the deployment; return the new ones.

        One `addDynamicPartition` mutation per symbol, all in one request; symbols already
        there are left alone.

        Raises:
            DeploymentError: the deployment refused one (e.g. no permission) or is unreachable.
        """
        keys = list(dict.fromkeys(symbols))
        if not keys:
            return []
        info = self._info or self.check()
        names = [f"p{i}" for i in range(len(keys))]
        params = "$repo: RepositorySelector!, $def: String!"
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
        data = self.query(f"mutation RetrainAddSymbols({params}) {{\n{fields}\n}}", variables)
        added = []
        for name, key in zip(names, keys, strict=True):
            result = data.get(name) or {}
            kind = result.get("__typename")
            if kind == "AddDynamicPartitionSuccess":
                added.append(key)
            elif kind != "DuplicateDynamicPartitionError":
                raise DeploymentError(
                    f"--submit {self.url}: cannot add symbol {key}: {kind}:"
                    f" {one_line(result.get('message'))}"
                )
        return added

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

    def _runs(self, runs_filter: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The id and status of the runs matching a GraphQL `RunsFilter`."""
        result = self.query(_RUNS_QUERY, {"filter": dict(runs_filter)})["runsOrError"]
        if result["__typename"] != "Runs":
            raise DeploymentError(
                f"--submit {self.url}: cannot list runs: {one_line(result.get('message'))}"
            )
        return list(result["results"])

    def _terminate(self, run_ids: list[str]) -> None:
        """Ask for termination; refusals are fine (the caller reads the statuses after)."""
        try:
            self.call("could not terminate runs", lambda client: client.terminate_runs(run_ids))
        except DagsterGraphQLClientError:
            pass

    def _statuses_of(self, run_ids: list[str]) -> dict[str, str]:
        return {r["runId"]: str(r["status"]) for r in self._runs({"runIds": run_ids})}

    def _run_with_tag(self, key: str, value: str) -> str | None:
        """The run carrying a tag, or None (also when the answer is an error: a lost
        deployment, though, is raised)."""
        try:
            runs = self._runs({"tags": [{"key": key, "value": value}]})
        except DeploymentError:
            return None
        return runs[0]["runId"] if runs else None


def _deployment_info(url: str, data: Mapping[str, Any], job_names: Sequence[str]) -> DeploymentInfo:
    """The one repository having `job_names`, its jobs and code versions, and the queue."""
    repos = data.get("repositoriesOrError") or {}
    if repos.get("__typename") != "RepositoryConnection":
        raise DeploymentError(
            f"--submit {url}: cannot list code locations: {one_line(repos.get('message'))}"
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
