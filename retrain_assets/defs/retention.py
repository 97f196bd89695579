"""The retention job: deletes old run folders and finished checkpoints, locally and remotely.

Protected folders come from the instance and the artifact root: each symbol's champion (its
production manifest), the folders of unfinished runs, and folders holding an upload the
pending-uploads sensor has not verified yet. Remote objects go first, so a folder whose remote
deletion failed keeps its local copy and is planned again on the next run.
"""

import dataclasses
import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from resources.artifact_io import ArtifactRootResource
from resources.storage import InPlaceLocalBackend, StorageDriver, StorageResource
from resources.uploads import (
    PendingCursor,
    recorded_entries,
    scan_new_materializations,
    verified_later,
)
from retrain_assets.adapters.atomic import sweep_stale_temp_files
from retrain_assets.adapters.retention_files import (
    apply_local,
    apply_remote,
    list_checkpoint_days,
    list_run_folders,
    read_champions,
)
from retrain_assets.adapters.storage import LocalBackend, StorageBackend
from retrain_assets.core.lifecycle.retention import (
    Action,
    Reason,
    RemoteOutcome,
    RetentionPlan,
    RetentionPolicy,
    checkpoints_to_sweep,
    folders_of_runs,
    plan_retention,
    protections,
    run_folder_path,
)
from retrain_assets.core.redaction import redact, secrets_from_env
from retrain_assets.defs.assets import symbol_day_assets
from retrain_assets.defs.records import ACTIVE_STATUSES
from retrain_assets.vocabulary.tags import DATE_TAG, RANGE_START_TAG, SYMBOL_TAG

# The assets whose materializations record files that may be pending upload.
ARTIFACT_ASSETS = tuple(a.key.path[-1] for a in symbol_day_assets)

# Structural like the retrain schedule's cron: read once when the code location loads. The
# default runs four hours after the retrain schedule's default (02:00 UTC).
RETENTION_CRON = os.environ.get("RETRAIN_RETENTION_CRON") or "0 6 * * *"


class RetentionConfig(dg.Config):
    """Run config of `retention_job`."""

    keep: int = Field(
        default=30,
        description="Run folders kept per symbol, newest first (>= 1), besides "
        "protected ones (champion, pending uploads, unfinished runs).",
    )
    dry_run: bool = Field(default=False, description="Plan and report only; delete nothing.")
    sweep_checkpoints: bool = Field(
        default=True, description="Also delete checkpoints of symbol-days without an active run."
    )
    stale_temp_hours: float = Field(
        default=24.0,
        description="Also delete the temp files (`.<name>.tmp-<id>`) killed writers left under "
        "the artifact root and a local store's root, once unchanged this many hours (> 0).",
    )


def unfinished_runs(instance: dg.DagsterInstance, exclude: str) -> list[dg.DagsterRun]:
    """Runs queued, starting, running or canceling, other than the run `exclude`."""
    records = instance.get_run_records(dg.RunsFilter(statuses=list(ACTIVE_STATUSES)))
    return [r.dagster_run for r in records if r.dagster_run.run_id != exclude]


def active_partitions(runs: list[dg.DagsterRun]) -> set[tuple[str, str]] | None:
    """`(date, symbol)` of the unfinished runs; None when one covers a partition range."""
    # A ranged backfill run names no single symbol-day: while one is active no checkpoint is swept.
    if any(RANGE_START_TAG in run.tags for run in runs):
        return None
    return {
        (run.tags[DATE_TAG], run.tags[SYMBOL_TAG])
        for run in runs
        if DATE_TAG in run.tags and SYMBOL_TAG in run.tags
    }


def pending_folders(instance: dg.DagsterInstance) -> set[str]:
    """Run folders holding a file whose upload is pending and not verified later.

    Scans materializations the way the pending-uploads sensor does, from the beginning.
    """
    cursor = PendingCursor()
    while True:  # the sensor's scan reads one page per asset and tick: page to the end
        before = dict(cursor.after)
        scan_new_materializations(instance, cursor, ARTIFACT_ASSETS)
        if cursor.after == before:
            break
    found: set[str] = set()
    for sid, (asset, partition) in cursor.pending.items():
        key = dg.AssetKey(asset)
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, storage_ids=[int(sid)]), limit=1
        ).records
        if not records or records[0].asset_materialization is None:
            continue
        done = verified_later(instance, key, partition, int(sid))
        for name, entry in recorded_entries(records[0].asset_materialization.metadata).items():
            if entry.get("pending_upload") and name not in done:
                folder = Path(entry["path"]).parent
                found.add(run_folder_path(folder.parent.name, folder.name))
    return found


def remote_backend(
    storage: StorageResource, root: Path, tags: dict[str, str]
) -> StorageBackend | None:
    """The run's store, or None when it is the artifact root itself (local, in place)."""
    backend = storage.backend(storage.driver_for(tags), root)
    return None if isinstance(backend, InPlaceLocalBackend) else backend


def sweep_temp_files(
    context: dg.OpExecutionContext, storage: StorageResource, root: Path, policy: RetentionPolicy
) -> list[Path]:
    """Delete (or, dry, list) stale temp files under the artifact root and a local store's root.

    A writer killed between its temp file and the rename (a timeout's SIGKILL, a lost pod)
    leaves the temp file behind; nothing else ever removes it.
    """
    roots = {root.resolve()}
    if storage.driver_for(dict(context.run.tags)) is StorageDriver.LOCAL:
        backend = storage.backend(StorageDriver.LOCAL, root)
        if isinstance(backend, LocalBackend):
            roots.add(backend.root)
    older_than_s = policy.stale_temp_hours * 3600
    swept = [
        path
        for folder in sorted(roots)
        for path in sweep_stale_temp_files(folder, older_than_s, dry_run=policy.dry_run)
    ]
    verb = "would delete" if policy.dry_run else "deleted"
    for path in swept:
        context.log.info(f"{verb} stale temp file {path}")
    return swept


def report_metadata(
    plan: RetentionPlan, remote: RemoteOutcome | None, deleted: list[str], dry_run: bool
) -> dict[str, dg.MetadataValue]:
    """Op output metadata: counts and a table of every deletion and every protected folder."""
    rows = [
        dg.TableRecord(
            {
                "symbol": d.symbol,
                "folder": d.path,
                "action": "would delete"
                if dry_run and d.action is Action.DELETE
                else str(d.action),
                "reason": str(d.reason),
                "detail": d.detail,
            }
        )
        for d in (*plan.folders, *plan.checkpoints)
        if d.reason is not Reason.NEWEST
    ]
    columns = ["symbol", "folder", "action", "reason", "detail"]
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    planned = plan.deletions()
    return {
        "dry_run": dg.MetadataValue.bool(dry_run),
        "keep": dg.MetadataValue.int(plan.keep),
        "planned_deletions": dg.MetadataValue.int(len(planned)),
        "deleted_local": dg.MetadataValue.int(len(deleted)),
        "deleted_remote_objects": dg.MetadataValue.int(
            sum((remote.deleted if remote else {}).values())
        ),
        "remote_failures": dg.MetadataValue.int(len(remote.failed) if remote else 0),
        "protected": dg.MetadataValue.int(
            sum(d.reason not in (Reason.NEWEST, Reason.OLDER) for d in plan.folders)
        ),
        "folders": dg.MetadataValue.table(rows, schema=schema),
    }


def build_plan(
    context: dg.OpExecutionContext, policy: RetentionPolicy, root: Path
) -> RetentionPlan:
    """The plan from the instance's runs and records and the champions under `root`."""
    runs = unfinished_runs(context.instance, exclude=context.run_id)
    pending = pending_folders(context.instance)  # after the runs: a run ending now is seen
    champions = read_champions(root)
    folders = list_run_folders(root)
    protected = protections(
        champions.folders, folders_of_runs(folders, [r.run_id for r in runs]), pending
    )
    plan = plan_retention(folders, policy.keep, protected, blocked=champions.errors)
    active = active_partitions(runs)
    if not policy.sweep_checkpoints or active is None:
        if active is None:
            context.log.info("a ranged backfill run is active: no checkpoint is swept")
        return plan
    return dataclasses.replace(
        plan, checkpoints=checkpoints_to_sweep(list_checkpoint_days(root), active)
    )


@dg.op(description="Delete run folders beyond the newest `keep` per symbol, and old checkpoints.")
def retention(
    context: dg.OpExecutionContext,
    config: RetentionConfig,
    artifacts: ArtifactRootResource,
    storage: StorageResource,
) -> dg.Output[RetentionPlan]:
    """Plan retention, then delete remotely and locally unless `dry_run`; report every folder."""
    policy = RetentionPolicy(
        config.keep, config.sweep_checkpoints, config.dry_run, config.stale_temp_hours
    )
    root = artifacts.layout().root
    backend = None if policy.dry_run else remote_backend(storage, root, dict(context.run.tags))
    plan = build_plan(context, policy, root)
    remote: RemoteOutcome | None = None
    deleted: list[str] = []
    if not policy.dry_run:
        remote = apply_remote(plan, backend, storage.remote_prefix) if backend else None
        deleted = apply_local(plan, root, skip=set(remote.failed) if remote else set())
    store = "dry run" if policy.dry_run else (backend.name if backend else "none (in place)")
    done = set(deleted)
    for decision in plan.deletions():
        verb = "would delete" if policy.dry_run else "deleted" if decision.path in done else "kept"
        context.log.info(f"{verb} {decision.path} ({decision.reason}, {decision.detail})")
    context.log.info(
        f"retention keep={policy.keep}: {len(plan.deletions())} folder(s) planned, "
        f"{len(deleted)} deleted locally, remote: {store}"
    )
    metadata = report_metadata(plan, remote, deleted, policy.dry_run)
    metadata["remote_backend"] = dg.MetadataValue.text(store)
    swept = sweep_temp_files(context, storage, root, policy)
    metadata["stale_temp_files"] = dg.MetadataValue.int(len(swept))
    _fail_on_problems(context, plan, remote, metadata)
    return dg.Output(plan, metadata=metadata)


def _fail_on_problems(
    context: dg.OpExecutionContext,
    plan: RetentionPlan,
    remote: RemoteOutcome | None,
    metadata: dict[str, dg.MetadataValue],
) -> None:
    """Fail the run, after the rest was done, for blocked symbols and failed remote deletes."""
    secrets = secrets_from_env(os.environ)
    problems = sorted({d.detail for d in plan.folders if d.reason is Reason.BLOCKED})
    problems += [
        f"{path}: remote delete failed: {err}"
        for path, err in (remote.failed if remote else {}).items()
    ]
    if not problems:
        return
    text = redact("; ".join(problems), secrets)[:2000]
    context.log.error(text)
    raise dg.Failure(description=text, metadata=metadata, allow_retries=False)


@dg.job(description="Delete old run folders (local and remote) and finished checkpoints.")
def retention_job() -> None:
    """Keep the newest `keep` run folders per symbol plus every protected one."""
    retention()


retention_schedule = dg.ScheduleDefinition(
    name="retention_schedule",
    job=retention_job,
    cron_schedule=RETENTION_CRON,
    execution_timezone="UTC",
    # Deleting is opt-in: start the schedule in the UI or with `dagster schedule start`.
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily retention of run folders and checkpoints, after the retrain schedule.",
)
