"""The timeout, the start date and the cron: the settings file, else the environment, else the
default, and a bad value is one line naming where it was set."""

import pytest

from resources.deployment import DeploymentSettings, deployment_settings
from resources.settings_file import SETTINGS_VAR
from retrain_assets.core.errors import PermanentError


def _file(tmp_path, text: str) -> dict[str, str]:
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    return {SETTINGS_VAR: str(path)}


def test_nothing_set_means_the_defaults():
    assert deployment_settings({}) == DeploymentSettings(45.0, "2025-01-01", "0 2 * * *")


def test_the_environment_sets_what_the_file_does_not(tmp_path):
    environ = {
        **_file(tmp_path, "deployment:\n  start_date: 2021-01-01\n"),
        "RETRAIN_TIMEOUT_MINUTES": "30",
        "RETRAIN_START_DATE": "2020-12-01",  # the file's wins
        "RETRAIN_SCHEDULE_CRON": "0 5 * * *",
    }
    assert deployment_settings(environ) == DeploymentSettings(30.0, "2021-01-01", "0 5 * * *")


@pytest.mark.parametrize(
    ("text", "environ", "says"),
    [
        ("training:\n  timeout_minutes: 0\n", {}, "training.timeout_minutes=0: expected 1 to 1440"),
        ("", {"RETRAIN_TIMEOUT_MINUTES": "soon"}, "RETRAIN_TIMEOUT_MINUTES='soon'"),
        ("deployment:\n  start_date: 2999-01-01\n", {}, "deployment.start_date='2999-01-01'"),
        ("deployment:\n  schedule_cron: daily\n", {}, "deployment.schedule_cron='daily'"),
        ("deployment:\n  start: 2021-01-01\n", {}, "deployment.start: unknown setting"),
        ("", {"RETRAIN_K8S_TIMEOUT_MINUTES": "90"}, "RETRAIN_K8S_TIMEOUT_MINUTES is no longer"),
    ],
)
def test_a_bad_value_is_one_line_naming_where_it_was_set(tmp_path, text, environ, says):
    with pytest.raises(PermanentError, match=says) as caught:
        deployment_settings({**_file(tmp_path, text), **environ})
    assert "\n" not in str(caught.value)
