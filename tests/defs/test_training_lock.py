"""Two runs of one symbol-day never train at once: the second waits for the first."""

import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.adapters.locks import FileLock
from retrain_assets.launcher.jobs import retrain_job_def
from retrain_assets.vocabulary.keys import partition_tags
from retrain_assets.vocabulary.tags import RunTags

DATE = "2025-05-01"


@pytest.mark.slow(seconds=60)
def test_a_second_training_of_the_same_symbol_day_waits_for_the_first(dagster_home, monkeypatch):
    monkeypatch.setenv("RETRAIN_TRAINER", "bench.noop_trainer:NoopTrainer")
    held = FileLock(dagster_home / "retrain-locks" / f"model_{DATE}_BTCUSDT.lock")
    held.acquire()  # another run is training BTCUSDT for DATE
    results: list[dg.ExecuteJobResult] = []
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        tags = {
            **RunTags(invocation="lock", source="api").to_tags(),
            **partition_tags(DATE, "BTCUSDT"),
        }

        def run() -> None:
            job = dg.reconstructable(retrain_job_def)
            results.append(dg.execute_job(job, instance=instance, tags=tags))

        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 300  # generous: a loaded CI machine starts steps slowly
        while not _model_step_started(instance) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _model_step_started(instance)
        time.sleep(1.0)  # a no-op training takes milliseconds: only the lock can hold it
        assert worker.is_alive()
        assert instance.get_latest_materialization_event(dg.AssetKey("model")) is None
        held.release()
        worker.join(timeout=300)
        assert results and results[0].success
        assert instance.get_latest_materialization_event(dg.AssetKey("model")) is not None


def _model_step_started(instance: dg.DagsterInstance) -> bool:
    records = (
        instance.get_records_for_run(
            instance.get_runs()[0].run_id, of_type=dg.DagsterEventType.STEP_START
        ).records
        if instance.get_runs()
        else []
    )
    return any(r.event_log_entry.step_key == "model" for r in records)


def test_the_lock_lives_beside_the_instance(dagster_home):
    assert Path(dg.DagsterInstance.get().root_directory) == dagster_home
