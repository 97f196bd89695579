"""Readers of the instance's records: how a run ended, and why it failed.

The launcher's status, the summary and the Telegram sensors all read runs through these, so a
failure reads the same everywhere.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from retrain_assets.vocabulary.tags import PARTITION_TAG, WILL_RETRY_TAG

ERROR_TYPE_ALIASES = {"TrainingTimeout": "Timeout"}
CANCELED = "Canceled"
# Dagster's own words for a cancellation, which name no reason ("Run was canceled. Failed
# steps: [...]", 'Execution of run for "job" canceled.', "This run has been marked as canceled
# from outside ...", a terminate's "Sending run termination request.").
_GENERIC_CANCEL = re.compile(
    r"^(Run was canceled|Execution of run for .* canceled|This run has been marked|Sending run)"
)
ACTIVE_STATUSES = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)
TERMINAL_STATUSES = frozenset(
    {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
)


def run_events(
    instance: dg.DagsterInstance,
    run_id: str,
    of_type: dg.DagsterEventType | set[dg.DagsterEventType],
) -> Sequence[dg.EventLogRecord]:
    """A run's event records of the given types, oldest first: every reader of one run's own
    events (step starts and failures, cancellations, check evaluations, what it materialized)
    goes through here.

    It calls `DagsterInstance.get_records_for_run`, which Dagster does not mark public: its
    public API reads materializations and observations by asset key (`fetch_materializations`
    has no run filter) and a run's status changes (`fetch_run_status_changes`), never a run's
    step events. Dagster's own UI and GraphQL read run events through this same method.
    """
    return instance.get_records_for_run(run_id, of_type=of_type).records


@dataclass(frozen=True)
class Failure:
    """Why a run failed: a type, a one-line reason and a short stack summary."""

    error_type: str
    message: str
    stack: str = ""


def attempts_of(instance: dg.DagsterInstance, run_id: str) -> int:
    """Attempts of the run's most-retried step (1 when nothing was retried)."""
    starts = run_events(
        instance, run_id, {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED}
    )
    by_step: dict[str, int] = {}
    for record in starts:
        step = record.event_log_entry.step_key or ""
        by_step[step] = by_step.get(step, 0) + 1
    return max(by_step.values(), default=0)


def failure_of(instance: dg.DagsterInstance, run_id: str) -> Failure:
    """Why a run failed or was canceled, in one line.

    A failed run: its last step failure (the declared `error_type`, else the root cause).
    A canceled run: `Canceled`, with the reason a step declared for it, else the reason the
    run was canceled (the step it interrupted fails with Dagster's interruption error, whose
    text says nothing).
    """
    records = run_events(instance, run_id, dg.DagsterEventType.STEP_FAILURE)
    canceled = _cancel_reason(instance, run_id)
    if not records:
        return canceled or _run_failure(instance, run_id)
    failure = _step_failure(records[-1])
    if canceled is None or failure.error_type == CANCELED:
        return failure
    return Failure(CANCELED, canceled.message, failure.stack)


def _step_failure(record: dg.EventLogRecord) -> Failure:
    """A STEP_FAILURE record as a Failure: declared type or root cause, first line, frames."""
    event = record.event_log_entry.dagster_event
    data = event.step_failure_data if event else None
    error = data.error if data else None
    if error is None:
        return Failure("StepFailure", "step failed without error information")
    user = data.user_failure_data if data else None
    declared = user.metadata.get("error_type") if user and user.metadata else None
    root = error
    while root.cause is not None:
        root = root.cause
    error_type = str(declared.value if declared is not None else root.cls_name or error.cls_name)
    message = _without_class((root.message or error.message).strip().splitlines()[0], root)
    stack = " | ".join(line.strip().splitlines()[0] for line in root.stack[-3:] if line.strip())
    return Failure(ERROR_TYPE_ALIASES.get(error_type, error_type), message, stack[:600])


def _without_class(message: str, error: Any) -> str:
    """`pkg.mod.DataSourceError: no candles` -> `no candles` (the type is reported apart)."""
    head, sep, rest = message.partition(": ")
    if sep and error.cls_name and head.split(".")[-1] == error.cls_name:
        message = rest
    return message[:300]


def _cancel_reason(instance: dg.DagsterInstance, run_id: str) -> Failure | None:
    """`Canceled` and why, for a canceled run; None for any other.

    The reason is the cancel request's message (who asked: Ctrl-C, the UI) when it has one,
    else the message of the cancellation itself (a worker stopped by the launcher).
    """
    done = run_events(instance, run_id, dg.DagsterEventType.RUN_CANCELED)
    if not done:
        return None
    asked = run_events(instance, run_id, dg.DagsterEventType.RUN_CANCELING)
    for record in (*asked, *done):
        message = _first_line(record.event_log_entry.message)
        if message and not _GENERIC_CANCEL.match(message):
            return Failure(CANCELED, message)
    return Failure(CANCELED, "the run was canceled")


def _run_failure(instance: dg.DagsterInstance, run_id: str) -> Failure:
    """A run that failed outside any step (killed worker, launch)."""
    records = run_events(instance, run_id, dg.DagsterEventType.RUN_FAILURE)
    if not records:
        return Failure("RunFailure", "the run failed before any step failed")
    message = _first_line(records[-1].event_log_entry.message)
    return Failure("RunFailure", message or "the run failed")


def _first_line(message: str | None) -> str:
    lines = (message or "").strip().splitlines()
    return lines[0][:300] if lines else ""


def will_retry(run: dg.DagsterRun) -> bool:
    """Whether the daemon's run retries will launch this failed run again."""
    return run.tags.get(WILL_RETRY_TAG, "false").lower() == "true"


def latest_per_partition(records: list[dg.RunRecord]) -> dict[str, dg.RunRecord]:
    """The newest run of each `dagster/partition` (a re-execution supersedes the run before)."""
    latest: dict[str, dg.RunRecord] = {}
    for record in sorted(records, key=lambda r: r.create_timestamp):
        key = record.dagster_run.tags.get(PARTITION_TAG) or record.dagster_run.run_id
        latest[key] = record
    return latest


def metrics_materialization(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any] | None:
    """The metadata values of the `metrics` a run materialized."""
    records = run_events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
    for record in reversed(records):
        mat = record.asset_materialization
        if mat is not None and mat.asset_key.path[-1] == "metrics":
            return {k: v.value for k, v in mat.metadata.items()}
    return None


_PAGE = 1000


def latest_metadata_by_partition(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions: list[str]
) -> dict[str, dict[str, Any]]:
    """The metadata values of each partition's latest materialization, in one paged query.

    The planner, the summary and the schedule read many partitions at once; one query per
    asset instead of one per partition keeps them linear in the symbols.
    """
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    while partitions and set(partitions) - set(found):
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=partitions),
            limit=_PAGE,
            cursor=cursor,
            ascending=False,
        )
        for record in result.records:
            mat = record.asset_materialization
            if mat is not None and str(mat.partition) not in found:
                found[str(mat.partition)] = {k: v.value for k, v in mat.metadata.items()}
        if not result.has_more:
            break
        cursor = result.cursor
    return found


def check_evaluations_of(instance: dg.DagsterInstance, run_id: str) -> list[dict[str, Any]]:
    """The asset checks a run evaluated, last evaluation of each check: name, asset, verdict.

    `severity` is `WARN` or `ERROR` (how bad a failure is), `passed` the verdict.
    """
    records = run_events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        evaluation = event.asset_check_evaluation_data
        found[evaluation.check_name] = {
            "check": evaluation.check_name,
            "asset": evaluation.asset_key.to_user_string(),
            "passed": bool(evaluation.passed),
            "severity": evaluation.severity.value,
            "description": (evaluation.description or "")[:300],
        }
    return [found[name] for name in sorted(found)]
