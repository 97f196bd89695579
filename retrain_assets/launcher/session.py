"""The working half of an invocation, after every check passed: plan, run, summarize, notify.

A dry run goes the same way, with the same job and assets, on the instance and artifact root
of its own that the checks chose (`environment.dry_run_places`); what it exports
(`home.exported`) is what its workers and the summary run see.
"""

import json
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import dagster as dg

from retrain_assets.core.lifecycle.artifacts import ArtifactLayout
from retrain_assets.defs.notifier import Finished, Notifier
from retrain_assets.launcher.config import SchedulerConfig
from retrain_assets.launcher.home import exported, open_instance, prepare_home
from retrain_assets.launcher.invocation import (
    Invocation,
    execute_locally,
    local_workers,
    prepare,
)
from retrain_assets.launcher.job_events import job_completed, job_log, job_started
from retrain_assets.launcher.outcome import Checked, DeploymentDesk, InvocationResult
from retrain_assets.launcher.pending_uploads import complete_pending_uploads
from retrain_assets.launcher.plan import AssetGraph, SymbolPlan, plan_date
from retrain_assets.launcher.progress import ProgressFn
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.vocabulary.tags import PARTITION_TAG, SUMMARY_OF_TAG, RunTags

if TYPE_CHECKING:  # the GraphQL client loads only for --submit
    from retrain_assets.launcher.submit import Deployment


def execute_invocation(
    checked: Checked,
    config: SchedulerConfig,
    progress: ProgressFn | None,
    source: str,
    deployment: "Deployment | None" = None,
) -> InvocationResult:
    """Open the instance, plan the date, execute, then write the summary and report."""
    with exported(checked.home, checked.artifact_root):
        return _execute(checked, config, progress, source, deployment)


def _execute(
    checked: Checked,
    config: SchedulerConfig,
    progress: ProgressFn | None,
    source: str,
    deployment: "Deployment | None",
) -> InvocationResult:
    inv = _open(checked, config, source)
    plans = _plan(inv, checked.artifact_root)
    todo = sum(1 for p in plans if not p.skipped)
    if deployment is None:
        workers = local_workers(inv, plans)
    else:
        workers = config.workers(inv.hardware, todo, max(todo, 1))
    notifier = Notifier.from_env()
    notifier.start(inv.date, len(plans), str(config.mode), config.dry_run)
    log = job_log(inv.layout, inv.date, inv.invocation_id, str(config.mode))
    job_started(log, inv.header(workers), inv.symbols, len(plans) - todo)
    report = _failure_reporter(notifier, inv.date, progress)
    specs = partial(_specs, inv, plans)
    if deployment is None:
        statuses = execute_locally(inv, plans, specs, report, workers)
    else:
        from retrain_assets.launcher.remote import execute_remotely

        statuses = execute_remotely(inv, plans, deployment, specs, report, workers)
    statuses = _with_metrics(inv, statuses)
    job_completed(log, statuses, time.monotonic() - inv.started)
    summary = desk = None
    if not inv.exit_now:
        tags = inv.run_tags(plans, workers, None).to_tags()
        if deployment is None:
            summary = _summarize(inv, statuses, tags)
        else:
            desk = _summarize_on(deployment, inv, statuses, tags)
        duration = time.monotonic() - inv.started
        line = desk.headline if desk is not None else _headline(summary)
        notifier.completion(
            Finished.of_statuses(inv.date, list(statuses.values()), duration, headline=line)
        )
    status_path = inv.status_path
    return InvocationResult(
        inv.invocation_id,
        inv.date,
        statuses,
        status_path,
        summary,
        inv.interrupted,
        checked.home if config.dry_run else None,
        desk,
    )


def _open(checked: Checked, config: SchedulerConfig, source: str) -> Invocation:
    """The instance (created once), the universe of the date (at its 00:00), partitions added."""
    from retrain_assets.core.data.symbols import universe_for_day
    from retrain_assets.launcher.market_check import market_data_resource

    instance = open_instance(prepare_home(checked.home))
    # The source the checks asked, as the runs' definitions build it (the settings file too).
    bars = market_data_resource().bar_source()
    chosen = universe_for_day(checked.selection, bars, checked.date)
    layout = ArtifactLayout(checked.artifact_root)
    inv = Invocation(checked.date, chosen, config, instance, layout, source=source)  # type: ignore[arg-type]
    prepare(inv)
    inv.pending_uploads = complete_pending_uploads(inv)
    return inv


def _plan(inv: Invocation, root: Any) -> list[SymbolPlan]:
    from resources.storage import StorageResource
    from retrain_assets.definitions import current_configuration
    from retrain_assets.defs.assets import symbol_day_assets

    storage = StorageResource()

    def restore(entry: dict[str, Any], dest: Any) -> None:
        storage.backend(entry["backend"], root).get(entry["remote_path"], dest)

    return plan_date(
        inv.instance,
        AssetGraph.of(symbol_day_assets),
        inv.date,
        inv.symbols,
        force=inv.config.force,
        restore=restore,
        current=current_configuration(),
    )


def _specs(inv: Invocation, plans: list[SymbolPlan], tags: RunTags) -> list[RunSpec]:
    from retrain_assets.defs.partitions import RETRAIN_JOB

    return [
        RunSpec(inv.date, p.symbol, RETRAIN_JOB, tuple((a,) for a in p.assets), tags.to_tags())
        for p in plans
        if not p.skipped
    ]


def _failure_reporter(notifier: Notifier, date: str, progress: ProgressFn | None) -> ProgressFn:
    """Progress that also sends one Telegram alert per symbol as it fails for good."""
    alerted: set[str] = set()

    def report(statuses: Mapping[str, SymbolStatus], elapsed_s: float) -> None:
        for s in statuses.values():
            if s.status == "failed" and s.run_id and s.run_id not in alerted:
                alerted.add(s.run_id)
                notifier.failure(s.symbol, date, s.error_type, s.error, s.run_id)
        if progress is not None:
            progress(statuses, elapsed_s)

    return report


def _with_metrics(inv: Invocation, statuses: Mapping[str, SymbolStatus]) -> dict[str, SymbolStatus]:
    """Fill in each skipped symbol's metrics.json path and net bps from its latest `metrics`."""
    from retrain_assets.launcher.ledger import with_latest_metrics

    # Symbols run now got theirs from their run (the ledger); the skipped ones need a look.
    done = [s.symbol for s in statuses.values() if s.ok and not s.metrics_path]
    return with_latest_metrics(inv.instance, inv.date, statuses, done)


def _skipped(statuses: Mapping[str, SymbolStatus]) -> dict[str, str]:
    return {s.symbol: s.skip_reason or "" for s in statuses.values() if s.status == "skipped"}


def _headline(summary_path: Any) -> str | None:
    """The production table's headline of the summary this invocation wrote (None without)."""
    from retrain_assets.core.report.desk import headline, production_rows

    if summary_path is None or not summary_path.exists():
        return None
    summary = json.loads(summary_path.read_bytes())
    rows = production_rows(summary)
    return headline(summary, rows) if rows else None


def _summarize_on(
    deployment: "Deployment", inv: Invocation, statuses: Mapping[str, SymbolStatus], tags: dict
) -> DeploymentDesk:
    """`--submit`: the date's summary made on the deployment, from its records onto its disk
    (this machine need not share the disk), and its production table read back from its
    instance; a deployment lost or refusing at this point costs the table, not the
    invocation's result."""
    from retrain_assets.core.errors import RetrainError
    from retrain_assets.launcher.deployment_records import summarize_on

    try:
        return summarize_on(
            deployment, inv.instance, inv.date, tags, _skipped(statuses), inv.invocation_id
        )
    except RetrainError as exc:
        return DeploymentDesk("", problem=f"no production table from the deployment: {exc}")
    except KeyboardInterrupt:  # the runs are done: only the wait for the table is given up
        inv.interrupted = True
        return DeploymentDesk("", problem="interrupted: the summary run goes on there")


def _summarize(inv: Invocation, statuses: Mapping[str, SymbolStatus], tags: dict) -> Any:
    """The date's engine summary and walk-forward report, materialized (a dry run's on its own
    instance, under its own root)."""
    from retrain_assets.launcher.jobs import summary_job_def
    from retrain_assets.launcher.local import QUIET_CONSOLE

    skipped = _skipped(statuses)
    dg.execute_job(
        dg.reconstructable(summary_job_def),
        instance=inv.instance,
        run_config={**QUIET_CONSOLE, "ops": {"engine_summary": {"config": {"skipped": skipped}}}},
        tags={**tags, PARTITION_TAG: inv.date, SUMMARY_OF_TAG: inv.invocation_id},
        raise_on_error=False,
    )
    path = inv.layout.summary_file(inv.date)
    return path if path.exists() else None
