"""The cap: never more training steps at once than the `train` pool allows."""

import dagster as dg
import pytest

from tests.e2e.conftest import DATE, max_overlap, model_step_intervals, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize(("cap", "mode"), [(2, "hybrid"), (1, "sequential")])
def test_six_symbols_never_train_more_than_the_cap_at_once(artifacts, cap, mode):
    symbols = "BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT,ADAUSDT"
    result = run_cli(
        "--symbols", symbols, "--mode", mode, "--max_concurrent", str(cap), "--date", DATE
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))
        assert len(runs) == 6
        intervals = model_step_intervals(instance, [r.run_id for r in runs])
        assert instance.event_log_storage.get_concurrency_info("train").slot_count == cap
    assert len(intervals) == 6
    assert max_overlap(intervals) == cap
