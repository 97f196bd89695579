"""Helpers for end-to-end tests that run the real CLI as a subprocess."""

import json
import os
import subprocess
import sys
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


def status_of(artifacts: Path, date: str = DATE) -> dict:
    """The symbols of runs/YYYYMMDDZ/status.json."""
    path = artifacts / "runs" / (date.replace("-", "") + "Z") / "status.json"
    return json.loads(path.read_text())["symbols"]


@pytest.fixture
def artifacts(dagster_home: Path) -> Path:
    """The artifact root the CLI writes to in this test."""
    return Path(os.environ["RETRAIN_ARTIFACT_ROOT"])
