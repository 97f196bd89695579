"""Each finding of the runtime review, replayed against the real CLI and asserted fixed.

Finding numbers refer to the "One runtime, Dagster's" issue. Orchestration-only scenarios use
the no-op trainer (seconds per symbol); the interrupt scenario trains real CatBoost models.
Every scenario ends with every recorded artifact re-verified by sha256.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.vocabulary.tags import WORKER_PID_TAG
from tests.e2e.conftest import (
    DATE,
    REPO,
    max_overlap,
    run_cli,
    start_cli,
    status_of,
    wait_for,
)
from tests.fakes.fake_telegram import FakeTelegram

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOOP = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}
# BTCUSDT's held-out fit takes ~15 s at 2,500 trees (~6 ms a tree on the synthetic bars, more on
# a loaded machine); the tests stop it within a second or two of its first snapshot, and the
# reruns that resume it finish the rest.
SLOW = {
    "RETRAIN_TRAINER": "tests.fakes.trainers:SlowTrainer",
    "SLOW_SYMBOLS": "BTCUSDT",
    "SLOW_ITERATIONS": "2500",
}
ASSETS = ("costs", "features", "model", "walk_forward", "metrics")


def _ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _metrics_file(artifacts: Path, symbol: str) -> Path:
    return Path(status_of(artifacts)[symbol]["metrics_path"])


def verify_every_recorded_file() -> int:
    """sha256 of every file recorded on the latest materialization of every partition."""
    checked = 0
    with dg.DagsterInstance.get() as instance:
        from retrain_assets.adapters.hashing import sha256_file

        for name in ASSETS:
            latest: dict[str, dict] = {}
            for record in instance.fetch_materializations(
                dg.AssetKey(name), limit=1000, ascending=True
            ).records:
                mat = record.asset_materialization
                latest[str(mat.partition)] = mat.metadata["files"].value
            for files in latest.values():
                for entry in files.values():
                    assert sha256_file(Path(entry["path"])) == entry["sha256"], entry["path"]
                    checked += 1
    return checked


def _successful_runs(partition: str) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.get() as instance:
        return list(
            instance.get_runs(
                dg.RunsFilter(
                    tags={"dagster/partition": partition}, statuses=[dg.DagsterRunStatus.SUCCESS]
                )
            )
        )


# 1. A deleted run folder is not "done": the symbol-day is rebuilt and status says why.
def test_a_deleted_run_folder_is_repaired_not_skipped(artifacts):
    args = ("--symbols", "BTCUSDT", "--date", DATE)
    _ok(run_cli(*args, env=NOOP))
    folder = _metrics_file(artifacts, "BTCUSDT").parent
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    rerun = _ok(run_cli(*args, env=NOOP))
    entry = status_of(artifacts)["BTCUSDT"]
    assert entry["status"] == "success", rerun.stdout
    assert "missing" in entry["repaired"] and "no remote copy" in entry["repaired"]
    assert _metrics_file(artifacts, "BTCUSDT").exists()
    assert verify_every_recorded_file() > 0


# 2. One flipped byte in model.bin: rebuilt from `model`, costs and features reused.
@pytest.mark.slow(seconds=40)
def test_a_damaged_model_is_rebuilt_from_the_model_step(artifacts):
    args = ("--symbols", "BTCUSDT", "--date", DATE)
    _ok(run_cli(*args, env=NOOP))
    model = _metrics_file(artifacts, "BTCUSDT").parent / "model.bin"
    data = bytearray(model.read_bytes())
    data[0] ^= 0xFF
    model.write_bytes(bytes(data))
    _ok(run_cli(*args, env=NOOP))
    entry = status_of(artifacts)["BTCUSDT"]
    assert entry["status"] == "success"
    assert entry["repaired"].startswith("model: model.bin does not match")
    assert entry["assets"] == ["model", "metrics", "champion"]
    assert entry["reused"] == ["costs", "features", "walk_forward"]
    verify_every_recorded_file()
    third = _ok(run_cli(*args, env=NOOP))
    assert status_of(artifacts)["BTCUSDT"]["status"] == "skipped", third.stdout


# 3 and 4. Two CLIs at once on a brand-new home: one init, each symbol-day trained once,
# and neither touches the operator's `train` pool limit.
def test_two_invocations_at_once_on_a_new_home_train_each_symbol_day_once(artifacts, dagster_home):
    for child in dagster_home.iterdir():
        child.unlink()  # brand new: not even a dagster.yaml
    env = {**NOOP, "DAGSTER_HOME": str(dagster_home)}
    first = start_cli("--symbols", "BTCUSDT,ETHUSDT,SOLUSDT", "--date", DATE, env=env)
    second = start_cli(
        "--symbols", "SOLUSDT,ETHUSDT,XRPUSDT", "--date", DATE, "--max_concurrent", "5", env=env
    )
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"):
        assert len(_successful_runs(f"{DATE}|{symbol}")) == 1, symbol
    with dg.DagsterInstance.get() as instance:
        assert instance.event_log_storage.get_concurrency_info("train").slot_count == 2
    _ok(run_cli("--symbols", "BTCUSDT", "--date", DATE, "--force", env=env))  # home still fine
    verify_every_recorded_file()


# 5. A CLI killed with SIGKILL mid-training: its runs fail and free their slots, found by the
# dead-runs sensor's sweep (the daemon runs it every 15 s), without another invocation.
@pytest.mark.slow(seconds=25)
def test_a_killed_cli_releases_its_runs_and_slots(artifacts):
    proc = start_cli("--symbols", "BTCUSDT", "--date", DATE, env=SLOW)
    checkpoints = artifacts / "checkpoints" / "BTCUSDT"
    wait_for(checkpoints.exists, timeout=120, what="training started")
    _kill_watchdog(proc.pid)  # a host where the watchdog died too: the sensor's sweep remains
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    from retrain_assets.definitions import defs
    from sensors.dead_runs import dead_runs_sensor

    with dg.DagsterInstance.get() as instance:
        started = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert len(started) == 1
        assert instance.event_log_storage.get_concurrency_info("train").claimed_slots
        context = dg.build_sensor_context(instance=instance, definitions=defs)
        dead_runs_sensor(context)
        run = instance.get_run_by_id(started[0].run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_info("train").claimed_slots
    rerun = _ok(run_cli("--symbols", "BTCUSDT", "--date", DATE, env=SLOW))
    assert status_of(artifacts)["BTCUSDT"]["status"] == "success", rerun.stdout
    verify_every_recorded_file()


# 6. Every invocation is its own record (its runs' tag): three in a row, three starts and
# three completions, nothing twice.
@pytest.mark.slow(seconds=45)
def test_three_invocations_in_a_row_each_send_their_own_start_and_completion(artifacts):
    noop = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}
    with FakeTelegram() as tg:
        env = {
            **noop,
            "TELEGRAM_TOKEN": tg.token,
            "TELEGRAM_CHAT_ID": tg.chat_id,
            "TELEGRAM_API_BASE_URL": tg.base_url,
        }
        for symbols in ("BTCUSDT", "ETHUSDT", "BTCUSDT,SOLUSDT"):
            result = run_cli("--symbols", symbols, "--date", DATE, env=env)
            assert result.returncode == 0, result.stdout + result.stderr
        texts = tg.texts()
    starts = [t for t in texts if "retraining started" in t]
    completions = [t for t in texts if t.split("\n")[0].split()[0] in ("✅", "⚠️")]
    assert len(starts) == 3 and len(completions) == 3, texts
    kinds = ["start" if "retraining started" in t else "completion" for t in texts]
    assert kinds == ["start", "completion"] * 3, texts  # each its own, none twice
    assert "Skipped: <b>1</b>" in completions[2]  # BTCUSDT was done by the first


# 7. Ctrl-C: one line, exit 130, the run CANCELED (never retried, never SUCCESS), the snapshot
# kept; the rerun resumes from it.
@pytest.mark.slow(seconds=30)
def test_ctrl_c_cancels_the_training_and_the_rerun_resumes_from_its_snapshot(artifacts):
    proc = start_cli("--symbols", "BTCUSDT", "--date", DATE, env=SLOW)
    snapshot = artifacts / "checkpoints" / "BTCUSDT" / "20250501Z" / "real" / "snapshot.cbs"
    wait_for(snapshot.exists, timeout=120, what="a snapshot")
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 130, out
    assert out.count("SIGINT: stopping") == 1
    entry = status_of(artifacts)["BTCUSDT"]
    assert entry["status"] == "canceled", entry
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(entry["run_id"])
        assert run.status == dg.DagsterRunStatus.CANCELED
        retries = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY
        ).records
        assert not retries
        assert instance.get_latest_materialization_event(dg.AssetKey("model")) is None
    assert snapshot.exists()
    _ok(run_cli("--symbols", "BTCUSDT", "--date", DATE, env=SLOW))
    with dg.DagsterInstance.get() as instance:
        mat = instance.get_latest_materialization_event(dg.AssetKey("model"))
        files = mat.asset_materialization.metadata["files"].value
        log = json.loads(Path(files["training_log.json"]["path"]).read_text())
        assert log["resumed_from_snapshot"] is True
    assert not snapshot.exists()  # dropped once the resumed model was accepted
    verify_every_recorded_file()


def test_sigterm_then_a_second_signal_exits_at_once_and_nothing_counts_as_done(artifacts):
    proc = start_cli("--symbols", "BTCUSDT", "--date", DATE, env=SLOW)
    snapshot = artifacts / "checkpoints" / "BTCUSDT" / "20250501Z" / "real" / "snapshot.cbs"
    wait_for(snapshot.exists, timeout=120, what="a snapshot")
    os.kill(proc.pid, signal.SIGTERM)
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    started = time.monotonic()
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert time.monotonic() - started < 15
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()  # no summary run either: the second signal exits at once
        assert [r.status for r in runs] == [dg.DagsterRunStatus.CANCELED]
        assert instance.get_latest_materialization_event(dg.AssetKey("model")) is None
        assert not instance.event_log_storage.get_concurrency_info("train").claimed_slots
    assert snapshot.exists()


# 8. Dry runs: tests/e2e/test_dry_run.py.


# 9. Every input is checked before any work: one line naming it, exit 2, nothing created.
@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (("--timeout_minutes", "nan"), {}, "--timeout_minutes"),
        (("--timeout_minutes", "inf"), {}, "--timeout_minutes"),
        (("--timeout_minutes", "1e9"), {}, "--timeout_minutes"),
        (("--max_concurrent", "100000"), {}, "--max_concurrent 100000"),
        (("--max_concurrent", "0"), {}, "--max_concurrent 0"),
        (("--symbols", "BTC USDT"), {}, "BTC USDT"),
        (("--date", "2025-13-01"), {}, "--date"),
        ((), {"RETRAIN_START_DATE": "garbage"}, "RETRAIN_START_DATE='garbage'"),
        ((), {"RETRAIN_START_DATE": "2020"}, "RETRAIN_START_DATE='2020'"),
        ((), {"STRUCTLOG_LEVEL": "nonsense"}, "STRUCTLOG_LEVEL='nonsense'"),
        (("--submit", "not a url"), {}, "--submit"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_creates_nothing(
    artifacts, dagster_home, args, env, names
):
    for child in dagster_home.iterdir():
        child.unlink()
    dagster_home.rmdir()
    result = run_cli("--date", DATE, *args, env={**NOOP, **env}, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and names in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not dagster_home.exists() and not artifacts.exists()


def test_a_read_only_home_or_root_and_a_corrupt_database_are_clear_errors(
    artifacts, dagster_home, tmp_path
):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    if os.access(read_only, os.W_OK):
        pytest.skip("running as a user who may write anywhere (root)")
    for env, name in (
        ({"DAGSTER_HOME": str(read_only / "home")}, "DAGSTER_HOME"),
        ({"RETRAIN_ARTIFACT_ROOT": str(read_only / "artifacts")}, "RETRAIN_ARTIFACT_ROOT"),
    ):
        result = run_cli("--date", DATE, env={**NOOP, **env})
        assert result.returncode == 2 and name in result.stderr, result.stderr


def test_a_corrupt_instance_database_is_a_clear_error(artifacts, dagster_home):
    (dagster_home / "history").mkdir()
    (dagster_home / "runs.db").write_bytes(b"not a database at all" * 100)
    result = run_cli("--symbols", "BTCUSDT", "--date", DATE, env=NOOP)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "runs.db cannot be read" in result.stderr and "Traceback" not in result.stderr


# 10. Bounds: `--mode parallel` runs no more processes than the machine's ceiling and the
# operator's pool allow (here 2), whatever the number of symbols.
def test_parallel_mode_is_bounded_by_the_pool_and_the_ceiling(artifacts):
    symbols = ",".join(f"S{i:04d}USDT" for i in range(1, 13))  # the synthetic numbered pairs
    _ok(run_cli("--mode", "parallel", "--symbols", symbols, "--date", DATE, env=NOOP))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))
        assert len(runs) == 12
        records = instance.get_run_records(dg.RunsFilter(job_name="retrain_symbol_day"))
        spans = [(r.start_time, r.end_time) for r in records]
        assert max_overlap(spans) <= 2  # one process per run, at most two at once
    status_dir = artifacts / "runs" / "20250501Z"
    assert [p.name for p in status_dir.iterdir()] == ["status.json"]  # no temp files left


# 12. Loading the code location never imports the CLI runtime.
def test_the_code_location_loads_without_the_cli_runtime():
    code = (
        "import sys, retrain_assets.definitions as d; d.defs.get_repository_def(); "
        "print(sorted(m for m in sys.modules if m.startswith('retrain_assets.launcher')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


# 11. The README's Python API example works saved as a script, without a __main__ guard.
def test_the_readme_api_example_runs_as_a_script(artifacts, tmp_path):
    readme = (REPO / "README.md").read_text()
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "example.py"
    script.write_text(example.replace("SchedulerConfig(", f"SchedulerConfig(date={DATE!r}, ", 1))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=REPO,
        env={**os.environ, **NOOP, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BTCUSDT success" in result.stdout and "ETHUSDT success" in result.stdout


# 5, with the daemon (scope 6): a CLI killed mid-training while a UI backfill waits for its slot;
# the dead-runs sensor fails the CLI's run and frees the slot, and the backfill proceeds.
@pytest.mark.slow(seconds=70)
def test_a_backfill_waiting_on_a_killed_clis_slot_proceeds(artifacts, dagster_home, tmp_path):
    from tests.e2e.dagster_dev import dagster_dev, launch_asset_backfill

    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT"])
        instance.event_log_storage.set_concurrency_slots("train", 1)
    env = {**SLOW, "SLOW_ITERATIONS": "200000"}
    with dagster_dev(tmp_path / "dagster_dev.log") as base:
        cli = start_cli("--symbols", "BTCUSDT", "--date", DATE, env=env)
        wait_for((artifacts / "checkpoints" / "BTCUSDT").exists, 120, "the CLI training")
        backfill = launch_asset_backfill(base, [f"{DATE}|ETHUSDT"], list(ASSETS))
        with dg.DagsterInstance.get() as instance:

            def backfill_run_started() -> bool:
                runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill}))
                return any(r.status == dg.DagsterRunStatus.STARTED for r in runs)

            wait_for(backfill_run_started, 120, "the backfill run waiting for a slot")
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait(timeout=30)
            killed_at = time.monotonic()
            cli_run = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))[0]

            def cli_run_failed() -> bool:
                run = instance.get_run_by_id(cli_run.run_id)
                return run.status == dg.DagsterRunStatus.FAILURE

            wait_for(cli_run_failed, 90, "the killed CLI's run failed by the sensor")
            assert time.monotonic() - killed_at < 75

            def backfill_succeeded() -> bool:
                runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill}))
                return bool(runs) and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)

            wait_for(backfill_succeeded, 180, "the backfill to finish")
    verify_every_recorded_file()


NAP = {"RETRAIN_TRAINER": "tests.fakes.nap_trainer:NapTrainer", "NAP_SECONDS": "3"}


def _kill_watchdog(cli_pid: int) -> None:
    """SIGKILL the launcher's watchdog (a child of the CLI in a session of its own)."""
    import psutil

    for child in psutil.Process(cli_pid).children():
        if "retrain_assets.launcher.watchdog" in " ".join(child.cmdline()):
            child.kill()  # the CLI reaps it later: dead means gone or a zombie
            wait_for(lambda c=child: _dead(c), 10, "the watchdog killed")


def _dead(process) -> bool:
    import psutil

    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _training(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """The runs whose `model` step has started and not finished."""
    found = []
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        steps = instance.get_records_for_run(
            run.run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
        ).records
        kinds = [
            r.event_log_entry.dagster_event_type
            for r in steps
            if r.event_log_entry.step_key == "model"
        ]
        if kinds == [dg.DagsterEventType.STEP_START]:
            found.append(run)
    return found


def _progress(out: str) -> tuple[list[int], list[int]]:
    """The done and running counts of every progress line, in order."""
    import re

    counts = re.findall(r"done (\d+)/\d+  running (\d+)", out)
    return [int(d) for d, _ in counts], [int(r) for _, r in counts]


# Issue 23, scenario 1: one worker killed takes down only its own symbol-day: its run fails
# and is run again, the other run in flight finishes once, the progress never passes the cap
# or goes backwards.
def test_a_killed_worker_takes_down_only_its_own_symbol_day(artifacts):
    symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    env = {**NAP, "SLOW_SYMBOLS": ",".join(symbols)}
    proc = start_cli("--symbols", ",".join(symbols), "--date", DATE, env=env)
    with dg.DagsterInstance.get() as instance:
        in_flight: list[dg.DagsterRun] = []

        def two_training() -> bool:
            in_flight[:] = _training(instance)
            return len(in_flight) == 2

        wait_for(two_training, 120, "two trainings in flight")
        victim, survivor = in_flight
        os.kill(int(victim.tags[WORKER_PID_TAG]), signal.SIGKILL)
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
        for symbol in symbols:
            assert len(_successful_runs(f"{DATE}|{symbol}")) == 1, (symbol, out)
        assert instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(survivor.run_id).status == dg.DagsterRunStatus.SUCCESS
        assert not instance.event_log_storage.get_concurrency_info("train").claimed_slots
    done, running = _progress(out)
    assert max(running) <= 2 and done == sorted(done), out
    assert {e["status"] for e in status_of(artifacts).values()} == {"success"}
    verify_every_recorded_file()


# Issue 23, scenario 2: a UI backfill and a CLI asked for the same date at once: each
# symbol-day is trained once (the later request adopts the model, verified), both succeed.
@pytest.mark.slow(seconds=70)
def test_a_ui_backfill_and_a_cli_of_the_same_date_train_each_symbol_day_once(
    artifacts, tmp_path, monkeypatch
):
    from tests.e2e.dagster_dev import dagster_dev, launch_asset_backfill

    symbols = ["BTCUSDT", "ETHUSDT"]
    monkeypatch.setenv("RETRAIN_TRAINER", NOOP["RETRAIN_TRAINER"])
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", symbols)
    with dagster_dev(tmp_path / "dagster_dev.log") as base, dg.DagsterInstance.get() as instance:
        keys = [f"{DATE}|{s}" for s in symbols]
        backfill = launch_asset_backfill(base, keys, [*ASSETS, "champion"])
        _ok(run_cli("--symbols", ",".join(symbols), "--date", DATE, env=NOOP))

        def backfill_done() -> bool:
            runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill}))
            return len(runs) == len(symbols) and all(r.is_finished for r in runs)

        wait_for(backfill_done, 240, "the backfill's runs to finish")
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill}))
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        for key in keys:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("model"), asset_partitions=[key]),
                limit=10,
            ).records
            trained = [
                r for r in records if "adopted_from_run" not in r.asset_materialization.metadata
            ]
            assert len(trained) == 1, key
    verify_every_recorded_file()


# Issue 23, scenario 3: two CLIs on one date: status.json ends as the instance's records say,
# whoever wrote last.
def test_two_clis_on_one_date_leave_status_json_as_the_records_say(artifacts):
    env = {**NAP, "SLOW_SYMBOLS": "BTCUSDT,SOLUSDT"}
    first = start_cli("--symbols", "BTCUSDT", "--date", DATE, env=env)

    def first_is_training() -> bool:
        try:
            return status_of(artifacts)["BTCUSDT"]["status"] == "running"
        except (OSError, KeyError, ValueError):
            return False

    wait_for(first_is_training, 120, "the first CLI training")
    second = start_cli("--symbols", "SOLUSDT,ETHUSDT", "--date", DATE, env=env)
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    entries = status_of(artifacts)
    with dg.DagsterInstance.get() as instance:
        for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
            (run,) = instance.get_runs(dg.RunsFilter(tags={"dagster/partition/symbol": symbol}))
            assert entries[symbol]["status"] == "success", (symbol, entries[symbol])
            assert entries[symbol]["run_id"] == run.run_id
    verify_every_recorded_file()


# Issue 23, scenario 5: a CLI killed with no daemon running: its watchdog fails its run and
# frees its `train` slot within seconds, and the next CLI trains the symbol-day.
def test_a_killed_cli_with_no_daemon_releases_its_runs_and_slots_within_seconds(artifacts):
    env = {**NAP, "SLOW_SYMBOLS": "BTCUSDT", "NAP_SECONDS": "120"}
    proc = start_cli("--symbols", "BTCUSDT", "--date", DATE, env=env)
    with dg.DagsterInstance.get() as instance:
        wait_for(lambda: bool(_training(instance)), 120, "the training")
        (run,) = _training(instance)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        killed_at = time.monotonic()

        def released() -> bool:
            failed = instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
            claimed = instance.event_log_storage.get_concurrency_info("train").claimed_slots
            return failed and not claimed

        wait_for(released, 60, "the run failed and its slot freed")
        assert time.monotonic() - killed_at < 15
    rerun = _ok(run_cli("--symbols", "BTCUSDT", "--date", DATE, env=NOOP))
    assert status_of(artifacts)["BTCUSDT"]["status"] == "success", rerun.stdout
    verify_every_recorded_file()


# Issue 23, scenario 8: with production.json deleted, load_production_model rebuilds the pointer
# from the decisions and returns the same verified model, saying so.
def test_a_deleted_pointer_is_rebuilt_from_the_decisions(artifacts, monkeypatch, tmp_path, caplog):
    import pandas as pd

    from retrain_assets.adapters.hashing import sha256_bytes
    from retrain_assets.api import load_production_model
    from retrain_assets.definitions import defs
    from retrain_assets.vocabulary.keys import partition_key
    from tests.fakes.markets import write_market, zigzag_bars

    end = pd.Timestamp("2025-05-01", tz="UTC")
    data = write_market(tmp_path / "data", {"TRENDUSDT": zigzag_bars(end, 130, block_bars=12)})
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(data))
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:MomentumTrainer")
    config = {
        "resources": {
            "training": {"config": {"lookback_days": 120, "test_days": 10, "validation_days": 5}},
            # A short history: the method test may pass after 3 pooled days at 20%.
            "promotion": {
                "config": {"min_trades": 5, "alpha": 0.2, "planned_days": 5, "min_method_days": 3}
            },
        }
    }
    job = defs.resolve_job_def("retrain_symbol_day")
    dates = ("2025-04-21", "2025-04-22", "2025-04-23", "2025-04-24", "2025-04-25", "2025-04-26")
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["TRENDUSDT"])
        for date in dates:
            key = str(partition_key(date, "TRENDUSDT"))
            assert job.execute_in_process(partition_key=key, instance=instance, run_config=config)
    before = load_production_model("TRENDUSDT", artifacts)
    pointer = artifacts / "production" / "TRENDUSDT" / "production.json"
    original = pointer.read_bytes()
    pointer.unlink()

    with caplog.at_level("WARNING", logger="retrain_assets.api"):
        after = load_production_model("TRENDUSDT", artifacts)
    assert (after.as_of, after.live_from) == (before.as_of, before.live_from)
    assert (after.as_of, after.live_from) == ("2025-04-26", "2025-04-27")
    assert after.model_bytes == before.model_bytes
    assert sha256_bytes(after.model_bytes) == after.reference.files["model.bin"]["sha256"]
    assert "rebuilt from 6 decisions" in after.note and "rebuilt from 6 decisions" in caplog.text
    assert pointer.read_bytes() == original  # rewritten, byte for byte what the champion wrote
    assert load_production_model("TRENDUSDT", artifacts).note is None  # read as usual again
    assert verify_every_recorded_file() > 0


# Issue 23, scenario 7: S3 stopped mid-run leaves the run's files pending; a CLI rerun uploads
# them itself, says how many, and leaves the pending-uploads sensor nothing to do.
def test_a_rerun_uploads_the_files_a_stopped_s3_left_pending(artifacts, monkeypatch):
    from resources.artifact_io import ArtifactRootResource
    from resources.storage import StorageResource
    from sensors.pending_uploads import pending_uploads_sensor
    from tests.adapters.storage.drivers import s3_env
    from tests.e2e.test_storage_e2e import assert_remote_matches_manifests, manifests
    from tests.fakes.moto_s3 import s3_client, start_moto
    from tests.fakes.s3_outage import S3Outage

    def _pending_upload_files() -> int:
        """Files recorded `pending_upload` on any materialization, less those verified later."""
        from resources.uploads import recorded_entries, verified_later

        count = 0
        with dg.DagsterInstance.get() as instance:
            for name in (*ASSETS, "champion"):
                key = dg.AssetKey(name)
                for record in instance.fetch_materializations(key, limit=1000).records:
                    mat = record.asset_materialization
                    done = verified_later(instance, key, str(mat.partition), record.storage_id)
                    entries = recorded_entries(mat.metadata).items()
                    count += sum(1 for n, e in entries if e.get("pending_upload") and n not in done)
        return count

    server, moto_url = start_moto()
    args = ("--symbols", "BTCUSDT,ETHUSDT", "--date", DATE, "--driver", "s3")
    try:
        with S3Outage(moto_url, down_on_first_put=True) as s3:
            for name, value in s3_env(s3.url, "i23-s7").items():
                monkeypatch.setenv(name, value)
            client = s3_client(moto_url)
            client.create_bucket(Bucket="i23-s7")
            _ok(run_cli(*args, env=NOOP))  # the bucket check passes, then S3 stops
            assert {e["status"] for e in status_of(artifacts).values()} == {"success"}
            pending = _pending_upload_files()
            assert pending >= 20 and s3.puts_forwarded == 0
            assert "Contents" not in client.list_objects_v2(Bucket="i23-s7")

            s3.up()
            rerun = _ok(run_cli(*args, env=NOOP))
            assert f"uploaded {pending} pending files (s3)" in rerun.stdout, rerun.stdout
            assert s3.puts_forwarded == pending
            status = json.loads((artifacts / "runs" / "20250501Z" / "status.json").read_text())
            assert status["pending_uploads"] == {"uploaded": {"s3": pending}, "still_pending": 0}
            assert {e["status"] for e in status["symbols"].values()} == {"skipped"}
            assert _pending_upload_files() == 0

            def read(key: str) -> bytes:
                return client.get_object(Bucket="i23-s7", Key=key)["Body"].read()

            assert_remote_matches_manifests(artifacts, manifests(artifacts), read)
            for symbol in ("BTCUSDT", "ETHUSDT"):
                key = f"production/{symbol}/decisions/{DATE}.json"
                assert read(key) == (artifacts / key).read_bytes()
            with dg.DagsterInstance.get() as instance:  # the daemon's sensor: nothing left
                context = dg.build_sensor_context(
                    instance=instance,
                    resources={
                        "storage": StorageResource(),
                        "artifacts": ArtifactRootResource(root=str(artifacts)),
                    },
                )
                message = pending_uploads_sensor(context).skip_message
            assert message.endswith(" 0 still pending") and s3.puts_forwarded == pending
    finally:
        server.stop()
    verify_every_recorded_file()


# Issue 23, scenario 10: six hours of NaN open/close prices fail the blocking data check like a gap.
def test_nan_prices_near_the_date_fail_the_data_check_and_publish_nothing(artifacts, tmp_path):
    import numpy as np
    import pandas as pd

    from tests.fakes.markets import write_market, zigzag_bars

    close = pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=1)
    broken = zigzag_bars(close, 200, block_bars=12, seed=5)
    on_the_date = broken["timestamp"].between(
        close - pd.Timedelta(hours=21), close - pd.Timedelta(hours=16)
    )
    broken.loc[on_the_date, ["open", "close"]] = np.nan  # 03:00 to 08:00 of the date
    data = write_market(
        tmp_path / "candles",
        {"BTCUSDT": broken, "ETHUSDT": zigzag_bars(close, 200, block_bars=12, seed=6)},
    )
    env = {**NOOP, "RETRAIN_DATA_SOURCE": "files", "RETRAIN_DATA_DIR": str(data)}
    result = run_cli("--symbols", "BTCUSDT,ETHUSDT", "--date", DATE, env=env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    status = status_of(artifacts)
    btc = status["BTCUSDT"]
    assert (btc["status"], btc["error_type"], btc["attempts"]) == ("failed", "DataCheckFailed", 1)
    assert f"6 bars with NaN open/close from {DATE} 03:00 to 08:00 UTC" in btc["error"], btc
    assert status["ETHUSDT"]["status"] == "success", status["ETHUSDT"]
    with dg.DagsterInstance.get() as instance:
        for asset in ("features", "model", "walk_forward", "metrics", "champion"):
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(
                    asset_key=dg.AssetKey(asset), asset_partitions=[f"{DATE}|BTCUSDT"]
                ),
                limit=1,
            ).records
            assert not records, asset
    assert verify_every_recorded_file() > 0


# Issue 23, scenario 11: a hung trainer times out once, at its setting plus the stated grace.
def test_a_hung_trainer_times_out_once_at_its_setting_plus_the_grace(artifacts, monkeypatch):
    # The CLI accepts 1 minute at least (measured: 71 s end to end, one attempt); its worker
    # runs exactly this execute_job with the invocation's tags, so a 2 s timeout shows it in
    # seconds. SleepyTrainer never looks at the clock: only the hard stop can end it.
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:SleepyTrainer")
    monkeypatch.setenv("SLOW_SYMBOLS", "ETHUSDT")
    from retrain_assets.defs.records import attempts_of, failure_of
    from retrain_assets.defs.timeout import HARD_GRACE_S
    from retrain_assets.launcher.jobs import retrain_job_def
    from retrain_assets.vocabulary.keys import partition_tags
    from retrain_assets.vocabulary.tags import RunTags

    timeout_s = 2.0
    tags = RunTags(invocation="hung", source="api", timeout_minutes=timeout_s / 60).to_tags()
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["ETHUSDT"])
        result = dg.execute_job(
            dg.reconstructable(retrain_job_def),
            instance=instance,
            tags={**tags, **partition_tags(DATE, "ETHUSDT")},
            raise_on_error=False,
        )
        assert not result.success
        run_id = result.run_id
        failure = failure_of(instance, run_id)
        assert failure.error_type == "Timeout", failure
        assert attempts_of(instance, run_id) == 1
        assert not instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY
        ).records
        steps = instance.get_records_for_run(
            run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_FAILURE}
        ).records
        times = [
            r.event_log_entry.timestamp for r in steps if r.event_log_entry.step_key == "model"
        ]
        model_s = max(times) - min(times)
    assert timeout_s + HARD_GRACE_S <= model_s < timeout_s + HARD_GRACE_S + 1.5, model_s
    engine = artifacts / "logs" / (DATE.replace("-", "") + "Z") / "engine.log"
    events = [json.loads(line) for line in engine.read_text().splitlines()]
    failed = [e for e in events if e["event"] == "coin_failed" and e.get("stage") == "train"]
    assert len(failed) == 1, failed
    assert f"after {failed[0]['duration_s']:.0f} s" in failure.message, (failure, failed[0])
    assert f"(timeout {timeout_s:g} s + {HARD_GRACE_S:g} s grace" in failure.message, failure
    verify_every_recorded_file()


# Issue 23, scenario 12: after a damaged-model repair and a killed run retrained with --force,
# the damaged and partial folders are moved to quarantine/ with a note, the champion's metadata
# names each move, and a sha256 sweep of models/ (sha256sum -c and the records) is clean.
@pytest.mark.slow(seconds=45)
def test_repaired_and_killed_run_folders_are_moved_aside_and_the_sweep_is_clean(artifacts):
    def sweep() -> None:
        """`sha256sum -c` in every folder with a sha256.txt, every latest recorded sha256, and no
        file under models/ that neither its folder's sha256.txt nor a latest record vouches for.
        """
        vouched = set()
        for manifest in (artifacts / "models").glob("*/*/sha256.txt"):
            check = subprocess.run(
                ["sha256sum", "-c", "--quiet", "sha256.txt"],
                cwd=manifest.parent,
                capture_output=True,
                text=True,
            )
            assert check.returncode == 0, f"{manifest}: {check.stdout}{check.stderr}"
            lines = manifest.read_text().splitlines()
            vouched |= {manifest, *(manifest.parent / line.split("  ", 1)[1] for line in lines)}
        assert verify_every_recorded_file() > 0
        with dg.DagsterInstance.get() as instance:
            for name in ASSETS:
                for record in instance.fetch_materializations(dg.AssetKey(name), 1000).records:
                    if _is_latest(instance, record):
                        files = record.asset_materialization.metadata["files"].value
                        vouched |= {Path(e["path"]) for e in files.values()}
        loose = [p for p in (artifacts / "models").rglob("*") if p.is_file() and p not in vouched]
        assert not loose, loose

    def _is_latest(instance: dg.DagsterInstance, record) -> bool:
        mat = record.asset_materialization
        newest = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=mat.asset_key, asset_partitions=[str(mat.partition)]),
            limit=1,
        ).records
        return newest[0].storage_id == record.storage_id

    _ok(run_cli("--symbols", "BTCUSDT", "--date", DATE, env=NOOP))
    damaged = _metrics_file(artifacts, "BTCUSDT").parent
    model = damaged / "model.bin"
    model.write_bytes(bytes([model.read_bytes()[0] ^ 0xFF]) + model.read_bytes()[1:])
    _ok(run_cli("--symbols", "BTCUSDT", "--date", DATE, env=NOOP))  # repaired from `model`

    killed_env = {**SLOW, "SLOW_SYMBOLS": "ETHUSDT"}
    proc = start_cli("--symbols", "ETHUSDT", "--date", DATE, env=killed_env)
    wait_for((artifacts / "checkpoints" / "ETHUSDT").exists, timeout=120, what="training")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    (partial,) = (artifacts / "models" / "ETHUSDT").iterdir()
    _ok(run_cli("--symbols", "ETHUSDT", "--date", DATE, "--force", env=NOOP))
    sweep()

    quarantine = artifacts / "quarantine" / "models"
    moved = quarantine / "BTCUSDT" / damaged.name
    assert (moved / "model.bin").read_bytes() != b"" and not model.exists()
    assert (moved / "sha256.txt").exists() and not (damaged / "sha256.txt").exists()
    (note,) = moved.glob("quarantined_by_*.json")
    why = json.loads(note.read_text())
    assert why["why"] == "model.bin does not match its recorded sha256"
    assert "model.bin" in why["files"] and "costs.json" in why["kept"]  # still the ledger's
    assert not partial.exists()  # nothing of it was the ledger's any more
    (note,) = (quarantine / "ETHUSDT" / partial.name).glob("quarantined_by_*.json")
    assert json.loads(note.read_text())["why"].endswith("ended FAILURE")
    with dg.DagsterInstance.get() as instance:
        recorded = [
            entry["folder"]
            for record in instance.fetch_materializations(dg.AssetKey("champion"), 100).records
            if "quarantined" in record.asset_materialization.metadata
            for entry in record.asset_materialization.metadata["quarantined"].value
        ]
    assert sorted(recorded) == sorted(
        [f"models/BTCUSDT/{damaged.name}", f"models/ETHUSDT/{partial.name}"]
    )


# Issue 23, scenario 9: a webserver lost during `retrain --submit` is exit 3 and one line.
# It is retried for RETRAIN_SUBMIT_PATIENCE_SECONDS first; status.json marks the unfinished runs
# unknown since then; a rerun once it is back skips what finished and follows what still runs.
def test_a_lost_webserver_is_its_own_exit_code_and_a_rerun_picks_up(artifacts, tmp_path):
    from tests.e2e.dagster_dev import dagster_daemon, free_port, start_webserver, stop_group

    gates = tmp_path / "gates"
    gates.mkdir()
    trainer = {
        "RETRAIN_TRAINER": "tests.fakes.gated_trainer:GatedTrainer",
        "TRAINER_GATE_DIR": str(gates),
    }
    base = f"http://127.0.0.1:{free_port()}"
    port = int(base.rsplit(":", 1)[1])
    argv = [sys.executable, "-m", "retrain_assets", "--submit", base, "--date", DATE]
    argv += ["--symbols", "BTCUSDT,ETHUSDT"]
    patience = 8
    with dg.DagsterInstance.get():
        pass  # the storage exists before the daemon and the webserver open it at once
    clis: list[subprocess.Popen] = []
    with dagster_daemon(tmp_path / "daemon.log", trainer):
        webserver = start_webserver(tmp_path / "webserver.log", port, trainer)
        try:
            # `--submit` judges "done" by its own configuration: the deployment's trainer.
            cli = subprocess.Popen(
                argv,
                cwd=REPO,
                env={**os.environ, **trainer, "RETRAIN_SUBMIT_PATIENCE_SECONDS": str(patience)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            clis.append(cli)
            for symbol in ("BTCUSDT", "ETHUSDT"):
                training = gates / f"{symbol}.training"
                wait_for(lambda t=training: t.exists() or cli.poll() is not None, 180, symbol)
                assert cli.poll() is None, cli.communicate()
            stop_group(webserver, signal.SIGKILL)  # the webserver pod dies; the daemon stays
            killed = time.monotonic()
            out, err = cli.communicate(timeout=120)
            waited = time.monotonic() - killed

            assert cli.returncode == 3, out[-3000:] + err[-3000:]
            assert patience <= waited < patience + 15, waited
            lines = err.strip().splitlines()
            assert len(lines) == 1, err
            assert base in lines[0] and "may still be running" in lines[0], lines[0]
            assert "retrain/invocation=" in lines[0] and "Traceback" not in out + err
            lost = status_of(artifacts)
            runs = {}
            for symbol in ("BTCUSDT", "ETHUSDT"):
                entry = lost[symbol]
                assert entry["status"] == "unknown", entry
                assert entry["unreachable_since"] and entry["run_id"], entry
                assert base in entry["error"], entry
                runs[symbol] = entry["run_id"]

            (gates / "BTCUSDT.open").touch()  # BTCUSDT finishes while nobody watches
            with dg.DagsterInstance.get() as instance:

                def btc_done() -> bool:
                    run = instance.get_run_by_id(runs["BTCUSDT"])
                    return run.status == dg.DagsterRunStatus.SUCCESS

                wait_for(btc_done, 120, "BTCUSDT's run to succeed on the deployment")
            webserver = start_webserver(tmp_path / "webserver.log", port, trainer)  # back, same URL
            rerun_out = tmp_path / "rerun.out"
            with rerun_out.open("w") as sink:
                rerun = subprocess.Popen(
                    argv,
                    cwd=REPO,
                    env={**os.environ, **trainer},
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                clis.append(rerun)

                def following_eth() -> bool:
                    entry = status_of(artifacts).get("ETHUSDT", {})
                    return entry.get("status") == "running" and entry["run_id"] == runs["ETHUSDT"]

                wait_for(following_eth, 120, "the rerun following ETHUSDT's run")
                (gates / "ETHUSDT.open").touch()
                rerun.wait(timeout=120)
            assert rerun.returncode == 0, rerun_out.read_text()[-3000:]
        finally:
            for proc in clis:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            stop_group(webserver)
    final = status_of(artifacts)
    assert final["BTCUSDT"]["status"] == "skipped", final
    assert final["ETHUSDT"]["status"] == "success", final
    assert final["ETHUSDT"]["run_id"] == runs["ETHUSDT"]
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))) == 2
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert len(_successful_runs(f"{DATE}|{symbol}")) == 1, symbol
    assert verify_every_recorded_file() > 0


def _closed_port() -> int:
    """A local port nothing listens on: a Telegram that is down."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _made_under(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


_ONE = ("--symbols", "BTCUSDT")


# Issue 23, scenario 4: bad bytes in any input (the symbols CSV, a variable, a flag) are one
# line on stderr naming it, exit 2, and nothing is created.
@pytest.mark.parametrize(
    ("csv_bytes", "args", "env", "names"),
    [
        (b"symbol\nBTCUSDT\n\xff\xfe\n", ("--symbols", "CSV"), {}, ["s.csv", "line 3", "0xff"]),
        (b"\xff\xfes\x00y\x00m\x00\n\x00", ("--symbols", "CSV"), {}, ["s.csv", "UTF-16"]),
        (b'symbol\nBTCUSDT\n"ETHUSDT\nSOLUSDT\n', ("--symbols", "CSV"), {}, ["s.csv", "line"]),
        (None, ("--symbols", "BTC\udcffUSDT"), {}, ["--symbols", "0xff"]),
        (None, ("--symbols", "BTCUSDT", "--date", "2025-05-0\udcff"), {}, ["--date"]),
        (None, ("--symbols", "BTCUSDT", "--submit", "http://127.0.0.1:1/\udcff"), {}, ["--submit"]),
        (None, _ONE, {"DAGSTER_HOME": "TMP/home\udcff"}, ["DAGSTER_HOME", "0xff"]),
        (None, _ONE, {"RETRAIN_ARTIFACT_ROOT": "TMP/art\udcff"}, ["RETRAIN_ARTIFACT_ROOT", "0xff"]),
        (None, _ONE, {"RETRAIN_DATA_SOURCE": "fil\udcffes"}, ["RETRAIN_DATA_SOURCE", "0xff"]),
        (None, _ONE, {"TELEGRAM_TOKEN": "12345:se\udcffcret"}, ["TELEGRAM_TOKEN", "0xff"]),
        (None, _ONE, {"RETRAIN_START_DATE": "2025-01-0\udcff"}, ["RETRAIN_START_DATE"]),
        (None, _ONE, {"STRUCTLOG_LEVEL": "INF\udcff"}, ["STRUCTLOG_LEVEL"]),
    ],
)
def test_bad_bytes_in_any_input_are_one_line_exit_2_and_create_nothing(
    artifacts, dagster_home, tmp_path, csv_bytes, args, env, names
):
    for child in dagster_home.iterdir():
        child.unlink()
    dagster_home.rmdir()
    csv_file = tmp_path / "s.csv"
    if csv_bytes is not None:
        csv_file.write_bytes(csv_bytes)
    args = tuple(str(csv_file) if a == "CSV" else a for a in args)
    env = {k: v.replace("TMP", str(tmp_path)) for k, v in env.items()}
    # A UTF-8 terminal's locale makes Python's stdout strict: an undecodable byte echoed there
    # would be a traceback.
    env = {**NOOP, "PYTHONIOENCODING": "utf-8:strict", "TELEGRAM_CHAT_ID": "42", **env}
    result = run_cli("--date", DATE, *args, env=env, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(n in lines[0] for n in names), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "cret" not in result.stderr  # a variable's value (a token) is never shown
    assert _made_under(tmp_path, {"s.csv"}) == []


_FRAME = ("retrain 2025-05-01: ", "status:    ", "summary:   ", "report:    ")


def _symbol_lines(output: str) -> tuple[dict[str, list[str]], list[str]]:
    """The per-symbol lines of a CLI's output by symbol, and every other line that is not one
    of the run's frame (its header, the progress counters, the closing production table with
    its headline, the closing paths and counts)."""
    import re

    counts = re.compile(r"^\[\d\d:\d\d\] done \d+/\d+ |^\d+ ok, \d+ not ok")
    per_symbol: dict[str, list[str]] = {}
    others = []
    in_table = False
    for line in output.splitlines():
        in_table = in_table or line.startswith("symbol ")
        if in_table:  # the production table, closed by its headline
            in_table = not (" symbol" in line and " failed · " in line)
            continue
        if counts.match(line) or line.startswith(_FRAME):
            continue
        if line.startswith("  ") and len(line.split()) > 1:
            per_symbol.setdefault(line.split()[0], []).append(line)
        else:
            others.append(line)
    return per_symbol, others


# Issue 23, scenario 13 (and 10's 48 h gap): a failed, data-failed or timed-out symbol-day
# prints one line, its details stay in the logs; a dead Telegram prints one short line at most.
def test_each_failed_symbol_day_prints_one_line_and_keeps_its_details_in_the_logs(
    artifacts, tmp_path
):
    import pandas as pd

    from tests.fakes.markets import write_market, zigzag_bars

    close = pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=1)
    gapped = zigzag_bars(close, 200, block_bars=12, seed=1)
    hours = (close - gapped["timestamp"]) / pd.Timedelta(hours=1)
    gapped = gapped[(hours > 60) | (hours <= 12)]  # 48 h missing two days before the close
    symbols = ["GAPUSDT", "CRASHUSDT", "SLOWUSDT", "OKUSDT"]
    markets = {s: zigzag_bars(close, 200, block_bars=12, seed=i) for i, s in enumerate(symbols)}
    data = write_market(tmp_path / "data", {**markets, "GAPUSDT": gapped})
    token = "123456:planted-telegram-token"
    env = {
        "RETRAIN_DATA_SOURCE": "files",
        "RETRAIN_DATA_DIR": str(data),
        "RETRAIN_TRAINER": "tests.fakes.raising_trainer:RaisingTrainer",
        "FAIL_SYMBOLS": "CRASHUSDT",
        "TIMEOUT_SYMBOLS": "SLOWUSDT",
        "TELEGRAM_TOKEN": token,
        "TELEGRAM_CHAT_ID": "42",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{_closed_port()}",
    }
    result = run_cli("--symbols", ",".join(symbols), "--date", DATE, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    for noise in ("Traceback", "Stack Trace", "DagsterExecution", " - dagster - ", "ERROR -"):
        assert noise not in output, output
    for noise in ("urllib3", "HTTPConnection", "127.0.0.1", "/bot", token, "planted"):
        assert noise not in output, output
    per_symbol, others = _symbol_lines(output)
    assert {s: len(lines) for s, lines in per_symbol.items()} == dict.fromkeys(symbols, 1), output
    line = {s: lines[0].split(maxsplit=2)[1:] for s, lines in per_symbol.items()}
    assert line["GAPUSDT"][0] == "failed" and "gap of 48 h" in line["GAPUSDT"][1]
    assert line["CRASHUSDT"] == ["failed", "RuntimeError: CRASHUSDT: the desk trainer crashed"]
    assert line["SLOWUSDT"][0] == "failed" and line["SLOWUSDT"][1].startswith("Timeout: SLOWUSDT")
    assert line["OKUSDT"][0] == "success"
    assert len(others) <= 1 and all("Telegram" in o and len(o) <= 120 for o in others), others
    # The details are kept: the stacks in the event log and the JSON logs, the send failures
    # in the engine log (with the token masked).
    engine_log = (artifacts / "logs" / "20250501Z" / "engine.log").read_text()
    events = [json.loads(line) for line in engine_log.splitlines()]
    failed = {e["symbol"] for e in events if e["event"] == "coin_failed"}
    assert failed == {"GAPUSDT", "CRASHUSDT", "SLOWUSDT"}
    crash = next(e for e in events if e["event"] == "coin_failed" and e["symbol"] == "CRASHUSDT")
    assert "_crash" in crash["stack_summary"]
    sends = [e for e in events if e["event"] == "notification_failed"]
    assert sends and all("ConnectionError" in e["error"] for e in sends), sends
    assert token not in engine_log
    with dg.DagsterInstance.get() as instance:
        run_id = status_of(artifacts)["CRASHUSDT"]["run_id"]
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_FAILURE
        ).records
        error = records[-1].event_log_entry.dagster_event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        assert "third line" in error.message and any("_crash" in f for f in error.stack)
    verify_every_recorded_file()


# Issue 23, scenario 13: a canceled symbol-day prints one line, `canceled` and a short reason.
def test_a_canceled_symbol_day_prints_one_line_with_a_short_reason(artifacts):
    proc = start_cli("--symbols", "BTCUSDT", "--date", DATE, env=SLOW)
    wait_for((artifacts / "checkpoints" / "BTCUSDT").exists, 120, "BTCUSDT training")
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 130, out
    for noise in ("Traceback", "Stack Trace", "Dagster", " - dagster - ", "ERROR -", "Error"):
        assert noise not in out, out
    per_symbol, others = _symbol_lines(out)
    assert len(per_symbol["BTCUSDT"]) == 1, out
    symbol, state, reason = per_symbol["BTCUSDT"][0].split(maxsplit=2)
    assert (symbol, state) == ("BTCUSDT", "canceled"), out
    assert not reason.startswith("Canceled") and 10 < len(reason) <= 100, reason
    assert others == [
        "SIGINT: stopping: no new symbols, canceling running trainings (partials and snapshots "
        "kept); again to exit now",
        "interrupted: canceled runs keep their partials and snapshots; rerun to resume",
    ], out
    assert status_of(artifacts)["BTCUSDT"]["status"] == "canceled"
    verify_every_recorded_file()
