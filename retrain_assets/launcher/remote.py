"""Running an invocation's symbol-days on a deployment (`--submit URL`).

The runs go to the deployment's run queue through its webserver, so its run launcher (a
Kubernetes job per run, say) executes them; this process only submits, at most
`max_concurrent` in flight, and follows them: same progress, same status.json, same codes.
It follows them on the deployment's instance, which it planned on (`DAGSTER_HOME` names it),
with the local path's reader (`ledger.InvocationLedger`): the same states, attempts, failure
reasons and results. The webserver is asked at every look whether it still answers.

A symbol-day that a run on the deployment already has (still queued or running, say from an
invocation whose deployment was lost, or a UI backfill; or one that succeeded since planning)
is followed, not submitted again. A deployment that stops answering for longer than its
patience ends the invocation with `DeploymentLost`: status.json then marks what it left
behind `unknown` (or unsubmitted) with `unreachable_since`, never `running` as if known.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from retrain_assets.launcher.endpoint import DeploymentError
from retrain_assets.launcher.interrupts import ExitNow, Interrupts
from retrain_assets.launcher.invocation import Invocation
from retrain_assets.launcher.ledger import InvocationLedger, StatusFile, with_latest_metrics
from retrain_assets.launcher.outcome import DeploymentLost
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.progress import ProgressFn
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.launcher.submit import Deployment
from retrain_assets.vocabulary.keys import split_partition_key
from retrain_assets.vocabulary.tags import DATE_TAG, INVOCATION_TAG, PARTITION_TAG, SYMBOL_TAG

POLL_S = 1.0
# Run end times come from the deployment's clock, the look times from this machine's.
CLOCK_SLACK_S = 5.0
# The job of asset runs launched from the UI (materialize, backfills).
ASSET_JOB = "__ASSET_JOB"
# A run that will still do its symbol-day's work (CANCELING ends CANCELED, doing none).
_WORKING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.MANAGED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.SUSPENDED,
]


def execute_remotely(
    inv: Invocation,
    plans: list[SymbolPlan],
    deployment: Deployment,
    specs_for: Callable[..., list[RunSpec]],
    progress: ProgressFn | None,
    workers: int,
) -> dict[str, SymbolStatus]:
    """Submit every planned symbol-day, keep at most `workers` in flight, follow to the end.

    Raises:
        DeploymentLost: the deployment stopped answering (status.json says what it left).
    """
    specs = specs_for(inv.run_tags(plans, workers, None))
    remote = RemoteInvocation(inv, deployment, plans, specs, workers)
    status_file = inv.status_file(workers)
    try:
        remote.start()
        with Interrupts() as interrupts:
            try:
                remote.follow(status_file, progress, lambda: interrupts.requested)
            except ExitNow:
                inv.exit_now = True
                deployment.patience_s = 0.0  # a second signal: no waiting for a webserver
                remote.cancel()
            inv.interrupted = interrupts.requested
        if inv.interrupted:
            remote.refresh()
        skipped = [s.symbol for s in remote.statuses.values() if s.status == "skipped"]
        remote.statuses = with_latest_metrics(inv.instance, inv.date, remote.statuses, skipped)
    except DeploymentLost as lost:
        status_file.write(remote.left_behind(lost), final=True)
        raise lost.explained(remote.what_to_do()) from None
    status_file.write(remote.statuses, final=True)
    return remote.statuses


def does(run: dg.DagsterRun, spec: RunSpec) -> bool:
    """Whether `run` does `spec`'s work: its partition, by the same job, or by the UI's asset
    job with some of the same assets (a backfill)."""
    key = run.tags.get(PARTITION_TAG)
    date = run.tags.get(DATE_TAG) or (split_partition_key(key)[0] if key else "")
    if run.tags.get(SYMBOL_TAG) != spec.symbol or date != spec.date:
        return False
    if run.job_name == spec.job_name:
        return True
    wanted = {dg.AssetKey(list(key)) for key in spec.asset_keys}
    return run.job_name == ASSET_JOB and bool(set(run.asset_selection or ()) & wanted)


class RemoteInvocation:
    """One invocation's symbol-days on a deployment: those to submit, those submitted, and
    those another run there already has (followed, never canceled by this invocation)."""

    def __init__(
        self,
        inv: Invocation,
        deployment: Deployment,
        plans: list[SymbolPlan],
        specs: list[RunSpec],
        workers: int,
    ) -> None:
        self.inv = inv
        self.deployment = deployment
        self.ledger = InvocationLedger(inv.instance, inv.invocation_id, plans)
        self.statuses = dict(self.ledger.statuses)
        self.workers = workers
        self.waiting = list(specs)
        self.submitted: dict[str, str] = {}  # symbol -> run id of this invocation
        # symbol -> (creation time of the run it follows, its spec)
        self.followed: dict[str, tuple[float, RunSpec]] = {}
        self.submitting: str | None = None  # a symbol whose submission is not confirmed yet
        # When the plan was made: runs that succeeded since then did work it thought left.
        self._taken_since = time.time() - (time.monotonic() - inv.started)
        self._succeeded: list[dg.RunRecord] = []

    def start(self) -> None:
        """Check the job is there and register the symbols on the deployment."""
        if self.waiting:
            self.deployment.check([self.waiting[0].job_name])
            self.deployment.add_symbols([s.symbol for s in self.waiting])

    def follow(
        self, status_file: StatusFile, progress: ProgressFn | None, stop: Callable[[], bool]
    ) -> None:
        """Submit and poll until every symbol-day is final, or `stop()` (then cancel)."""
        while True:
            self.refresh()
            if not stop():
                self._submit_more()
            status_file.write(self.statuses)
            if progress is not None:
                progress(self.statuses, time.monotonic() - self.inv.started)
            if stop():
                self.cancel()
                return
            if not self.waiting and not self._in_flight():
                return
            time.sleep(POLL_S)

    def refresh(self) -> None:
        """Check the webserver still answers; read this invocation's runs, and the newest run
        of each followed symbol-day, with what each finished one recorded."""
        self.deployment.ping()
        for symbol, (created, spec) in self.followed.items():
            if self.statuses[symbol].final:
                continue
            after = datetime.fromtimestamp(created - 1.0, UTC)
            runs = self.inv.instance.get_run_records(
                dg.RunsFilter(tags={PARTITION_TAG: spec.partition_key}, created_after=after)
            )
            # The newest run doing the work wins (a retry of the one followed).
            doing = [r for r in runs if does(r.dagster_run, spec)]
            if doing:
                self.ledger.follow(symbol, max(doing, key=_created))
        self.statuses = self.ledger.refresh()

    def cancel(self) -> None:
        """Terminate the runs this invocation submitted and that have not finished."""
        running = [r for s, r in self.submitted.items() if not self.statuses[s].final]
        self.deployment.cancel(running)

    def _in_flight(self) -> list[str]:
        return [s for s in (*self.submitted, *self.followed) if not self.statuses[s].final]

    def _submit_more(self) -> None:
        """Fill the free slots: follow a symbol-day's run already there, else submit one."""
        free = self.workers - len(self._in_flight())
        if not self.waiting or free <= 0:
            return
        taken = self._taken()
        while self.waiting and free > 0:
            spec = self.waiting.pop(0)
            there = [r for r in taken if does(r.dagster_run, spec)]
            if there:
                self.followed[spec.symbol] = (_created(there[-1]), spec)
                self.ledger.follow(spec.symbol, there[-1])
                self.statuses[spec.symbol] = self.ledger.statuses[spec.symbol]
            else:
                self.submitting = spec.symbol
                self.submitted[spec.symbol] = self._submit(spec)
                self.submitting = None
            free -= 1

    def _submit(self, spec: RunSpec) -> str:
        """Queue the run; it is in the instance at once when that is the deployment's.

        Raises:
            DeploymentError: the instance `DAGSTER_HOME` names is not the deployment's.
        """
        run_id = self.deployment.submit(spec)
        if self.inv.instance.get_run_by_id(run_id) is None:
            self.deployment.cancel([run_id])  # nothing is left running unfollowed
            raise DeploymentError(
                f"--submit {self.deployment.url}: run {run_id} is not in the instance"
                f" DAGSTER_HOME names ({self.inv.instance.root_directory}): give the CLI the"
                " deployment's dagster.yaml, so it plans and follows on the deployment's records"
            )
        return run_id

    def _taken(self) -> list[dg.RunRecord]:
        """The runs of the date that have work already: queued or running now, or succeeded
        since the plan (read incrementally: each look asks only for the newly succeeded)."""
        looked = time.time()
        since = datetime.fromtimestamp(self._taken_since, UTC)
        runs = self.inv.instance.get_run_records(
            dg.RunsFilter(tags={DATE_TAG: self.inv.date}, statuses=_WORKING)
        )
        done = self.inv.instance.get_run_records(
            dg.RunsFilter(
                tags={DATE_TAG: self.inv.date},
                statuses=[dg.DagsterRunStatus.SUCCESS],
                updated_after=since,
            )
        )
        new = [r for r in done if (r.end_time or 0) >= self._taken_since]
        self._succeeded += sorted(new, key=_created)
        self._taken_since = looked - CLOCK_SLACK_S
        return [*sorted(runs, key=_created), *self._succeeded]

    def left_behind(self, lost: DeploymentLost) -> dict[str, SymbolStatus]:
        """The statuses once the deployment is lost: what was queued or running there is
        `unknown`, what was never submitted stays `pending`; both say since when."""
        since = datetime.fromtimestamp(lost.since, UTC).isoformat()
        for symbol, entry in self.statuses.items():
            if entry.final:
                continue
            was = "queued" if entry.status == "pending" else entry.status
            state = "unknown"
            why = f"{was} on {lost.url} when it stopped answering; it may have finished there since"
            if symbol == self.submitting:
                why = f"submitted to {lost.url} as it stopped answering, not confirmed"
            elif symbol not in self.submitted and symbol not in self.followed:
                state, why = "pending", f"not submitted: {lost.url} stopped answering"
            self.statuses[symbol] = entry.with_run(
                status=state, unreachable_since=since, error_type="DeploymentLost", error=why
            )
        return self.statuses

    def what_to_do(self) -> str:
        """The end of the one-line message: what may still run there, how to see it."""
        unknown = sum(1 for s in self.statuses.values() if s.status == "unknown")
        tag = f"{INVOCATION_TAG}={self.inv.invocation_id}"
        rerun = "rerun the same command once it answers to follow them (finished ones are skipped)"
        if not unknown:
            return "nothing of this invocation runs there; rerun the same command once it answers"
        return (
            f"{unknown} run(s) may still be running there: {rerun}, "
            f"or see them in its UI under Runs, tag {tag}"
        )


def _created(record: dg.RunRecord) -> float:
    return record.create_timestamp.timestamp()
