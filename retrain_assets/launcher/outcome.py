"""What the checks establish before an invocation, what an invocation returns, its exit codes."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from retrain_assets.core.data.symbols import Selection
from retrain_assets.core.errors import RetrainError
from retrain_assets.core.report.desk import ProductionRow
from retrain_assets.launcher.status import SymbolStatus

EXIT_OK = 0
EXIT_FAILED = 1  # a symbol failed, or was canceled or left unfinished
EXIT_BAD_INPUT = 2  # a flag, a variable, the home or the store: checked before any work
EXIT_DEPLOYMENT_LOST = 3  # `--submit`: the deployment stopped answering; its runs may go on
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGTERM


class DeploymentLost(RetrainError):
    """The `--submit` deployment answered, then no request got through for the whole patience.

    Not bad input (exit 2) and not a failed symbol (exit 1): its runs may go on there, so the
    CLI exits `EXIT_DEPLOYMENT_LOST` with this one-line message.

    Attributes:
        url: The deployment's base URL (never credentials).
        since: When the first unanswered request failed (epoch seconds).
        waited_s: How long requests were retried before giving up.
        cause: The last failure (`ConnectionError`, `HTTP 503`, ...).
    """

    def __init__(
        self, url: str, since: float, waited_s: float, cause: str, detail: str = ""
    ) -> None:
        self.url, self.since, self.waited_s, self.cause = url, since, waited_s, cause
        at = datetime.fromtimestamp(since, UTC).strftime("%H:%M:%S UTC")
        text = f"--submit {url} stopped answering at {at} ({cause}, retried for {waited_s:.0f} s)"
        super().__init__(f"{text}: {detail}" if detail else text)

    def explained(self, detail: str) -> "DeploymentLost":
        """The same loss, its message ending with `detail` (what may still run, what to do)."""
        return DeploymentLost(self.url, self.since, self.waited_s, self.cause, detail)


@dataclass(frozen=True)
class Checked:
    """What the checks established: where things go, which date, which symbols."""

    home: Path
    artifact_root: Path
    date: str
    selection: Selection


@dataclass(frozen=True)
class DeploymentDesk:
    """The date's production table as a `--submit` deployment's summary run left it.

    Attributes:
        run_id: The summary run on the deployment.
        rows: The production table (`desk_report`'s `production` metadata).
        headline: The table in one line.
        report: desk.html's path on the deployment's disk (None: not written).
        summary: engine_summary.json's path on the deployment's disk.
        problem: Why there is no table (the run failed, or had not ended in time).
    """

    run_id: str
    rows: tuple[ProductionRow, ...] = ()
    headline: str | None = None
    report: str | None = None
    summary: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class InvocationResult:
    """What an invocation did: its id, date, per-symbol statuses and where its files are."""

    invocation: str
    date: str
    statuses: Mapping[str, SymbolStatus]
    status_path: Path
    summary_path: Path | None
    interrupted: bool = False
    dry_run_home: Path | None = None  # a dry run's own Dagster home (None: a real run)
    deployment_desk: DeploymentDesk | None = None  # `--submit`: the table, read from there

    @property
    def exit_code(self) -> int:
        """0 all done or skipped, 1 any failed or unfinished, 130 interrupted (2, bad input, and
        3, a lost `--submit` deployment, end an invocation with an error instead)."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if all(s.ok for s in self.statuses.values()) else EXIT_FAILED
