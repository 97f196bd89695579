"""Executing one symbol-day as a Dagster run inside a long-lived worker process.

Each worker imports Dagster and CatBoost once and then executes runs in-process against the
persistent instance (`execute_job` with the in-process executor), so a symbol costs about half
a second of orchestration instead of a freshly spawned process per step. Pools still apply:
the `train` pool's slots live in the instance, shared with UI backfills and schedules.
"""

import os
import socket
from dataclasses import dataclass

import dagster as dg

from retrain_assets.defs.partitions import RETRAIN_JOB, SUMMARY_JOB, partition_key

WORKER_PID_TAG = "retrain/worker_pid"
WORKER_HOST_TAG = "retrain/worker_host"
ERROR_TYPE_ALIASES = {"TrainingTimeout": "Timeout"}
# The CLI prints its own progress; every event still goes to the instance's event log.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def retrain_job_def() -> dg.JobDefinition:
    """The retrain job with its resources (module-level so `dg.reconstructable` can find it)."""
    from retrain_assets.definitions import defs

    return defs.resolve_job_def(RETRAIN_JOB)


@dataclass(frozen=True)
class RunOutcome:
    """How one symbol-day run ended."""

    symbol: str
    run_id: str
    success: bool
    attempts: int
    error_type: str | None = None
    error_message: str | None = None
    stack_summary: str | None = None


def partition_tags(date: str, symbol: str) -> dict[str, str]:
    """The tags Dagster puts on a run of one `date|symbol` partition."""
    return {
        "dagster/partition": str(partition_key(date, symbol)),
        "dagster/partition/date": date,
        "dagster/partition/symbol": symbol,
    }


def run_symbol_day(
    date: str, symbol: str, assets: tuple[str, ...], tags: dict[str, str]
) -> RunOutcome:
    """Execute the selected assets of one symbol-day in this process and report the outcome."""
    instance = dg.DagsterInstance.get()
    run_tags = {
        **tags,
        **partition_tags(date, symbol),
        WORKER_PID_TAG: str(os.getpid()),
        WORKER_HOST_TAG: socket.gethostname(),
    }
    result = dg.execute_job(
        dg.reconstructable(retrain_job_def),
        instance=instance,
        run_config=QUIET_CONSOLE,
        tags=run_tags,
        asset_selection=[dg.AssetKey(a) for a in assets],
        raise_on_error=False,
    )
    return outcome_from_run(instance, symbol, result.run_id, result.success)


def outcome_from_run(
    instance: dg.DagsterInstance, symbol: str, run_id: str, success: bool
) -> RunOutcome:
    """Read attempts and the failure (if any) of a finished run from its event log."""
    starts = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED}
    ).records
    attempts_by_step: dict[str, int] = {}
    for record in starts:
        step = record.event_log_entry.step_key or ""
        attempts_by_step[step] = attempts_by_step.get(step, 0) + 1
    attempts = max(attempts_by_step.values(), default=0)
    if success:
        return RunOutcome(symbol, run_id, True, attempts)
    error_type, message, stack = failure_details(instance, run_id)
    return RunOutcome(symbol, run_id, False, attempts, error_type, message, stack)


def failure_details(instance: dg.DagsterInstance, run_id: str) -> tuple[str, str, str]:
    """(error type, one-line message, short stack summary) of a run's last step failure."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    if not records:
        return "RunFailure", "the run failed before any step failed", ""
    event = records[-1].event_log_entry.dagster_event
    data = event.step_failure_data if event else None
    error = data.error if data else None
    if error is None:
        return "StepFailure", "step failed without error information", ""
    user = data.user_failure_data if data else None
    declared = user.metadata.get("error_type") if user and user.metadata else None
    root = error
    while root.cause is not None:
        root = root.cause
    error_type = declared.value if declared is not None else root.cls_name or error.cls_name
    error_type = ERROR_TYPE_ALIASES.get(str(error_type), str(error_type))
    message = (root.message or error.message).strip().splitlines()[0][:300]
    stack = " | ".join(line.strip().splitlines()[0] for line in root.stack[-3:] if line.strip())
    return error_type, message, stack[:600]


def summary_job_def() -> dg.JobDefinition:
    """The engine-summary job (module-level for `dg.reconstructable`)."""
    from retrain_assets.definitions import defs

    return defs.resolve_job_def(SUMMARY_JOB)


def refresh_summary(date: str, tags: dict[str, str]) -> bool:
    """Materialize the date's `engine_summary` in this process; True on success."""
    result = dg.execute_job(
        dg.reconstructable(summary_job_def),
        instance=dg.DagsterInstance.get(),
        run_config=QUIET_CONSOLE,
        tags={**tags, "dagster/partition": date},
        raise_on_error=False,
    )
    return result.success
