"""The jobs a worker executes, as module-level functions for `dg.reconstructable`."""

from collections.abc import Callable

import dagster as dg

from retrain_assets.defs.partitions import DRY_RUN_JOB, RETRAIN_JOB, SUMMARY_JOB


def retrain_job_def() -> dg.JobDefinition:
    """The real symbol-day job with its resources."""
    from retrain_assets.definitions import defs

    return defs.resolve_job_def(RETRAIN_JOB)


def dry_run_job_def() -> dg.JobDefinition:
    """The dry-run symbol-day job (`dry_run/` assets) with its resources."""
    from retrain_assets.definitions import defs

    return defs.resolve_job_def(DRY_RUN_JOB)


def summary_job_def() -> dg.JobDefinition:
    """The engine-summary job."""
    from retrain_assets.definitions import defs

    return defs.resolve_job_def(SUMMARY_JOB)


def job_for(name: str) -> Callable[[], dg.JobDefinition]:
    """The job function of a job name."""
    return {RETRAIN_JOB: retrain_job_def, DRY_RUN_JOB: dry_run_job_def}[name]
