"""The scheduler's configuration object (the spec's `SchedulerConfig`), shared by CLI and API."""

from dataclasses import dataclass
from enum import StrEnum

from retrain_assets.core.errors import PermanentError
from retrain_assets.core.hardware import Hardware, default_max_concurrent

DRIVERS = ("local", "dropbox", "s3")


class TrainingMode(StrEnum):
    """How many symbols train at once: one, all, or up to a cap."""

    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class SchedulerConfig:
    """One invocation's knobs; None means the machine's default."""

    mode: TrainingMode = TrainingMode.HYBRID
    max_concurrent: int | None = None
    timeout_minutes: float = 45.0
    force: bool = False
    dry_run: bool = False
    driver: str = "local"
    date: str | None = None

    def __post_init__(self) -> None:
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise PermanentError(f"max_concurrent must be >= 1, got {self.max_concurrent}")
        if self.timeout_minutes <= 0:
            raise PermanentError(f"timeout_minutes must be > 0, got {self.timeout_minutes}")
        if self.driver not in DRIVERS:
            raise PermanentError(f"unknown driver {self.driver!r}; choose one of {DRIVERS}")

    def cap(self, hardware: Hardware, symbols: int) -> int:
        """How many symbols may train at once under this mode."""
        if self.mode is TrainingMode.SEQUENTIAL:
            return 1
        if self.mode is TrainingMode.PARALLEL:
            return max(1, symbols)
        return self.max_concurrent or default_max_concurrent(hardware)
