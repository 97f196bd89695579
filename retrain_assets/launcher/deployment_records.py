"""The closing table of a `--submit` invocation: the date's summary run queued on the deployment,
its production table read back from the deployment's instance.

The deployment's summary sensor leaves invocations that report themselves alone, so the
invocation queues the date's `engine_summary_job` there itself: it writes the engine summary,
walk-forward report and desk report from the deployment's records onto the deployment's disk,
which this machine need not share. Its instance is the one the CLI planned on, so the run's
status and its `desk_report` and `engine_summary` materializations are read from it.
"""

import time
from collections.abc import Mapping
from typing import Any

import dagster as dg

from retrain_assets.core.report.desk import row_from_table
from retrain_assets.defs.partitions import SUMMARY_JOB
from retrain_assets.defs.records import run_events
from retrain_assets.launcher.outcome import DeploymentDesk
from retrain_assets.launcher.submit import Deployment, DeploymentError
from retrain_assets.vocabulary.tags import PARTITION_TAG, SUMMARY_OF_TAG

# How long the end of a `--submit` run waits for its summary run (queued behind other runs).
SUMMARY_WAIT_S = 600.0
POLL_S = 1.0
_FINAL = frozenset({"SUCCESS", "FAILURE", "CANCELED"})


def summarize_on(
    deployment: Deployment,
    instance: dg.DagsterInstance,
    date: str,
    tags: Mapping[str, str],
    skipped: Mapping[str, str],
    invocation: str,
    wait_s: float = SUMMARY_WAIT_S,
) -> DeploymentDesk:
    """Queue the date's summary run on the deployment (engine summary, walk-forward report,
    desk report, from its records onto its disk), wait for it, and read its table back.

    Raises:
        DeploymentError: the deployment refused the run, or its instance does not have it.
        DeploymentLost: the deployment stopped answering for longer than its patience.
    """
    run_config = {"ops": {"engine_summary": {"config": {"skipped": dict(skipped)}}}}
    run_tags = {**tags, PARTITION_TAG: date, SUMMARY_OF_TAG: invocation}
    run_id = deployment.launch(SUMMARY_JOB, run_tags, run_config=run_config, what=SUMMARY_JOB)
    deadline = time.monotonic() + wait_s
    status = _status_of(deployment, instance, run_id)
    while status not in _FINAL and time.monotonic() < deadline:
        time.sleep(POLL_S)
        status = _status_of(deployment, instance, run_id)
    return desk_of(run_id, status, materialized(instance, run_id))


def _status_of(deployment: Deployment, instance: dg.DagsterInstance, run_id: str) -> str:
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise DeploymentError(f"--submit {deployment.url}: summary run {run_id} not found")
    return run.status.value


def materialized(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, Any]]:
    """The metadata values of a run's materializations by asset name (the last of each); a
    table is its records' cells."""
    records = run_events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        mat = record.asset_materialization
        if mat is not None:
            found[mat.asset_key.to_user_string()] = {
                label: _value(value) for label, value in mat.metadata.items()
            }
    return found


def _value(value: dg.MetadataValue) -> Any:
    if isinstance(value, dg.TableMetadataValue):
        return [dict(record.data) for record in value.records]
    return value.value


def desk_of(run_id: str, status: str, assets: Mapping[str, Mapping[str, Any]]) -> DeploymentDesk:
    """The production table, headline and paths a summary run recorded; else why not."""
    desk, summary = assets.get("desk_report"), assets.get("engine_summary") or {}
    if desk is None or "production" not in desk:
        why = f"summary run {run_id} on the deployment ended {status} without a production table"
        if status not in _FINAL:
            why = (
                f"summary run {run_id} still {status} on the deployment (desk_report will show it)"
            )
        return DeploymentDesk(run_id, summary=summary.get("path"), problem=why)
    return DeploymentDesk(
        run_id,
        rows=tuple(row_from_table(cells) for cells in desk["production"]),
        headline=desk.get("headline"),
        report=desk.get("report"),
        summary=summary.get("path"),
    )
