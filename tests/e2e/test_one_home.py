"""Issue 21: the timeout, the start date and the cron each have one home, the settings file.

Set once in `RETRAIN_SETTINGS`, each reaches every process that loads the definitions: a real
CLI run (its `model` step records the timeout it trained under), a schedule tick evaluated in
a fresh process (its runs' tags and `dagster/max_runtime`), the Kubernetes training pod that
dagster-k8s builds from the executor's config (its active deadline), and the partitions.
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import kubernetes
import pytest
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
)

from retrain_assets.cli import build_parser
from retrain_assets.vocabulary.tags import TIMEOUT_TAG
from tests.e2e.conftest import REPO, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}
SETTINGS = """\
training:
  timeout_minutes: 7
deployment:
  start_date: 2024-06-01
  schedule_cron: "15 3 * * *"
"""
TICK = datetime(2024, 6, 5, 3, 15, tzinfo=UTC)


@pytest.fixture
def one_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file naming the three settings; the environment says otherwise, and loses."""
    path = tmp_path / "settings.yaml"
    path.write_text(SETTINGS)
    monkeypatch.setenv("RETRAIN_SETTINGS", str(path))
    monkeypatch.setenv("RETRAIN_TIMEOUT_MINUTES", "50")
    monkeypatch.setenv("RETRAIN_START_DATE", "2025-01-01")
    monkeypatch.delenv("RETRAIN_SCHEDULE_CRON", raising=False)
    return path


def _step_job(pod: dict) -> kubernetes.client.V1Job:
    """The Job dagster-k8s launches for a step with this pod config."""
    config = DagsterK8sJobConfig(
        job_image="retrain-assets:test",
        dagster_home="/opt/dagster/dagster_home",
        image_pull_policy="IfNotPresent",
        instance_config_map="dagster-instance",
    )
    return construct_dagster_k8s_job(
        config,
        ["dagster", "api", "execute_step"],
        "dagster-step-0123456789",
        user_defined_k8s_config=UserDefinedDagsterK8sConfig.from_dict(pod),
    )


def probe() -> None:
    """Print, as JSON, what freshly loaded definitions make of this process's settings: run in
    a subprocess, since the definitions read them once, when the code location loads."""
    from retrain_assets.definitions import defs
    from retrain_assets.defs.executor import TRAINING_STEP, k8s_config_from_env
    from retrain_assets.defs.partitions import date_partitions
    from retrain_assets.defs.schedules import daily_retrain_schedule

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=TICK,
            repository_def=defs.get_repository_def(),
            resources=defs.resources,
        ) as context:
            (request,) = daily_retrain_schedule.evaluate_tick(context).run_requests
    pod = k8s_config_from_env(os.environ)["per_step_k8s_config"][TRAINING_STEP]
    print(
        json.dumps(
            {
                "tags": dict(request.tags),
                "cron": daily_retrain_schedule.cron_schedule,
                "start": date_partitions.start.date().isoformat(),
                "executor": defs.executor.name,
                "deadline_s": _step_job(pod).spec.active_deadline_seconds,
            }
        )
    )


def _probed(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", "from tests.e2e.test_one_home import probe; probe()"],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_timeout_set_once_reaches_the_schedule_the_step_pod_and_the_partitions(one_home):
    seen = _probed({"RETRAIN_EXECUTOR": "k8s"})

    assert seen["executor"] == "retrain_k8s"
    assert seen["deadline_s"] == 7 * 60 + 300  # the timeout plus the pod's margin
    assert int(seen["tags"]["dagster/max_runtime"]) == 7 * 60 * 3 + 600
    assert TIMEOUT_TAG not in seen["tags"]  # the run trains with the resource's, set above
    assert seen["tags"]["dagster/partition"] == "2024-06-04|BTCUSDT"
    assert seen["cron"] == "15 3 * * *"
    assert seen["start"] == "2024-06-01"


def test_without_the_file_the_environment_is_the_home(one_home, monkeypatch):
    monkeypatch.delenv("RETRAIN_SETTINGS")
    monkeypatch.setenv("RETRAIN_START_DATE", "2024-05-01")
    seen = _probed({"RETRAIN_EXECUTOR": "k8s", "RETRAIN_SCHEDULE_CRON": "0 4 * * *"})

    assert seen["deadline_s"] == 50 * 60 + 300
    assert int(seen["tags"]["dagster/max_runtime"]) == 50 * 60 * 3 + 600
    assert (seen["cron"], seen["start"]) == ("0 4 * * *", "2024-05-01")


def _latest_model() -> dict:
    """The newest `model` materialization's recorded timeout and its run's tags."""
    with dg.DagsterInstance.get() as instance:
        (record,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("model")), limit=1
        ).records
        run = instance.get_run_by_id(record.run_id)
    assert run is not None
    metadata = record.asset_materialization.metadata
    return {"timeout": float(metadata["timeout_minutes"].value), "tags": run.tags}


def test_a_cli_run_trains_under_the_timeout_set_once_and_its_help_says_so(dagster_home, one_home):
    assert "(default: 7:" in " ".join(build_parser().format_help().split())

    result = run_cli("--symbols", "BTCUSDT", "--date", "2024-06-03", env=FAST)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    made = _latest_model()
    assert made["timeout"] == 7.0  # before the start date of the environment: the file's wins
    assert TIMEOUT_TAG not in made["tags"]  # no override: the runs carry no configuration


def test_an_invocations_own_timeout_still_overrides_the_home_for_its_runs(dagster_home, one_home):
    result = run_cli(
        "--symbols", "BTCUSDT", "--date", "2024-06-03", "--timeout_minutes", "9", env=FAST
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    made = _latest_model()
    assert made["timeout"] == 9.0
    assert made["tags"][TIMEOUT_TAG] == "9.0"
