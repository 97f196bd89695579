"""Resume after SIGKILL, per-symbol timeouts and retries, through the real CLI."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.e2e.conftest import DATE, REPO, run_cli, status_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SYMBOLS = "BTCUSDT,ETHUSDT,SOLUSDT"


def _start_cli(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "retrain_assets", *args],
        cwd=REPO,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _verify_every_recorded_file(instance: dg.DagsterInstance) -> None:
    from retrain_assets.core.hashing import sha256_file

    for name in ("costs", "features", "model", "metrics"):
        for record in instance.fetch_materializations(dg.AssetKey(name), limit=100).records:
            for entry in record.asset_materialization.metadata["files"].value.values():
                assert sha256_file(Path(entry["path"])) == entry["sha256"]


def test_a_killed_invocation_resumes_from_ledger_and_snapshot(artifacts):
    env = {
        "RETRAIN_TRAINER": "tests.fakes.trainers:SlowTrainer",
        "SLOW_SYMBOLS": "BTCUSDT",
        "SLOW_ITERATIONS": "6000",
    }
    args = ("--symbols", SYMBOLS, "--max_concurrent", "2", "--date", DATE)
    proc = _start_cli(*args, env=env)
    snapshot = artifacts / "checkpoints" / "BTCUSDT" / "20250501Z" / "real" / "snapshot.cbs"

    def others_done_and_btc_checkpointed() -> bool:
        try:
            status = status_of(artifacts)
        except (OSError, ValueError):
            return False
        done = [s for s in ("ETHUSDT", "SOLUSDT") if status[s]["status"] == "success"]
        return len(done) == 2 and snapshot.exists()

    _wait_for(others_done_and_btc_checkpointed, timeout=120)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    rerun = run_cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    status = status_of(artifacts)
    assert status["ETHUSDT"]["status"] == "skipped" and status["SOLUSDT"]["status"] == "skipped"
    assert status["BTCUSDT"]["status"] == "success"
    assert status["BTCUSDT"]["reused"] == ["costs", "features"]
    with dg.DagsterInstance.get() as instance:
        mat = instance.get_latest_materialization_event(dg.AssetKey("model"))
        log_path = mat.asset_materialization.metadata["files"].value["training_log.json"]["path"]
        log = json.loads(Path(log_path).read_text())
        assert log["symbol"] == "BTCUSDT"
        assert log["resumed_from_snapshot"] is True
        assert log["first_iteration_this_attempt"] > 0
        _verify_every_recorded_file(instance)
    for folder in (artifacts / "models").glob("*/*"):
        if (folder / "sha256.txt").exists():
            check = subprocess.run(
                ["sha256sum", "-c", "sha256.txt"], cwd=folder, capture_output=True
            )
            assert check.returncode == 0


def test_a_timeout_is_retried_then_fails_while_other_symbols_succeed(artifacts):
    env = {"RETRAIN_TRAINER": "tests.fakes.trainers:SleepyTrainer", "SLOW_SYMBOLS": "ETHUSDT"}
    result = run_cli(
        "--symbols", SYMBOLS, "--dry_run", "--date", DATE, "--timeout_minutes", str(1 / 60), env=env
    )
    assert result.returncode == 1, result.stdout + result.stderr
    status = status_of(artifacts)
    eth = status["ETHUSDT"]
    assert eth["status"] == "failed"
    assert eth["error_type"] == "Timeout"
    assert eth["attempts"] == 3
    assert eth["stack_summary"]
    assert status["BTCUSDT"]["status"] == "success" and status["SOLUSDT"]["status"] == "success"
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(eth["run_id"])
        assert run.status == dg.DagsterRunStatus.FAILURE
        retries = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY
        ).records
        assert len(retries) == 2


def _forkserver_processes(home: str) -> dict[int, int]:
    """{pid: parent pid} of the engine's forkserver and workers whose DAGSTER_HOME is `home`."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"forkserver" in cmdline and f"DAGSTER_HOME={home}".encode() in environ.split(b"\0"):
            found[int(proc.name)] = parent
    return found


def _workers_of(home: str) -> list[int]:
    """Pids of engine workers (children of the forkserver) whose DAGSTER_HOME is `home`."""
    processes = _forkserver_processes(home)
    return [pid for pid, parent in processes.items() if parent in processes]


def test_workers_leave_when_the_cli_alone_is_killed_and_the_rerun_recovers(artifacts, dagster_home):
    env = {
        "RETRAIN_TRAINER": "tests.fakes.trainers:SlowTrainer",
        "SLOW_SYMBOLS": "BTCUSDT",
        "SLOW_ITERATIONS": "6000",
    }
    args = ("--symbols", "BTCUSDT,ETHUSDT", "--date", DATE)
    proc = _start_cli(*args, env=env)
    _wait_for(lambda: len(_workers_of(str(dagster_home))) == 2, timeout=60)
    _wait_for(lambda: (artifacts / "checkpoints" / "BTCUSDT").exists(), timeout=120)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, not its process group
    proc.wait(timeout=30)
    _wait_for(lambda: not _forkserver_processes(str(dagster_home)), timeout=30)

    rerun = run_cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert status_of(artifacts)["BTCUSDT"]["status"] == "success"
    with dg.DagsterInstance.get() as instance:
        abandoned = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        messages = [
            record.event_log_entry.message
            for run in abandoned
            for record in instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
            ).records
        ]
        assert any("worker process" in m and "died" in m for m in messages), messages
        assert not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
