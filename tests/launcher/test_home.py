"""The instance's config and storage: the repo-root dagster.yaml is used as it is (DAGSTER_HOME =
the repo root, storage in $RETRAIN_INSTANCE_DIR), and a home made elsewhere keeps its storage."""

import os
from pathlib import Path

import dagster as dg
import pytest
import yaml

from retrain_assets.core.errors import PermanentError
from retrain_assets.launcher.environment import INSTANCE_DIR_VAR, storage_dir
from retrain_assets.launcher.home import (
    INSTANCE_TEMPLATE,
    exported,
    instance_config,
    open_instance,
    prepare_home,
    write_instance_config,
)


def test_the_repo_config_keeps_every_storage_in_the_instance_folder() -> None:
    config = yaml.safe_load(INSTANCE_TEMPLATE.read_text())
    for key in (
        "run_storage",
        "event_log_storage",
        "schedule_storage",
        "local_artifact_storage",
        "compute_logs",
    ):
        assert config[key]["config"]["base_dir"] == {"env": INSTANCE_DIR_VAR}, key


def test_a_home_of_its_own_gets_the_same_settings_with_storage_in_the_home() -> None:
    template = yaml.safe_load(INSTANCE_TEMPLATE.read_text())
    copy = instance_config()
    assert copy["event_log_storage"]["config"]["base_dir"] == {"env": "DAGSTER_HOME"}
    assert INSTANCE_DIR_VAR not in yaml.safe_dump(copy)
    assert copy["concurrency"] == template["concurrency"]
    assert copy["run_monitoring"] == template["run_monitoring"]


def test_the_repo_config_opens_with_its_storage_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "repo"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())
    monkeypatch.setenv(INSTANCE_DIR_VAR, str(tmp_path / "state"))
    with open_instance(prepare_home(home)) as instance:
        assert Path(instance.root_directory) == tmp_path / "state"
    assert {p.name for p in (tmp_path / "state").glob("*.db")} >= {"runs.db", "event_log.db"}
    assert not list(home.glob("*.db")) and not (home / "history").exists()


def test_the_repo_config_without_its_instance_folder_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())
    monkeypatch.delenv(INSTANCE_DIR_VAR, raising=False)
    with pytest.raises(PermanentError, match=f"{INSTANCE_DIR_VAR} is not set"):
        storage_dir(tmp_path)


def test_a_written_home_opens_with_its_storage_in_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INSTANCE_DIR_VAR, str(tmp_path / "elsewhere"))  # not this home's concern
    write_instance_config(tmp_path)
    assert storage_dir(tmp_path) == tmp_path
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert Path(instance.root_directory) == tmp_path
    assert (tmp_path / "event_log.db").exists() and not (tmp_path / "elsewhere").exists()


def test_a_dry_run_gets_a_home_in_the_real_storage_folder_and_a_root_in_the_real_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from retrain_assets.launcher.config import SchedulerConfig
    from retrain_assets.launcher.main import check_inputs

    repo = tmp_path / "repo"  # as `make` runs it: the repo's dagster.yaml, storage elsewhere
    repo.mkdir()
    (repo / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(repo))
    monkeypatch.setenv(INSTANCE_DIR_VAR, str(tmp_path / ".dagster_home"))
    monkeypatch.setenv("RETRAIN_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    now = datetime(2025, 5, 3, tzinfo=UTC)

    real = check_inputs("BTCUSDT", SchedulerConfig(date="2025-05-01"), now)
    dry = check_inputs("BTCUSDT", SchedulerConfig(date="2025-05-01", dry_run=True), now)

    assert (real.home, real.artifact_root) == (repo, tmp_path / "artifacts")
    assert dry.home == tmp_path / ".dagster_home" / "dry_run"
    assert dry.artifact_root == tmp_path / "artifacts" / "dry_run"
    assert list(tmp_path.iterdir()) == [repo]  # checks create nothing
    with exported(dry.home, dry.artifact_root), open_instance(prepare_home(dry.home)) as instance:
        assert Path(instance.root_directory) == dry.home  # storage in the dry home itself
    assert (dry.home / "event_log.db").exists() and not (
        tmp_path / ".dagster_home" / "runs.db"
    ).exists()


def test_exported_sets_the_home_and_root_for_the_invocation_and_restores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", "/real/home")
    monkeypatch.delenv("RETRAIN_ARTIFACT_ROOT", raising=False)
    with pytest.raises(RuntimeError), exported(tmp_path / "home", tmp_path / "root"):
        assert os.environ["DAGSTER_HOME"] == str(tmp_path / "home")
        assert os.environ["RETRAIN_ARTIFACT_ROOT"] == str(tmp_path / "root")
        raise RuntimeError("an invocation that failed")
    assert os.environ["DAGSTER_HOME"] == "/real/home"  # a later real run finds the real one
    assert "RETRAIN_ARTIFACT_ROOT" not in os.environ
