"""What the checks establish before an invocation, and what an invocation returns."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from retrain_assets.core.symbols import Selection
from retrain_assets.launcher.status import SymbolStatus

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


@dataclass(frozen=True)
class Checked:
    """What the checks established: where things go, which date, which symbols."""

    home: Path
    artifact_root: Path
    date: str
    selection: Selection


@dataclass(frozen=True)
class InvocationResult:
    """What an invocation did: its id, date, per-symbol statuses and where its files are."""

    invocation: str
    date: str
    statuses: Mapping[str, SymbolStatus]
    status_path: Path
    summary_path: Path | None
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        """0 all done or skipped, 1 any failed or unfinished, 130 interrupted."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if all(s.ok for s in self.statuses.values()) else EXIT_FAILED
