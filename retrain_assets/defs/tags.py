"""Run tags: one typed record of what launched a symbol-day run, and why.

Every run of an invocation (a CLI or API call, a `--submit`, a schedule tick) carries these
tags, so the runs sharing `retrain/invocation` *are* the invocation: progress, status.json,
the summary and Telegram read them back instead of keeping a second store.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from retrain_assets.core.training import DEFAULT_TIMEOUT_MINUTES

Source = Literal["cli", "api", "submit", "schedule", "backfill"]
SOURCES: tuple[str, ...] = get_args(Source)
# Sources whose own process reports their runs (start, failures, completion) to Telegram;
# the sensors report every other run, so each message has exactly one sender.
SELF_REPORTING = frozenset({"cli", "api", "submit"})

INVOCATION_TAG = "retrain/invocation"
SOURCE_TAG = "retrain/source"
MODE_TAG = "retrain/mode"
DRY_RUN_TAG = "retrain/dry_run"
DRIVER_TAG = "retrain/driver"
TIMEOUT_TAG = "retrain/timeout_minutes"
CONCURRENCY_TAG = "retrain/max_concurrent"
TOTAL_TAG = "retrain/total_symbols"
SKIPPED_TAG = "retrain/skipped"
LOCK_TAG = "retrain/lock"
PARTITION_TAG = "dagster/partition"
DATE_TAG = "dagster/partition/date"
SYMBOL_TAG = "dagster/partition/symbol"
BACKFILL_TAG = "dagster/backfill"


@dataclass(frozen=True)
class RunTags:
    """The invocation facts on every run it launches.

    Attributes:
        invocation: The invocation id shared by all its runs.
        source: Who launched it (`cli`, `api`, `submit`, `schedule`, `backfill`).
        mode: `sequential`, `parallel` or `hybrid`.
        dry_run: A smoke test: tiny training budget, nothing uploaded (it runs on an instance
            and artifact root of its own).
        driver: The artifact storage driver (`local`, `dropbox`, `s3`).
        timeout_minutes: The per-symbol training timeout.
        max_concurrent: The invocation's own bound on symbols at once (None: not bounded).
        total_symbols: Symbols the invocation covers, skipped ones included.
        skipped: Symbols it skipped because they were already done.
        lock: A file the launching process holds locked while it lives (local runs only);
            a free lock means the launcher died and its unfinished runs can be failed.
    """

    invocation: str
    source: Source
    mode: str = "hybrid"
    dry_run: bool = False
    driver: str = "local"
    timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES
    max_concurrent: int | None = None
    total_symbols: int | None = None
    skipped: int = 0
    lock: str | None = None

    def to_tags(self) -> dict[str, str]:
        """The string tags Dagster stores on a run."""
        tags = {
            INVOCATION_TAG: self.invocation,
            SOURCE_TAG: self.source,
            MODE_TAG: self.mode,
            DRY_RUN_TAG: str(self.dry_run).lower(),
            DRIVER_TAG: self.driver,
            TIMEOUT_TAG: repr(float(self.timeout_minutes)),
            SKIPPED_TAG: str(self.skipped),
        }
        if self.max_concurrent is not None:
            tags[CONCURRENCY_TAG] = str(self.max_concurrent)
        if self.total_symbols is not None:
            tags[TOTAL_TAG] = str(self.total_symbols)
        if self.lock is not None:
            tags[LOCK_TAG] = self.lock
        return tags

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> "RunTags | None":
        """The record on a run, or None for a run no invocation launched (e.g. a UI launch)."""
        invocation = tags.get(INVOCATION_TAG)
        if not invocation:
            return None
        source = tags.get(SOURCE_TAG, "cli")
        return cls(
            invocation=invocation,
            source=source if source in SOURCES else "cli",  # type: ignore[arg-type]
            mode=tags.get(MODE_TAG, "hybrid"),
            dry_run=tags.get(DRY_RUN_TAG, "false").lower() == "true",
            driver=tags.get(DRIVER_TAG, "local"),
            timeout_minutes=_float(tags.get(TIMEOUT_TAG), DEFAULT_TIMEOUT_MINUTES),
            max_concurrent=_int(tags.get(CONCURRENCY_TAG)),
            total_symbols=_int(tags.get(TOTAL_TAG)),
            skipped=_int(tags.get(SKIPPED_TAG)) or 0,
            lock=tags.get(LOCK_TAG),
        )


def partition_tags(date: str, symbol: str) -> dict[str, str]:
    """The tags Dagster puts on a run of one `date|symbol` partition."""
    return {PARTITION_TAG: f"{date}|{symbol}", DATE_TAG: date, SYMBOL_TAG: symbol}


def is_dry_run(tags: Mapping[str, str]) -> bool:
    """Whether a run was launched as a dry run (its assets then train briefly, upload nothing)."""
    return tags.get(DRY_RUN_TAG, "false").lower() == "true"


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _float(text: str | None, default: float) -> float:
    try:
        return float(text) if text else default
    except ValueError:
        return default
