"""A UI-style asset backfill (GraphQL, run by `dagster dev`'s daemon) and a CLI invocation at
the same time share one cap: the instance's `train` pool."""

import time

import dagster as dg
import pytest

from tests.e2e.conftest import DATE, max_overlap, model_step_intervals, run_cli
from tests.e2e.dagster_dev import dagster_dev, launch_asset_backfill

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ASSETS = ["costs", "features", "model", "walk_forward", "metrics", "champion"]
BACKFILL_SYMBOLS = ["BNBUSDT", "XRPUSDT", "ADAUSDT"]
CLI_SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def _wait_backfill(instance: dg.DagsterInstance, backfill_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        backfill = instance.get_backfill(backfill_id)
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        done = [r for r in runs if r.is_finished]
        if backfill.status.value in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED") and len(
            done
        ) == len(BACKFILL_SYMBOLS):
            return
        time.sleep(1)
    states = [(r.tags.get("dagster/partition"), r.status.value) for r in runs]
    raise AssertionError(
        f"backfill {backfill_id} did not finish in {timeout_s}s: {backfill.status.value}, {states}"
    )


def _wait_first_backfill_run(instance: dg.DagsterInstance, backfill_id: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        if any(r.status == dg.DagsterRunStatus.STARTED for r in runs):
            return
        time.sleep(0.5)
    raise AssertionError("no backfill run started")


def _spans_overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    return min(s for s, _ in a) < max(e for _, e in b) and min(s for s, _ in b) < max(
        e for _, e in a
    )


@pytest.mark.slow(seconds=125)
def test_a_backfill_and_a_cli_run_share_the_cap(artifacts, dagster_home, tmp_path, monkeypatch):
    # Trainings of 16 s each (two naps of 8 s, no CPU), so the backfill's three are still
    # training when the CLI's start (it takes ~15 s to reach its model steps on a loaded
    # machine) and the two compete for slots.
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.nap_trainer:NapTrainer")
    monkeypatch.setenv("SLOW_SYMBOLS", ",".join(BACKFILL_SYMBOLS + CLI_SYMBOLS))
    monkeypatch.setenv("NAP_SECONDS", "8")
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", BACKFILL_SYMBOLS + CLI_SYMBOLS)
        instance.event_log_storage.set_concurrency_slots("train", 2)
    with dagster_dev(tmp_path / "dagster_dev.log") as base:
        backfill_id = launch_asset_backfill(base, [f"{DATE}|{s}" for s in BACKFILL_SYMBOLS], ASSETS)
        with dg.DagsterInstance.get() as instance:
            _wait_first_backfill_run(instance, backfill_id)
        cli = run_cli("--symbols", ",".join(CLI_SYMBOLS), "--max_concurrent", "2", "--date", DATE)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        with dg.DagsterInstance.get() as instance:
            _wait_backfill(instance, backfill_id, timeout_s=240)
            runs = instance.get_runs(dg.RunsFilter(job_name="__ASSET_JOB")) + instance.get_runs(
                dg.RunsFilter(job_name="retrain_symbol_day")
            )
            assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [
                (r.run_id, r.status) for r in runs
            ]
            backfill = model_step_intervals(
                instance, [r.run_id for r in runs if r.tags.get("dagster/backfill")]
            )
            cli_steps = model_step_intervals(
                instance, [r.run_id for r in runs if not r.tags.get("dagster/backfill")]
            )
    assert len(backfill) == 3 and len(cli_steps) == 3
    assert _spans_overlap(backfill, cli_steps)  # they really ran at the same time
    assert max_overlap(backfill + cli_steps) == 2
