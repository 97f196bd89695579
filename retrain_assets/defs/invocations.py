"""Recent invocations as the sensors see them, read from run records and backfills only.

An invocation is the runs sharing its `retrain/invocation` tag (a schedule tick, a CLI call);
a UI or GraphQL backfill is the runs sharing its `dagster/backfill` tag. Nothing else is
stored: whether one has finished is worked out from its runs every time it is asked.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from retrain_assets.defs.records import TERMINAL_STATUSES, latest_per_partition, will_retry
from retrain_assets.vocabulary.keys import is_symbol_day_key, split_partition_key
from retrain_assets.vocabulary.tags import (
    BACKFILL_TAG,
    DATE_TAG,
    PARTITION_TAG,
    SELF_REPORTING,
    SYMBOL_TAG,
    RunTags,
)

BACKFILL_LIMIT = 50
# `BulkActionStatus` values after which a backfill launches nothing more.
BACKFILL_TERMINAL = frozenset(
    {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
)


@dataclass(frozen=True)
class InvocationView:
    """One schedule tick, backfill or launcher call, built from its runs.

    Attributes:
        key: `<source>:<invocation id>` (e.g. `schedule:schedule-20250502T020000Z`) or
            `backfill:<backfill id>`.
        source: Who launched it (see `RunTags.source`).
        date: The trained day, or `first..last` for several.
        mode: The scheduling mode (`backfill` for a UI backfill).
        dry_run: Whether it is a dry run (by its tags; for its messages' "(dry run)" mark).
        total_symbols: Symbol-days it covers, skipped ones included.
        skipped: Symbol-days it skipped as already done.
        started_at: Epoch seconds of its first run (a backfill: when it was requested).
        finished_at: Epoch seconds of its last run's end, once every expected run has ended
            for good; None until then.
        runs: Its run records, symbol-day runs only.
    """

    key: str
    source: str
    date: str
    mode: str
    dry_run: bool
    total_symbols: int
    skipped: int
    started_at: float
    finished_at: float | None
    runs: tuple[dg.RunRecord, ...]

    @property
    def self_reporting(self) -> bool:
        """Whether the launching process reports it to Telegram itself (not the sensors)."""
        return self.source in SELF_REPORTING

    def latest_runs(self) -> list[dg.RunRecord]:
        """The newest run of each symbol-day (a re-execution supersedes the run before)."""
        return list(latest_per_partition(list(self.runs)).values())


def recent_views(
    instance: dg.DagsterInstance, now: float, max_age_s: float
) -> list[InvocationView]:
    """Invocations and backfills started within `max_age_s` of `now`, oldest first.

    Backfills are listed with `get_backfills`, which is not in Dagster's public API: no public
    API lists backfills (the UI's Backfills page reads them the same way).

    Args:
        instance: The Dagster instance holding the runs and backfills.
        now: The current time, epoch seconds.
        max_age_s: How far back to look; older history is never reported.

    Returns:
        The views, self-reporting ones included (see `InvocationView.self_reporting`).
    """
    since = now - max_age_s
    runs = instance.get_run_records(dg.RunsFilter(created_after=datetime.fromtimestamp(since, UTC)))
    views = [invocation_view(tags, group) for tags, group in _by_invocation(runs) if group]
    for backfill in instance.get_backfills(limit=BACKFILL_LIMIT):
        if backfill.backfill_timestamp < since:
            continue
        view = backfill_view(instance, backfill)
        if view.total_symbols:  # a backfill of the summary alone trains nothing
            views.append(view)
    return sorted(views, key=lambda v: v.started_at)


def invocation_view(tags: RunTags, runs: Sequence[dg.RunRecord]) -> InvocationView:
    """The view of the runs sharing one `retrain/invocation` tag.

    It has finished when the newest run of at least `total_symbols - skipped` symbol-days has
    ended for good (not about to be retried); without a `total_symbols` tag, when every run has.
    """
    started = min(r.create_timestamp.timestamp() for r in runs)
    latest = list(latest_per_partition(list(runs)).values())
    total = tags.total_symbols if tags.total_symbols is not None else len(latest) + tags.skipped
    expected = max(total - tags.skipped, 0)
    done = len(latest) >= expected and all(_settled(r) for r in latest)
    return InvocationView(
        key=f"{tags.source}:{tags.invocation}",
        source=tags.source,
        date=_date_span(r.dagster_run.tags.get(DATE_TAG, "") for r in runs),
        mode=tags.mode,
        dry_run=tags.dry_run,
        total_symbols=total,
        skipped=tags.skipped,
        started_at=started,
        finished_at=_last_end(runs, started) if done else None,
        runs=tuple(runs),
    )


def backfill_view(instance: dg.DagsterInstance, backfill: Any) -> InvocationView:
    """The view of one backfill (a `PartitionBackfill` from `instance.get_backfills`).

    Its symbol-days are the `date|symbol` partitions it targets; it has finished when its
    status is terminal and each of its newest runs has ended for good.
    """
    runs = tuple(
        _symbol_day_runs(
            instance.get_run_records(dg.RunsFilter(tags={BACKFILL_TAG: backfill.backfill_id}))
        )
    )
    latest = list(latest_per_partition(list(runs)).values())
    keys = _backfill_partitions(backfill)
    if keys is None:
        keys = [r.dagster_run.tags.get(PARTITION_TAG, "") for r in latest]
    symbol_days = sorted({k for k in keys if is_symbol_day_key(k)})
    tags = RunTags.from_tags(backfill.tags or {})
    done = backfill.status.value in BACKFILL_TERMINAL and all(_settled(r) for r in latest)
    end = backfill.backfill_end_timestamp or _last_end(runs, backfill.backfill_timestamp)
    return InvocationView(
        key=f"backfill:{backfill.backfill_id}",
        source=tags.source if tags else "backfill",
        date=_date_span(split_partition_key(k)[0] for k in symbol_days),
        mode=tags.mode if tags else "backfill",
        dry_run=bool(tags and tags.dry_run),
        total_symbols=len(symbol_days),
        skipped=tags.skipped if tags else 0,
        started_at=float(backfill.backfill_timestamp),
        finished_at=end if done else None,
        runs=runs,
    )


def dates_of(view_date: str) -> list[str]:
    """The dates a view covers: one date, or every day of a `first..last` range."""
    first, _, last = view_date.partition("..")
    try:
        start, stop = date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        return []
    return [(start + timedelta(days=n)).isoformat() for n in range((stop - start).days + 1)]


def _by_invocation(records: Iterable[dg.RunRecord]) -> list[tuple[RunTags, list[dg.RunRecord]]]:
    """Symbol-day runs grouped by invocation; runs of a backfill belong to its backfill view."""
    groups: dict[str, tuple[RunTags, list[dg.RunRecord]]] = {}
    for record in _symbol_day_runs(records):
        run_tags = record.dagster_run.tags
        tags = RunTags.from_tags(run_tags)
        if tags is None or BACKFILL_TAG in run_tags:
            continue
        groups.setdefault(tags.invocation, (tags, []))[1].append(record)
    return list(groups.values())


def _symbol_day_runs(records: Iterable[dg.RunRecord]) -> list[dg.RunRecord]:
    """Runs of one symbol-day (not the per-date summary's)."""
    return [r for r in records if r.dagster_run.tags.get(SYMBOL_TAG)]


def _backfill_partitions(backfill: Any) -> list[str] | None:
    """The partition keys a backfill targets, when they can be read without the asset graph."""
    if backfill.partition_names is not None:
        return [str(k) for k in backfill.partition_names]
    data = backfill.asset_backfill_data
    if data is None:
        return None
    keys: set[str] = set()
    for subset in data.target_subset.partitions_subsets_by_asset_key.values():
        keys.update(str(k) for k in subset.get_partition_keys())
    return sorted(keys)


def _settled(record: dg.RunRecord) -> bool:
    """Ended, and not about to be launched again by the daemon's run retries."""
    run = record.dagster_run
    return run.status in TERMINAL_STATUSES and not will_retry(run)


def _last_end(runs: Sequence[dg.RunRecord], default: float) -> float:
    return max((r.end_time for r in runs if r.end_time), default=default)


def _date_span(dates: Iterable[str]) -> str:
    found = sorted({d for d in dates if d})
    if not found:
        return "?"
    return found[0] if len(found) == 1 else f"{found[0]}..{found[-1]}"
