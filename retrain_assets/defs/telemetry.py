"""Per-step telemetry: the spec's structlog events and per-stage timings and unit cost.

Every asset body runs inside `stage(...)`, which writes `coin_started` once per run,
`coin_failed` (with attempt, error type and a short stack) when the body raises, and returns
the stage's wall time, CPU seconds and peak memory for the materialization metadata. Each
event also goes to Dagster's event log, so the UI and the JSON files say the same thing.
"""

import json
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from retrain_assets.adapters.logging_setup import EventLog, stack_summary
from retrain_assets.core.redaction import secrets_from_env
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import split_partition_key
from retrain_assets.vocabulary.tags import MODE_TAG, tag_value

_STARTED_RUNS: set[str] = set()


def event_log(context: dg.AssetExecutionContext, root: Path) -> EventLog:
    """The day's event log for this step (level from $STRUCTLOG_LEVEL, secrets masked)."""
    date, _ = split_partition_key(context.partition_key)
    mode = tag_value(context.run.tags, MODE_TAG) or "hybrid"
    return EventLog.from_environ(root, date, context.run.run_id, mode)


def emit(context: dg.AssetExecutionContext, log: EventLog, event: str, **fields: Any) -> None:
    """Write one event to the JSON logs and mirror it into Dagster's event log."""
    _, symbol = split_partition_key(context.partition_key)
    level = "error" if event in ("coin_failed", "upload_failed") else "info"
    line = log.emit(event, symbol=symbol, level=level, **fields)
    if line:
        getattr(context.log, level)(json.dumps(line, default=str))


@dataclass
class StageReport:
    """What one stage cost: wall seconds, CPU seconds, peak resident memory."""

    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def metadata(self) -> dict[str, dg.MetadataValue]:
        """The stage's costs as metadata, in text: a number would be plotted across every
        symbol's partitions on one line (`figures`); the engine summary sums them."""
        values = {
            f"{self.name}_seconds": round(self.wall_s, 3),
            "cpu_seconds": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            **{k: round(v, 3) for k, v in self.extra.items()},
        }
        return unplotted({k: dg.MetadataValue.float(float(v)) for k, v in values.items()})


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def stage(context: dg.AssetExecutionContext, root: Path, name: str) -> Iterator[StageReport]:
    """Time one asset body and write its start and failure events."""
    log = event_log(context, root)
    attempt = context.retry_number + 1
    if context.run.run_id not in _STARTED_RUNS:
        _STARTED_RUNS.add(context.run.run_id)
        emit(context, log, "coin_started", attempt=attempt, stage=name)
    report = StageReport(name)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    try:
        yield report
    except BaseException as exc:
        emit(
            context,
            log,
            "coin_failed",
            attempt=attempt,
            stage=name,
            duration_s=round(time.perf_counter() - wall, 3),
            error_type=_error_type(exc),
            stack_summary=stack_summary(exc, secrets=secrets_from_env(os.environ)),
        )
        raise
    report.wall_s = time.perf_counter() - wall
    report.cpu_s = _cpu_seconds() - cpu
    report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _error_type(exc: BaseException) -> str:
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    name = type(root).__name__
    return "Timeout" if name == "TrainingTimeout" else name
