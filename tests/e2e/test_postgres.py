"""The cluster instance (`deploy/dagster.yaml`) on a real PostgreSQL server on 127.0.0.1.

Real parts: Debian's PostgreSQL, dagster-postgres, the product's CLI as a subprocess, moto for
the S3 compute logs, dagster-k8s's `K8sRunLauncher` built from the file (it only reads a
kubeconfig when built; the test's points at 127.0.0.1 and is never called). Not run here:
launching runs on Kubernetes; the CLI runs use the default launcher on the same Postgres.
"""

import json
import uuid
from pathlib import Path

import dagster as dg
import pytest
import yaml

from tests.e2e.conftest import (
    DATE,
    REPO,
    max_overlap,
    model_step_intervals,
    run_cli,
    start_cli,
    status_of,
    wait_for,
)
from tests.e2e.dagster_dev import dagster_dev
from tests.e2e.test_reliability import SLOW, verify_every_recorded_file
from tests.fakes.moto_s3 import FAKE_ENV, moto_endpoint, s3_client
from tests.fakes.postgres import postgres

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["moto_endpoint", "postgres"]
DEPLOY = REPO / "deploy" / "dagster.yaml"
NOOP = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}
_PG_FIELDS = {"hostname": "HOST", "port": "PORT", "db_name": "DB", "username": "USER"}
_PG_FIELDS |= {"password": "PASSWORD"}
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: test, user: {token: not-a-secret}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
"""


def _home(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster.yaml").write_text(yaml.safe_dump(config))
    return folder


def _deploy() -> dict:
    return yaml.safe_load(DEPLOY.read_text())


def test_the_cluster_instance_config_loads_as_written(
    postgres, moto_endpoint, tmp_path, monkeypatch
):
    for name, value in {**postgres.env(), **FAKE_ENV}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    monkeypatch.setenv("DAGSTER_K8S_NAMESPACE", "retrain")
    monkeypatch.setenv("RETRAIN_COMPUTE_LOG_BUCKET", "compute-logs")
    s3_client(moto_endpoint).create_bucket(Bucket="compute-logs")
    config = _deploy()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    # Outside a cluster the launcher reads a kubeconfig instead of the pod's service account.
    config["run_launcher"]["config"] |= {
        "load_incluster_config": False,
        "kubeconfig_file": str(kubeconfig),
    }
    monkeypatch.setenv("DAGSTER_HOME", str(_home(tmp_path / "home", config)))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_launcher).__name__ == "K8sRunLauncher"
        assert instance.run_launcher.env_secrets == ["retrain-assets-secrets"]
        assert type(instance.compute_log_manager).__name__ == "S3ComputeLogManager"
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert instance.run_retries_max_retries == 2
        assert instance.run_monitoring_max_resume_run_attempts == 2
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 12
    # Secrets and endpoints come from the environment (Kubernetes Secrets), never literals.
    database = _deploy()["storage"]["postgres"]["postgres_db"]
    assert all(database[k] == {"env": f"DAGSTER_PG_{v}"} for k, v in _PG_FIELDS.items())


@pytest.fixture
def pg_home(postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home whose instance is deploy/dagster.yaml on its own new Postgres database, with the
    default run launcher (no cluster) and local compute logs (no S3), a `train` pool of 2."""
    database = f"retrain_{uuid.uuid4().hex[:10]}"
    postgres.create_database(database)
    config = _deploy()
    del config["run_launcher"], config["compute_logs"]
    del config["run_monitoring"]["max_resume_run_attempts"]  # the default launcher cannot resume
    config["storage"]["postgres"]["postgres_db"]["db_name"] = database
    config["concurrency"]["pools"]["default_limit"] = 2
    home = _home(tmp_path / "home", config)
    env = {**postgres.env(), **NOOP, "DAGSTER_HOME": str(home)}
    env["RETRAIN_ARTIFACT_ROOT"] = str(tmp_path / "artifacts")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("RETRAIN_DATA_SOURCE", "RETRAIN_SYMBOLS", "TELEGRAM_TOKEN", "TELEGRAM_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    return home


def _successful_runs(instance: dg.DagsterInstance, symbol: str) -> list[dg.DagsterRun]:
    tags = {"dagster/partition": f"{DATE}|{symbol}"}
    runs = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day", tags=tags))
    return [r for r in runs if r.status == dg.DagsterRunStatus.SUCCESS]


def test_two_invocations_at_once_on_postgres_keep_the_cap_and_the_resume_ledger(
    pg_home: Path, tmp_path: Path
) -> None:
    first = start_cli("--symbols", "BTCUSDT,ETHUSDT,SOLUSDT", "--date", DATE, env={})
    second = start_cli(
        "--symbols", "SOLUSDT,ETHUSDT,XRPUSDT", "--date", DATE, "--max_concurrent", "5", env={}
    )
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    with dg.DagsterInstance.get() as instance:
        for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"):
            assert len(_successful_runs(instance, symbol)) == 1, symbol
        runs = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))
        steps = model_step_intervals(instance, [r.run_id for r in runs])
        assert instance.event_log_storage.get_concurrency_info("train").slot_count == 2
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert max_overlap(steps) <= 2  # both invocations share the pool held in Postgres
    again = run_cli("--symbols", "BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT", "--date", DATE)
    assert again.returncode == 0, again.stdout + again.stderr[-3000:]
    assert {e["status"] for e in status_of(tmp_path / "artifacts").values()} == {"skipped"}


@pytest.mark.slow(seconds=50)
def test_submit_through_dagster_dev_on_postgres_runs_on_the_daemon(
    pg_home: Path, tmp_path: Path
) -> None:
    with dagster_dev(tmp_path / "dagster_dev.log") as base:
        args = ("--submit", base, "--symbols", "BTCUSDT,ETHUSDT", "--date", DATE)
        result = run_cli(*args)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    status = json.loads((tmp_path / "artifacts" / "runs" / "20250501Z" / "status.json").read_text())
    assert status["source"] == "submit"
    assert {e["status"] for e in status["symbols"].values()} == {"success"}
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        for symbol in ("BTCUSDT", "ETHUSDT"):
            (run,) = _successful_runs(instance, symbol)
            assert run.run_id == status["symbols"][symbol]["run_id"]
            queued = instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED
            ).records
            assert queued, "the deployment's run queue (the daemon) started it"


def test_a_postgres_restart_mid_retrain_loses_nothing_and_a_rerun_completes(
    postgres, pg_home: Path, tmp_path: Path
) -> None:
    slow = {**SLOW, "SLOW_ITERATIONS": "1500", "SLEEP_MARKER_DIR": str(tmp_path)}
    symbols = ("--symbols", "BTCUSDT,ETHUSDT,SOLUSDT", "--date", DATE)
    proc = start_cli(*symbols, env=slow)
    checkpoints = tmp_path / "artifacts" / "checkpoints" / "BTCUSDT"
    wait_for(checkpoints.exists, timeout=120, what="BTCUSDT training started")
    postgres.restart()
    output = proc.communicate(timeout=300)[0]
    assert proc.returncode in (0, 1), output  # each symbol succeeded or failed, named
    again = run_cli(*symbols, env=slow)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    statuses = {s: e["status"] for s, e in status_of(tmp_path / "artifacts").items()}
    assert set(statuses.values()) <= {"success", "skipped"}, statuses
    with dg.DagsterInstance.get() as instance:
        for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
            assert _successful_runs(instance, symbol), symbol
    assert verify_every_recorded_file() > 0  # every recorded file is there, sha256 intact
