"""`retrain --dates FIRST..LAST`: a range of days, run in date order, resumable after Ctrl-C."""

import itertools
import os
import signal

import dagster as dg
import pytest

from tests.e2e.conftest import run_cli, start_cli, status_of, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}


def _runs_by_date(instance: dg.DagsterInstance) -> dict[str, list[dg.RunRecord]]:
    found: dict[str, list[dg.RunRecord]] = {}
    for record in instance.get_run_records(dg.RunsFilter(job_name="retrain_symbol_day")):
        found.setdefault(record.dagster_run.tags["dagster/partition/date"], []).append(record)
    return found


def test_a_month_of_real_days_runs_in_date_order(dagster_home, binance_dir, monkeypatch):
    monkeypatch.setenv("RETRAIN_START_DATE", "2020-12-01")
    env = {**FAST, "RETRAIN_DATA_SOURCE": "files", "RETRAIN_DATA_DIR": str(binance_dir)}
    days = ["2021-06-01", "2021-06-02", "2021-06-03"]

    result = run_cli("--symbols", "BTCUSDT,ETHUSDT", "--dates", f"{days[0]}..{days[-1]}", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "dates: 3 of 3 run, 0 with a symbol not ok" in result.stdout
    with dg.DagsterInstance.get() as instance:
        runs = _runs_by_date(instance)
        assert sorted(runs) == days
        for before, after in itertools.pairwise(days):
            ended = max(r.end_time for r in runs[before])
            started = min(r.start_time for r in runs[after])
            assert ended <= started, f"{after} started before {before} ended"
        ledger = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("walk_forward"), asset_partitions=["2021-06-02|BTCUSDT"]
            ),
            limit=1,
        ).records[0]
    metadata = ledger.asset_materialization.metadata
    assert metadata["live_model_as_of"].value == "2021-06-01"  # the day before's model traded


@pytest.mark.slow(seconds=95)
def test_a_range_stops_at_one_ctrl_c_with_one_line_and_a_rerun_resumes(artifacts):
    env = {
        "RETRAIN_TRAINER": "tests.fakes.nap_trainer:NapTrainer",
        "SLOW_SYMBOLS": "BTCUSDT",
        "NAP_SECONDS": "2",
    }
    args = ("--symbols", "BTCUSDT,ETHUSDT", "--dates", "2025-05-01..2025-05-04")
    proc = start_cli(*args, env=env)

    def second_day_running() -> bool:
        try:
            return status_of(artifacts, "2025-05-02")["BTCUSDT"]["status"] == "running"
        except (OSError, ValueError, KeyError):
            return False

    wait_for(second_day_running, 120, "the second day's BTCUSDT running")
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    out, _ = proc.communicate(timeout=120)

    assert proc.returncode == 130, out
    assert out.count("SIGINT: stopping") == 1, out
    assert "Traceback" not in out and "DagsterExecutionInterruptedError" not in out, out
    assert "-- 2025-05-03" not in out  # the range ended at the interrupted day
    rerun = run_cli(*args, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert status_of(artifacts, "2025-05-01")["BTCUSDT"]["status"] == "skipped"
    assert "dates: 4 of 4 run, 0 with a symbol not ok" in rerun.stdout
    for day in ("2025-05-02", "2025-05-03", "2025-05-04"):
        assert status_of(artifacts, day)["BTCUSDT"]["status"] in ("success", "skipped")


def test_a_bad_range_is_one_line_before_any_work(artifacts):
    result = run_cli("--symbols", "BTCUSDT", "--dates", "2025-05-04..2025-05-01", env=FAST)
    assert result.returncode == 2
    assert result.stderr == (
        "retrain: error: --dates 2025-05-04..2025-05-01: the last day is before the first\n"
    )
    assert result.stdout == "" and not artifacts.exists()
