"""The jobs a worker executes, as module-level functions for `dg.reconstructable`."""

from collections.abc import Callable

import dagster as dg

from retrain_assets.defs.partitions import RETRAIN_JOB, SUMMARY_JOB


def retrain_job_def() -> dg.JobDefinition:
    """The symbol-day job with its resources (a dry run's too, on its own instance)."""
    from retrain_assets.definitions import defs

    return defs.resolve_job_def(RETRAIN_JOB)


def summary_job_def() -> dg.JobDefinition:
    """The engine-summary job."""
    from retrain_assets.definitions import defs

    return defs.resolve_job_def(SUMMARY_JOB)


def job_for(name: str) -> Callable[[], dg.JobDefinition]:
    """The job function of a job name."""
    return {RETRAIN_JOB: retrain_job_def}[name]
