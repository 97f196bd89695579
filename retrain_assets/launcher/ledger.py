"""The invocation's ledger: per-symbol status read from its runs, exported to status.json.

`runs/YYYYMMDDZ/status.json` is a readable export of the instance's records, written
atomically at most once a second while things change and once at the end, so its cost grows
with the symbols, not with their square. A finished run never changes, so its entry (attempts,
failure) is read from the event log once.
"""

import json
import time
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.adapters.locks import FileLock
from retrain_assets.core.lifecycle.artifacts import json_bytes
from retrain_assets.defs.lifecycle_records import champion_metadata
from retrain_assets.defs.records import (
    attempts_of,
    failure_of,
    latest_metadata_by_partition,
    latest_per_partition,
    metrics_materialization,
    will_retry,
)
from retrain_assets.defs.summary_records import date_runs, latest_per_symbol
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.status import FINAL, State, SymbolStatus
from retrain_assets.vocabulary.figures import figure, whole
from retrain_assets.vocabulary.keys import split_partition_key, symbol_day_key
from retrain_assets.vocabulary.tags import INVOCATION_TAG, SYMBOL_TAG

_RUN_STATE: dict[dg.DagsterRunStatus, State] = {
    dg.DagsterRunStatus.QUEUED: "pending",  # in a deployment's run queue, not started
    dg.DagsterRunStatus.SUCCESS: "success",
    dg.DagsterRunStatus.FAILURE: "failed",
    dg.DagsterRunStatus.CANCELED: "canceled",
}


def initial_statuses(plans: Iterable[SymbolPlan]) -> dict[str, SymbolStatus]:
    """Pending or skipped entries, straight from the plan."""
    return {
        p.symbol: SymbolStatus(
            p.symbol,
            "skipped" if p.skipped else "pending",
            skip_reason=p.skip_reason,
            repaired=p.repaired,
            stale=p.stale,
            assets=p.assets,
            reused=p.reused,
        )
        for p in plans
    }


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None


class InvocationLedger:
    """Reads an invocation's runs from the instance into `SymbolStatus` records."""

    def __init__(self, instance: dg.DagsterInstance, invocation: str, plans: list[SymbolPlan]):
        self.instance = instance
        self.invocation = invocation
        self.statuses = initial_statuses(plans)
        self._finished: dict[str, SymbolStatus] = {}

    def refresh(self) -> dict[str, SymbolStatus]:
        """Update every non-final symbol from its newest run; return all statuses."""
        records = self.instance.get_run_records(
            dg.RunsFilter(tags={INVOCATION_TAG: self.invocation})
        )
        for record in latest_per_partition(list(records)).values():
            symbol = record.dagster_run.tags.get(SYMBOL_TAG, "")
            if symbol in self.statuses and self.statuses[symbol].status != "skipped":
                self.statuses[symbol] = self._entry(self.statuses[symbol], record)
        return dict(self.statuses)

    def follow(self, symbol: str, record: dg.RunRecord) -> None:
        """Read `symbol` from another invocation's run doing its symbol-day (`--submit` follows
        a run its deployment already has instead of queueing the work again)."""
        self.statuses[symbol] = self._entry(self.statuses[symbol], record)

    def mark(self, symbol: str, **changes: Any) -> None:
        """Set facts the runs cannot tell (a symbol another run was already training)."""
        self.statuses[symbol] = self.statuses[symbol].with_run(**changes)

    def _entry(self, base: SymbolStatus, record: dg.RunRecord) -> SymbolStatus:
        run_id = record.dagster_run.run_id
        if run_id in self._finished:
            return self._finished[run_id]
        entry = run_entry(self.instance, base, record)
        if entry.final:
            self._finished[run_id] = entry
        return entry


def run_entry(
    instance: dg.DagsterInstance, base: SymbolStatus, record: dg.RunRecord
) -> SymbolStatus:
    """`base` with the facts of one symbol-day run: state, times, attempts, metrics or failure.

    A queued run is pending, and so is a failed run the daemon's run retries launch again (a
    newer run takes over); any other unfinished run is running.
    """
    run = record.dagster_run
    facts: dict[str, Any] = {
        "run_id": run.run_id,
        "started_at": _iso(record.start_time),
        "ended_at": _iso(record.end_time),
    }
    state = _RUN_STATE.get(run.status, "running")
    if state == "failed" and will_retry(run):
        state = "pending"
    if state in ("pending", "running"):
        return base.with_run(status=state, **facts)
    facts["attempts"] = attempts_of(instance, run.run_id)
    if state == "success":
        facts.update(metrics_of_run(instance, run.run_id))
    else:
        failure = failure_of(instance, run.run_id)
        facts.update(
            error_type=failure.error_type, error=failure.message, stack_summary=failure.stack
        )
    return base.with_run(status=state, **facts)


def metrics_of_run(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    """metrics.json's path, the net bps with its interval and evidence, and the gate's move."""
    md = metrics_materialization(instance, run_id)
    if md is None:
        return {}
    return {**metrics_facts(md), "champion": champion_of_run(instance, run_id)}


def metrics_facts(md: dict[str, Any]) -> dict[str, Any]:
    """The SymbolStatus fields read from a `metrics` materialization's metadata."""
    path = ((md.get("files") or {}).get("metrics.json") or {}).get("path")
    low, high = figure(md.get("net_bps_lo")), figure(md.get("net_bps_hi"))
    return {
        "metrics_path": path,
        "net_bps_after_costs": figure(md.get("net_bps_after_costs")),
        "net_bps_per_trade": figure(md.get("net_bps_per_trade")),
        "net_bps_interval": None if low is None or high is None else (low, high),
        "trades": whole(md.get("trades")),
        "evidence": md.get("status"),
        "source": md.get("source"),
        "method": md.get("method"),
    }


def with_latest_metrics(
    instance: dg.DagsterInstance,
    date: str,
    statuses: Mapping[str, SymbolStatus],
    symbols: Iterable[str],
) -> dict[str, SymbolStatus]:
    """`statuses` with the facts of the newest `metrics` of each of `symbols` on `date`: the
    line of a symbol this invocation did not run (skipped as done), from its latest result."""
    keys = [symbol_day_key(date, symbol) for symbol in symbols]
    result = dict(statuses)
    for key, md in latest_metadata_by_partition(instance, dg.AssetKey("metrics"), keys).items():
        symbol = split_partition_key(key)[1]
        result[symbol] = result[symbol].with_run(**metrics_facts(md))
    return result


def champion_of_run(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """What the run's decision did, in the words the CLI prints (`champion_words`); None when
    the run made no decision."""
    champion = champion_metadata(instance, run_id)
    return None if champion is None else champion_words(champion)


def champion_words(champion: Mapping[str, Any]) -> str:
    """A `champion` materialization's decision in the CLI's words: `champion promoted`,
    `champion demoted, now flat (why)`, `kept (champion since D; failing conditions)`, `no
    champion yet (failing conditions)`."""
    action = champion.get("action") or ("promoted" if champion.get("moved") else "kept")
    failing = champion.get("gate_failing") or "gate"
    if action == "promoted":
        return "champion promoted"
    if action == "demoted":
        why = str(champion.get("reason") or "").removeprefix("demoted: ").split(";")[0]
        return f"champion demoted, now flat ({why})"
    if action == "flat":
        return f"no champion yet ({failing})"
    since = champion.get("champion_since")
    if since in (None, "", "none"):
        since = champion.get("champion_as_of")
    return f"kept (champion since {since}; {failing})"


class DateRecords:
    """The symbols of a date that other invocations ran, as the instance's newest runs have
    them now (a dry run's instance holds dry runs only, like its own status.json)."""

    def __init__(self, instance: dg.DagsterInstance, date: str) -> None:
        self.instance = instance
        self.date = date

    def refresh(self, previous: dict[str, Any], symbols: set[str]) -> dict[str, Any]:
        """`previous` entries of `symbols`, rebuilt where a newer or unfinished run exists."""
        newest = latest_per_symbol(date_runs(self.instance, self.date))
        result = {s: previous[s] for s in symbols if s in previous}
        for symbol in symbols & set(newest):
            record, entry = newest[symbol], previous.get(symbol, {})
            if entry.get("run_id") == record.dagster_run.run_id and entry.get("status") in FINAL:
                continue  # a finished run never changes: its entry stands
            status = run_entry(self.instance, SymbolStatus(symbol), record)
            result[symbol] = status.to_json()
        return result


class StatusFile:
    """status.json of one date: this invocation's symbols as it knows them, every other symbol
    of the date as the instance has it, so whoever writes last writes the records' truth.

    Writers of one date take turns under `lock` (a file beside the instance), each re-reading
    the file; without `records` other symbols are kept as the file had them. Throttled to one
    write a second, plus the final one.
    """

    def __init__(
        self,
        path: Path,
        header: dict[str, Any],
        min_interval_s: float = 1.0,
        *,
        records: DateRecords | None = None,
        lock: Path | None = None,
    ) -> None:
        self.path = path
        self.header = header
        self.min_interval_s = min_interval_s
        self.records = records
        self.lock = lock
        self._last_written: dict[str, Any] | None = None
        self._last_time = 0.0

    def _read_previous(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.path.read_text()).get("symbols", {}))
        except (OSError, ValueError):
            return {}

    def write(
        self,
        statuses: dict[str, SymbolStatus],
        *,
        final: bool = False,
        from_records: frozenset[str] = frozenset(),
    ) -> bool:
        """Export when something changed and the interval passed (always when `final`).

        `from_records`: symbols of this invocation that another run had, shown as it has them.
        """
        symbols = {s: v.to_json() for s, v in statuses.items() if s not in from_records}
        if symbols == self._last_written and not final:
            return False
        if not final and time.monotonic() - self._last_time < self.min_interval_s:
            return False
        with FileLock(self.lock) if self.lock else nullcontext():
            previous = self._read_previous()
            others = set(previous) - set(symbols) | set(from_records)
            if self.records is not None:
                previous = self.records.refresh(previous, others)
            document = {
                **self.header,
                "updated_at": datetime.now(UTC).isoformat(),
                "symbols": {**{s: previous[s] for s in others if s in previous}, **symbols},
            }
            atomic_write_bytes(self.path, json_bytes(document))
        self._last_written, self._last_time = symbols, time.monotonic()
        return True
