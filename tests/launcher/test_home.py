"""The instance's config and storage: the repo-root dagster.yaml is used as it is (DAGSTER_HOME =
the repo root, storage in $RETRAIN_INSTANCE_DIR), and a home made elsewhere keeps its storage."""

from pathlib import Path

import dagster as dg
import pytest
import yaml

from retrain_assets.core.errors import PermanentError
from retrain_assets.launcher.environment import INSTANCE_DIR_VAR, storage_dir
from retrain_assets.launcher.home import (
    INSTANCE_TEMPLATE,
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
