"""Run tags: one typed record of what launched a symbol-day run, and why.

Every run of an invocation (a CLI or API call, a `--submit`, a schedule tick) carries these
tags, so the runs sharing `retrain/invocation` *are* the invocation: progress, status.json,
the summary and Telegram read them back instead of keeping a second store.

What a person reads is shown: the partition (`dagster/partition`, plus Dagster's per-dimension
`dagster/partition/date` and `/symbol`, which the Runs page lists only under "View all tags"),
the invocation, who launched it, and `retrain/dry_run` on a dry run. The bookkeeping (mode,
driver, limits, counts, lock path, worker pid, ...) carries Dagster's hidden-tag prefix: stored
with the run, readable in Python and in run filters, never shown by the UI. Older runs of an
existing instance carry it under visible `retrain/...` keys; `tag_value` reads both.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

Source = Literal["cli", "api", "submit", "schedule", "backfill"]
SOURCES: tuple[str, ...] = get_args(Source)
# Sources whose own process reports their runs (start, failures, completion) to Telegram;
# the sensors report every other run, so each message has exactly one sender.
SELF_REPORTING = frozenset({"cli", "api", "submit"})

# Dagster's UI and GraphQL API leave out run tags whose key starts with this (Dagster's
# `HIDDEN_TAG_PREFIX` in dagster/_core/storage/tags.py, a private module, hence the copy).
# Dagster allows one `/` in a tag key, so hidden keys read `.dagster/retrain_<name>`.
HIDDEN_TAG_PREFIX = ".dagster/"

# What a person reads on a run.
INVOCATION_TAG = "retrain/invocation"
SOURCE_TAG = "retrain/source"
DRY_RUN_TAG = "retrain/dry_run"  # only on a dry run
REMOVED_TAG = "retrain/removed_symbol"  # on the runs that refresh a date after a removal
# Bookkeeping, hidden.
MODE_TAG = f"{HIDDEN_TAG_PREFIX}retrain_mode"
DRIVER_TAG = f"{HIDDEN_TAG_PREFIX}retrain_driver"
TIMEOUT_TAG = f"{HIDDEN_TAG_PREFIX}retrain_timeout_minutes"
CONCURRENCY_TAG = f"{HIDDEN_TAG_PREFIX}retrain_max_concurrent"
TOTAL_TAG = f"{HIDDEN_TAG_PREFIX}retrain_total_symbols"
SKIPPED_TAG = f"{HIDDEN_TAG_PREFIX}retrain_skipped"
LOCK_TAG = f"{HIDDEN_TAG_PREFIX}retrain_lock"
WORKER_PID_TAG = f"{HIDDEN_TAG_PREFIX}retrain_worker_pid"
# One per `--submit` launch: a launch retried after an ambiguous failure (a timeout after the
# request left) finds the run the first attempt created instead of queueing a second one.
SUBMISSION_TAG = f"{HIDDEN_TAG_PREFIX}retrain_submission"
SUMMARY_OF_TAG = f"{HIDDEN_TAG_PREFIX}retrain_summary_of"
# The keys the bookkeeping had before it was hidden: an existing instance's older runs carry
# them (and a person may still type one on a UI launch), so `tag_value` falls back to them.
LEGACY_KEYS: dict[str, str] = {
    MODE_TAG: "retrain/mode",
    DRIVER_TAG: "retrain/driver",
    TIMEOUT_TAG: "retrain/timeout_minutes",
    CONCURRENCY_TAG: "retrain/max_concurrent",
    TOTAL_TAG: "retrain/total_symbols",
    SKIPPED_TAG: "retrain/skipped",
    LOCK_TAG: "retrain/lock",
    WORKER_PID_TAG: "retrain/worker_pid",
    SUBMISSION_TAG: "retrain/submission",
    SUMMARY_OF_TAG: "retrain/summary_of",
}
# Dagster's own tags, as the product (and the benches) write or read them.
PARTITION_TAG = "dagster/partition"
DATE_TAG = "dagster/partition/date"
SYMBOL_TAG = "dagster/partition/symbol"
BACKFILL_TAG = "dagster/backfill"
# On a run of a partition range (a single-run backfill): its first partition key.
RANGE_START_TAG = "dagster/asset_partition_range_start"
# On a failed run that the run-retry daemon will launch again.
WILL_RETRY_TAG = "dagster/will_retry"
# The run monitor fails a run still going after this many seconds.
MAX_RUNTIME_TAG = "dagster/max_runtime"
SCHEDULE_NAME_TAG = "dagster/schedule_name"
SCHEDULED_TIME_TAG = f"{HIDDEN_TAG_PREFIX}scheduled_execution_time"


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
        timeout_minutes: An invocation's own per-symbol training timeout (`--timeout_minutes`),
            which its run workers must know; None (no tag): the `training` resource's, whose
            default is the deployment's one setting (`resources.deployment`). Configuration
            otherwise stays off the tags.
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
    timeout_minutes: float | None = None
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
            DRIVER_TAG: self.driver,
            SKIPPED_TAG: str(self.skipped),
        }
        if self.timeout_minutes is not None:
            tags[TIMEOUT_TAG] = repr(float(self.timeout_minutes))
        if self.dry_run:
            tags[DRY_RUN_TAG] = "true"
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
            mode=tag_value(tags, MODE_TAG) or "hybrid",
            dry_run=is_dry_run(tags),
            driver=tag_value(tags, DRIVER_TAG) or "local",
            timeout_minutes=_float(tag_value(tags, TIMEOUT_TAG)),
            max_concurrent=_int(tag_value(tags, CONCURRENCY_TAG)),
            total_symbols=_int(tag_value(tags, TOTAL_TAG)),
            skipped=_int(tag_value(tags, SKIPPED_TAG)) or 0,
            lock=tag_value(tags, LOCK_TAG),
        )


def tag_value(tags: Mapping[str, str], key: str) -> str | None:
    """A run's tag `key`, or, on a run recorded before the bookkeeping was hidden, the same
    fact under its old visible key (`LEGACY_KEYS`); None when the run has neither."""
    value = tags.get(key)
    if value is None and key in LEGACY_KEYS:
        value = tags.get(LEGACY_KEYS[key])
    return value


def is_dry_run(tags: Mapping[str, str]) -> bool:
    """Whether a run was launched as a dry run (its assets then train briefly, upload nothing)."""
    return tags.get(DRY_RUN_TAG, "false").lower() == "true"


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
