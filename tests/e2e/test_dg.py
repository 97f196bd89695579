"""The `dg` CLI as a newcomer runs it: `dg check defs`, `dg dev` on the repo-root dagster.yaml
(DAGSTER_HOME = the repo root, as `make dev` sets it) and `dg launch` of one symbol-day.

Each runs from the repo root with the storage in the test's own RETRAIN_INSTANCE_DIR, so the
repo's real ./.dagster_home is never touched.
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.defs.partitions import SYMBOLS
from tests.e2e.conftest import DATE, REPO
from tests.e2e.dagster_dev import dagster_dev

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent
WARNINGS = ("will not be used", "SupersessionWarning", "project_and_activated_venv_mismatch")
SYMBOL_DAY = "costs,features,model,walk_forward,metrics,champion"


@pytest.fixture
def repo_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment `make dev` gives: the repo's own dagster.yaml, storage in a test folder."""
    state = tmp_path / "instance"
    state.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(REPO))
    monkeypatch.setenv("RETRAIN_INSTANCE_DIR", str(state))
    monkeypatch.setenv("RETRAIN_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("VIRTUAL_ENV", str(BIN.parent))
    monkeypatch.delenv("RETRAIN_DATA_SOURCE", raising=False)
    return state


def dg_command(*args: str) -> subprocess.CompletedProcess:
    """`dg ARGS` from the repo root, as a terminal in the activated venv runs it."""
    return subprocess.run(
        [str(BIN / "dg"), *args],
        cwd=REPO,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dg_check_defs_passes(repo_instance: Path) -> None:
    result = dg_command("check", "defs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


@pytest.mark.slow(seconds=35)
def test_dg_dev_uses_the_repo_root_config_without_a_warning(
    repo_instance: Path, tmp_path: Path
) -> None:
    log = tmp_path / "dg-dev.log"
    with dagster_dev(log, command=("dg", "dev")):
        with dg.DagsterInstance.get() as instance:
            assert Path(instance.root_directory) == repo_instance
    text = log.read_text()
    assert "Serving dagster-webserver" in text
    assert not [w for w in WARNINGS if w in text], text[-3000:]
    assert (repo_instance / "runs.db").exists() and (repo_instance / "event_log.db").exists()


def test_dg_launch_materializes_one_symbol_day(
    repo_instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETRAIN_TRAINER", "bench.noop_trainer:NoopTrainer")  # seconds, not minutes
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # `dg` finds bench/ from any folder
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(SYMBOLS, ["BTCUSDT"])
    partition = f"{DATE}|BTCUSDT"
    result = dg_command("launch", "--assets", SYMBOL_DAY, "--partition", partition)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert not [w for w in WARNINGS if w in result.stderr], result.stderr[-3000:]
    with dg.DagsterInstance.get() as instance:
        metrics = instance.get_latest_materialization_event(dg.AssetKey("metrics"))
        assert metrics is not None and metrics.asset_materialization.partition == partition
