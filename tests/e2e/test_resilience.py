"""Resume after SIGKILL, per-symbol timeouts and retries, through the real CLI."""

import json
import os
import signal
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from tests.e2e.conftest import DATE, run_cli, start_cli, status_of, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SYMBOLS = "BTCUSDT,ETHUSDT,SOLUSDT"


def _verify_every_recorded_file(instance: dg.DagsterInstance) -> None:
    from retrain_assets.adapters.hashing import sha256_file

    for name in ("costs", "features", "model", "walk_forward", "metrics"):
        for record in instance.fetch_materializations(dg.AssetKey(name), limit=100).records:
            for entry in record.asset_materialization.metadata["files"].value.values():
                assert sha256_file(Path(entry["path"])) == entry["sha256"]


@pytest.mark.slow(seconds=40)
def test_a_killed_invocation_resumes_from_ledger_and_snapshot(artifacts):
    env = {
        "RETRAIN_TRAINER": "tests.fakes.trainers:SlowTrainer",
        "SLOW_SYMBOLS": "BTCUSDT",
        "SLOW_ITERATIONS": "6000",
    }
    args = ("--symbols", SYMBOLS, "--max_concurrent", "2", "--date", DATE)
    proc = start_cli(*args, env=env)
    snapshot = artifacts / "checkpoints" / "BTCUSDT" / "20250501Z" / "real" / "snapshot.cbs"

    def others_done_and_btc_checkpointed() -> bool:
        try:
            status = status_of(artifacts)
        except (OSError, ValueError):
            return False
        done = [s for s in ("ETHUSDT", "SOLUSDT") if status[s]["status"] == "success"]
        return len(done) == 2 and snapshot.exists()

    wait_for(others_done_and_btc_checkpointed, timeout=120)
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


def test_a_timeout_fails_once_while_other_symbols_succeed(artifacts, monkeypatch):
    # The CLI accepts 1 minute at least; a run tagged with a 5-second timeout shows the same
    # mechanism (soft deadline, hard alarm, no retry, the Timeout type) in seconds. BTCUSDT's
    # real fit must finish inside it on a busy machine: it has no retry to fall back on.
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:SleepyTrainer")
    monkeypatch.setenv("SLOW_SYMBOLS", "ETHUSDT")
    from retrain_assets.launcher.jobs import retrain_job_def
    from retrain_assets.vocabulary.keys import partition_tags
    from retrain_assets.vocabulary.tags import RunTags

    tags = RunTags(invocation="timeouts", source="api", timeout_minutes=5 / 60).to_tags()
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT"])
        results = {
            symbol: dg.execute_job(
                dg.reconstructable(retrain_job_def),
                instance=instance,
                tags={**tags, **partition_tags(DATE, symbol)},
                raise_on_error=False,
            )
            for symbol in ("BTCUSDT", "ETHUSDT")
        }
        assert results["BTCUSDT"].success and not results["ETHUSDT"].success
        from retrain_assets.defs.records import attempts_of, failure_of

        run_id = results["ETHUSDT"].run_id
        assert failure_of(instance, run_id).error_type == "Timeout"
        assert attempts_of(instance, run_id) == 1  # issue 23: a timeout is not retried
        retries = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY
        ).records
        assert not retries
