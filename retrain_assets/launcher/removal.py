"""`retrain --remove_symbol SYMBOL`: unregister a symbol that was added by mistake.

Its `symbols` partition is deleted with Dagster's public
`DagsterInstance.delete_dynamic_partition`, so the partitions pages, the backfill dialog and
the schedule no longer offer it (nor does the retired set keep it). `engine_summary` and
`walk_forward_report` list only registered symbols, so the dates that listed it are
materialized again: the summary of each summarized date with a run of it, the report of each
reported date from its first real run on, and the desk report of each of those dates that had
one. Its runs, event logs and artifact files stay.
"""

from dataclasses import dataclass

import dagster as dg

from retrain_assets.core.data.symbols import normalize_symbol
from retrain_assets.core.errors import InvalidSymbolError, PermanentError
from retrain_assets.defs.partitions import SYMBOLS
from retrain_assets.defs.records import ACTIVE_STATUSES
from retrain_assets.launcher import environment
from retrain_assets.vocabulary.tags import DATE_TAG, PARTITION_TAG, REMOVED_TAG, SYMBOL_TAG

FLAG = "--remove_symbol"
SUMMARY = dg.AssetKey("engine_summary")
REPORT = dg.AssetKey("walk_forward_report")
DESK = dg.AssetKey("desk_report")
_SHOWN = 5


@dataclass(frozen=True)
class Removal:
    """What a removal did: the dates refreshed, and those whose refresh failed."""

    symbol: str
    summaries: tuple[str, ...]
    reports: tuple[str, ...]
    failed: tuple[str, ...]
    desks: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """What the CLI prints, one fact a line."""
        lines = [f"removed {self.symbol}: no longer a `symbols` partition"]
        for what, dates in (
            ("engine_summary", self.summaries),
            ("walk_forward_report", self.reports),
            ("desk_report", self.desks),
        ):
            if dates:
                lines.append(f"refreshed {what} of {_dates(dates)} (without {self.symbol})")
        for date in self.failed:
            lines.append(
                f"failed to refresh {date}: run the job engine_summary_job for partition {date}"
            )
        lines.append(
            f"kept: {self.symbol}'s runs and event logs, and its files under the artifact root "
            f"(models/{self.symbol}/, production/{self.symbol}/); see docs/operations.md"
        )
        return lines


def remove_symbol(raw: str) -> Removal:
    """Unregister `raw`'s symbol from the instance `DAGSTER_HOME` names; see the module doc.

    Raises:
        PermanentError: The symbol is invalid, not registered, or has runs in progress; the
            home, its database or the artifact root is unusable. Nothing is changed then.
    """
    from resources.settings import artifact_root
    from retrain_assets.launcher.home import open_instance, prepare_home

    environment.check_settings_text()
    environment.check_text(FLAG, raw)
    try:
        symbol = normalize_symbol(raw)
    except InvalidSymbolError as exc:
        raise InvalidSymbolError(f"{FLAG}: {exc}") from None
    home = environment.dagster_home()
    environment.writable_folder(
        artifact_root(None), "RETRAIN_ARTIFACT_ROOT"
    )  # the refreshes write there
    if not home.exists():
        raise PermanentError(f"{FLAG}: {symbol} is not a registered symbol (no instance at {home})")
    environment.check_instance_database(environment.storage_dir(home))
    with open_instance(prepare_home(home)) as instance:
        _check_removable(instance, symbol)
        summaries, reports = _dates_listing(instance, symbol)
        # A desk report is built from its date's summary and report: refreshed with either.
        listed = set(summaries) | set(reports)
        desks = tuple(sorted(listed & _materialized_dates(instance, DESK)))
        instance.delete_dynamic_partition(SYMBOLS, symbol)
        _unretire(instance, symbol)
        failed = _refresh(instance, symbol, summaries, reports, desks)
    return Removal(symbol, summaries, reports, failed, desks)


def _check_removable(instance: dg.DagsterInstance, symbol: str) -> None:
    if not instance.has_dynamic_partition(SYMBOLS, symbol):
        registered = list(instance.get_dynamic_partitions(SYMBOLS))
        shown = ", ".join(registered[:_SHOWN]) or "none"
        more = f" and {len(registered) - _SHOWN} more" if len(registered) > _SHOWN else ""
        raise PermanentError(
            f"{FLAG}: {symbol} is not a registered symbol (registered: {shown}{more})"
        )
    active = instance.get_run_records(
        dg.RunsFilter(tags={SYMBOL_TAG: symbol}, statuses=list(ACTIVE_STATUSES))
    )
    if active:
        raise PermanentError(
            f"{FLAG}: {symbol} has {len(active)} run(s) queued or running; "
            "let them end or cancel them, then remove it"
        )


def _materialized_dates(instance: dg.DagsterInstance, key: dg.AssetKey) -> set[str]:
    """The dates a per-date asset was materialized for.

    `get_materialized_partitions` is not in Dagster's public API; the public
    `get_status_by_partition` needs every partition key to ask about, which for these
    assets is each date since the start date, to learn the few that exist.
    """
    return set(instance.get_materialized_partitions(key))


def _dates_listing(
    instance: dg.DagsterInstance, symbol: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(summaries, reports) of the dates that list the symbol now."""
    runs = instance.get_run_records(dg.RunsFilter(tags={SYMBOL_TAG: symbol}))
    dates = {r.dagster_run.tags[DATE_TAG] for r in runs}
    summaries = dates & _materialized_dates(instance, SUMMARY)
    # A report chains the days of a window ending at its date: any report since the first day.
    first = min(dates, default=None)
    reports = {d for d in _materialized_dates(instance, REPORT) if first and d >= first}
    return tuple(sorted(summaries)), tuple(sorted(reports))


def _unretire(instance: dg.DagsterInstance, symbol: str) -> None:
    from retrain_assets.defs.universe import RETIRED

    instance.delete_dynamic_partition(RETIRED, symbol)  # silent when it was not retired


def _refresh(
    instance: dg.DagsterInstance,
    symbol: str,
    summaries: tuple[str, ...],
    reports: tuple[str, ...],
    desks: tuple[str, ...],
) -> tuple[str, ...]:
    """Materialize each date's summary, report and desk report again (those it had); returns
    the dates that failed."""
    from retrain_assets.launcher.jobs import summary_job_def
    from retrain_assets.launcher.local import QUIET_CONSOLE

    failed = []
    for date in sorted(set(summaries) | set(reports)):
        listing = ((SUMMARY, summaries), (REPORT, reports), (DESK, desks))
        keys = [k for k, dates in listing if date in dates]
        result = dg.execute_job(
            dg.reconstructable(summary_job_def),
            instance=instance,
            run_config=QUIET_CONSOLE,
            tags={PARTITION_TAG: date, REMOVED_TAG: symbol},
            asset_selection=keys,
            raise_on_error=False,
        )
        if not result.success:
            failed.append(date)
    return tuple(failed)


def _dates(dates: tuple[str, ...]) -> str:
    shown = ", ".join(dates[:_SHOWN])
    return f"{shown} and {len(dates) - _SHOWN} more" if len(dates) > _SHOWN else shown
