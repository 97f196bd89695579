"""Environment checks name the variable and its value, and create nothing."""

import pytest

from retrain_assets.core.errors import PermanentError
from retrain_assets.launcher import environment


@pytest.mark.parametrize("value", ["garbage", "2020", "2020-13-01", "2999-01-01"])
def test_a_bad_start_date_names_the_variable(value):
    with pytest.raises(PermanentError, match=f"RETRAIN_START_DATE='{value}'"):
        environment.check_deployment_settings({"RETRAIN_START_DATE": value})


def test_a_good_start_date_passes():
    assert environment.check_deployment_settings({"RETRAIN_START_DATE": "2020-12-01"}) == (
        "2020-12-01"
    )


@pytest.mark.parametrize("value", ["nonsense", "verbose"])
def test_an_unknown_log_level_names_the_variable(value):
    with pytest.raises(PermanentError, match="STRUCTLOG_LEVEL"):
        environment.check_log_level({"STRUCTLOG_LEVEL": value})


@pytest.mark.parametrize("value", ["DEBUG", "info", "WARN", "warning", "ERROR"])
def test_known_log_levels_pass(value):
    environment.check_log_level({"STRUCTLOG_LEVEL": value})


def test_a_folder_under_a_file_is_refused_and_nothing_is_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PermanentError, match=r"DAGSTER_HOME=.*is not a folder"):
        environment.dagster_home({"DAGSTER_HOME": str(blocker / "home")})
    assert list(tmp_path.iterdir()) == [blocker]


def test_a_corrupt_database_is_named(tmp_path):
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "runs.db").write_bytes(b"garbage" * 200)
    with pytest.raises(PermanentError, match=r"runs\.db cannot be read"):
        environment.check_instance_database(tmp_path)


def test_a_corrupt_dry_run_database_stops_dry_runs_only(tmp_path):
    (tmp_path / "dry_run").mkdir()
    (tmp_path / "dry_run" / "runs.db").write_bytes(b"garbage" * 200)
    environment.check_instance_database(tmp_path)  # the real instance is fine
    with pytest.raises(PermanentError, match=r"dry_run: the instance database runs\.db"):
        environment.check_instance_database(tmp_path / "dry_run")


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("2025-01-0\udcff", "byte 0xff at offset 9"),  # how Python hands over a raw 0xff
        ("é\udce9", "byte 0xe9 at offset 2"),  # offsets count bytes, not characters
    ],
)
def test_a_setting_that_is_not_utf8_names_the_variable_and_the_byte_not_the_value(value, where):
    environ = {"PATH": "/bin", "TELEGRAM_TOKEN": "123:ok", "TELEGRAM_CHAT_ID": value}
    with pytest.raises(PermanentError) as info:
        environment.check_settings_text(environ)
    assert str(info.value) == f"TELEGRAM_CHAT_ID: not UTF-8 text ({where})"


def test_other_variables_and_utf8_settings_pass():
    environment.check_settings_text({"LS_COLORS": "\udcff", "RETRAIN_SYMBOLS": "BTC,ÉTH"})
    environment.check_text("--date", None)
