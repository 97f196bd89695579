"""Helpers for end-to-end tests that run the real CLI as a subprocess."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATE = "2025-05-01"


def run_cli(
    *args: str, timeout: float = 300, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`python -m retrain_assets ARGS` with the test's environment (DAGSTER_HOME etc.)."""
    return subprocess.run(
        [sys.executable, "-m", "retrain_assets", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_candles_without_volume(folder: Path, symbol: str) -> None:
    """A candle file for `symbol` that reads (the CLI's up-front check passes) but has no
    volume column, so the symbol's run fails with a DataSourceError: a broken feed that only
    loading its bars finds."""
    rows = "\n".join(f"2025-04-30T{h:02d}:00:00Z,1.0,1.1,0.9,1.0" for h in range(24))
    (folder / f"{symbol}.csv").write_text(f"timestamp,open,high,low,close\n{rows}\n")


def start_cli(*args: str, env: dict) -> subprocess.Popen:
    """The CLI in its own session, as a terminal runs it (its own process group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "retrain_assets", *args],
        cwd=REPO,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, timeout: float, what: str = "condition") -> None:
    """Poll `predicate` every 0.2 s until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not met within {timeout} s")


def status_of(artifacts: Path, date: str = DATE, *, dry_run: bool = False) -> dict:
    """The symbols of runs/YYYYMMDDZ/status.json (a dry run's: under the dry_run/ root)."""
    root = artifacts / "dry_run" if dry_run else artifacts
    path = root / "runs" / (date.replace("-", "") + "Z") / "status.json"
    return json.loads(path.read_text())["symbols"]


@pytest.fixture
def artifacts(dagster_home: Path) -> Path:
    """The artifact root the CLI writes to in this test."""
    return Path(os.environ["RETRAIN_ARTIFACT_ROOT"])


def model_step_intervals(instance, run_ids: list[str]) -> list[tuple[float, float]]:
    """(start, end) of the `model` step of each run, from the instance's event records."""
    import dagster as dg

    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
    }
    intervals = []
    for run_id in run_ids:
        records = instance.get_records_for_run(run_id, of_type=kinds).records
        times = [
            r.event_log_entry.timestamp for r in records if r.event_log_entry.step_key == "model"
        ]
        if times:
            intervals.append((min(times), max(times)))
    return intervals


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak
