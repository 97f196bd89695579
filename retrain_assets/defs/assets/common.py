"""Small helpers shared by the per-symbol-day assets."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import pandas as pd

from retrain_assets.core.errors import PermanentError, TrainingTimeout

RETRAIN_GROUP = "retrain"
IO_MANAGER_KEY = "artifact_io_manager"


def day_end(date: str) -> pd.Timestamp:
    """The exclusive end of a UTC day: bars before it are known at the close of `date`."""
    return pd.Timestamp(date, tz="UTC") + pd.Timedelta(days=1)


def day_start(date: str) -> pd.Timestamp:
    """00:00 UTC of `date`: bars before it are what was known when the day began."""
    return pd.Timestamp(date, tz="UTC")


@contextmanager
def permanent_errors_fail_fast() -> Iterator[None]:
    """Turn a PermanentError into a Failure that the retry policy does not retry.

    A bad symbol or too little history gives the same answer on every attempt, so retrying
    only wastes the cap's slots. So does a timeout: the same data under the same budget runs
    as long again, holding a `train` slot for the whole timeout each time. The error type
    (`Timeout` for a timeout) goes into the failure metadata for reports.
    """
    try:
        yield
    except PermanentError as exc:
        error_type = "Timeout" if isinstance(exc, TrainingTimeout) else type(exc).__name__
        raise dg.Failure(
            description=str(exc),
            metadata={"error_type": error_type},
            allow_retries=False,
        ) from exc
