"""Running an invocation's symbol-days on a deployment (`--submit URL`).

The runs go to the deployment's run queue through its GraphQL API, so its run launcher (a
Kubernetes job per run, say) executes them; this process only submits, at most
`max_concurrent` in flight, and follows them: same progress, same status.json, same codes.

A symbol-day that a run on the deployment already has (still queued or running, say from an
invocation whose deployment was lost, or a UI backfill; or one that succeeded since planning)
is followed, not submitted again. A deployment that stops answering for longer than its
patience ends the invocation with `DeploymentLost`: status.json then marks what it left
behind `unknown` (or unsubmitted) with `unreachable_since`, never `running` as if known.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime

from retrain_assets.defs.tags import INVOCATION_TAG, PARTITION_TAG
from retrain_assets.launcher.deployment_records import DeploymentRecords
from retrain_assets.launcher.interrupts import ExitNow, Interrupts
from retrain_assets.launcher.invocation import Invocation
from retrain_assets.launcher.ledger import StatusFile, initial_statuses
from retrain_assets.launcher.outcome import DeploymentLost
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.progress import ProgressFn
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.launcher.submit import Deployment, RemoteRun

POLL_S = 1.0
# Run end times come from the deployment's clock, the look times from this machine's.
CLOCK_SLACK_S = 5.0


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
    remote = RemoteInvocation(inv, deployment, initial_statuses(plans), specs, workers)
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
        remote.statuses = remote.records.skipped_metrics(remote.statuses)
    except DeploymentLost as lost:
        status_file.write(remote.left_behind(lost), final=True)
        raise lost.explained(remote.what_to_do()) from None
    status_file.write(remote.statuses, final=True)
    return remote.statuses


class RemoteInvocation:
    """One invocation's symbol-days on a deployment: those to submit, those submitted, and
    those another run there already has (followed, never canceled by this invocation)."""

    def __init__(
        self,
        inv: Invocation,
        deployment: Deployment,
        statuses: dict[str, SymbolStatus],
        specs: list[RunSpec],
        workers: int,
    ) -> None:
        self.inv = inv
        self.deployment = deployment
        self.statuses = statuses
        self.workers = workers
        self.waiting = list(specs)
        self.submitted: dict[str, str] = {}  # symbol -> run id of this invocation
        # symbol -> (creation time of the run it follows, its spec)
        self.followed: dict[str, tuple[float, RunSpec]] = {}
        self.submitting: str | None = None  # a symbol whose submission is not confirmed yet
        # When the plan was made: runs that succeeded since then did work it thought left.
        self._taken_since = time.time() - (time.monotonic() - inv.started)
        self._succeeded: list[RemoteRun] = []
        self.records = DeploymentRecords(deployment, inv.date)  # each line's net, gate, ...

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
        """Read this invocation's runs, and the newest run of each followed symbol-day, with
        what each successful one recorded (the facts of its line)."""
        self.statuses = self.deployment.statuses(self.inv.invocation_id, self.statuses)
        for symbol, (created, spec) in self.followed.items():
            if self.statuses[symbol].final:
                continue
            runs = self.deployment.runs_tagged(
                PARTITION_TAG, spec.partition_key, created_after=created - 1.0
            )
            # Oldest first: the newest run doing the work wins (a retry of the one followed).
            for run in (r for r in runs if r.does(spec)):
                self.statuses[symbol] = run.symbol_status(self.statuses[symbol])
        self.statuses = self.records.filled(self.statuses)

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
            there = [r for r in taken if r.does(spec)]
            if there:
                self.followed[spec.symbol] = (there[-1].created, spec)
                self.statuses[spec.symbol] = there[-1].symbol_status(self.statuses[spec.symbol])
            else:
                self.submitting = spec.symbol
                self.submitted[spec.symbol] = self.deployment.submit(spec)
                self.submitting = None
            free -= 1

    def _taken(self) -> list[RemoteRun]:
        """The runs of the date that have work already: queued or running now, or succeeded
        since the plan (read incrementally: each look asks only for the newly succeeded)."""
        looked = time.time()
        runs = self.deployment.taken(self.inv.date, self._taken_since)
        self._succeeded += [r for r in runs if r.state == "success"]
        self._taken_since = looked - CLOCK_SLACK_S
        return [*(r for r in runs if r.state != "success"), *self._succeeded]

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
