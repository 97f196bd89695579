"""The cap: never more training steps at once than the invocation or the `train` pool allow."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.e2e.conftest import DATE, max_overlap, model_step_intervals, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SYMBOLS = "BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT,ADAUSDT"
# Each training naps 2 s (two fits of 1 s): trainings in flight side by side, without
# CatBoost's CPU load on a 2-core machine. The cap is the same for every trainer.
NAP = {
    "RETRAIN_TRAINER": "tests.fakes.nap_trainer:NapTrainer",
    "SLOW_SYMBOLS": SYMBOLS,
    "NAP_SECONDS": "1",
}


def _overlap_of_six_runs() -> int:
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))
        assert len(runs) == 6
        intervals = model_step_intervals(instance, [r.run_id for r in runs])
        assert instance.event_log_storage.get_concurrency_info("train").slot_count == 2
    assert len(intervals) == 6
    return max_overlap(intervals)


@pytest.mark.parametrize(("cap", "mode"), [(2, "hybrid"), (1, "sequential")])
def test_six_symbols_never_train_more_than_the_invocation_cap_at_once(artifacts, cap, mode):
    result = run_cli(
        "--symbols", SYMBOLS, "--mode", mode, "--max_concurrent", str(cap), "--date", DATE, env=NAP
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _overlap_of_six_runs() == cap  # and the operator's pool limit (2) is left alone


def test_the_operators_pool_limit_caps_an_invocation_that_asks_for_more(artifacts):
    dagster = str(Path(sys.executable).parent / "dagster")
    subprocess.run(
        [dagster, "instance", "concurrency", "set", "train", "1"],
        check=True,
        capture_output=True,
    )
    result = run_cli("--symbols", SYMBOLS, "--max_concurrent", "4", "--date", DATE, env=NAP)
    assert result.returncode == 0, result.stdout + result.stderr
    with dg.DagsterInstance.get() as instance:
        assert instance.event_log_storage.get_concurrency_info("train").slot_count == 1
        runs = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))
        assert max_overlap(model_step_intervals(instance, [r.run_id for r in runs])) == 1
