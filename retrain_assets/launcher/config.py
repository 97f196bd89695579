"""The scheduler's configuration (the spec's `SchedulerConfig`), checked before any work.

Every number is finite and bounded, so a typo fails in one line instead of in every symbol:
the timeout is 1 minute to 24 hours, and concurrency is 1 to a ceiling from this machine's
cores and memory (which also bounds `--mode parallel`).
"""

import math
import os
from dataclasses import dataclass
from enum import StrEnum

from retrain_assets.adapters.hardware import Hardware, default_max_concurrent
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.model.training import MAX_TIMEOUT_MINUTES, MIN_TIMEOUT_MINUTES

DRIVERS = ("local", "dropbox", "s3")
# The spec budgets 2-4 GB per training worker; 2 GiB bounds workers by memory.
WORKER_MEMORY_BYTES = 2 * 1024**3
WORKERS_PER_CORE = 4
MAX_SYMBOLS = 5000


class TrainingMode(StrEnum):
    """How many symbols train at once: one, all (up to the ceiling), or up to a cap."""

    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"
    HYBRID = "hybrid"


def total_memory_bytes() -> int:
    """Physical memory of this machine (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def concurrency_ceiling(hardware: Hardware, memory_bytes: int | None = None) -> int:
    """The most symbols this machine may run at once: by cores (or GPUs) and by memory."""
    memory = total_memory_bytes() if memory_bytes is None else memory_bytes
    by_cores = max(hardware.cpu_count * WORKERS_PER_CORE, default_max_concurrent(hardware))
    by_memory = memory // WORKER_MEMORY_BYTES if memory else by_cores
    return max(1, min(by_cores, by_memory))


def _check_timeout(timeout: object) -> None:
    """`--timeout_minutes` is a finite number of minutes within the bounds."""
    if not isinstance(timeout, int | float) or not math.isfinite(timeout):
        raise PermanentError(f"--timeout_minutes {timeout!r}: expected a finite number")
    if not MIN_TIMEOUT_MINUTES <= timeout <= MAX_TIMEOUT_MINUTES:
        raise PermanentError(
            f"--timeout_minutes {timeout:g}: expected {MIN_TIMEOUT_MINUTES:g} to "
            f"{MAX_TIMEOUT_MINUTES:g} minutes"
        )


@dataclass(frozen=True)
class SchedulerConfig:
    """One invocation's knobs; `max_concurrent=None` means the machine's default and
    `timeout_minutes=None` the deployment's timeout (`resources.deployment`), which the runs
    then take from their `training` resource instead of a tag."""

    mode: TrainingMode = TrainingMode.HYBRID
    max_concurrent: int | None = None
    timeout_minutes: float | None = None
    force: bool = False
    dry_run: bool = False
    driver: str = "local"
    date: str | None = None

    def __post_init__(self) -> None:
        if self.timeout_minutes is not None:
            _check_timeout(self.timeout_minutes)
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise PermanentError(f"--max_concurrent {self.max_concurrent}: expected at least 1")
        if self.driver not in DRIVERS:
            raise PermanentError(f"--driver {self.driver!r}: choose one of {', '.join(DRIVERS)}")
        object.__setattr__(self, "mode", TrainingMode(self.mode))

    def check_ceiling(self, ceiling: int, hardware: Hardware) -> None:
        """Refuse a `max_concurrent` above what this machine can hold."""
        if self.max_concurrent is not None and self.max_concurrent > ceiling:
            gib = total_memory_bytes() / 1024**3
            raise PermanentError(
                f"--max_concurrent {self.max_concurrent}: at most {ceiling} on this machine "
                f"({hardware.cpu_count} cores, {hardware.gpu_count} GPUs, {gib:.0f} GiB)"
            )

    def workers(self, hardware: Hardware, todo: int, ceiling: int) -> int:
        """How many of this invocation's symbols may run at once."""
        if self.mode is TrainingMode.SEQUENTIAL:
            wanted = 1
        elif self.mode is TrainingMode.PARALLEL:
            wanted = todo
        else:
            wanted = self.max_concurrent or default_max_concurrent(hardware)
        return max(1, min(wanted, ceiling, max(todo, 1)))
