"""The settings file: the resources' number-changing settings, checked in one line."""

import pytest

from resources.settings_file import SETTINGS_VAR, configured, settings_sections
from resources.training import TrainingResource
from retrain_assets.core.errors import PermanentError


def _sections(tmp_path, text: str) -> dict:
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    return settings_sections({SETTINGS_VAR: str(path)})


def test_no_file_means_every_default():
    assert settings_sections({}) == {}
    assert configured(TrainingResource, "training", {}).lookback_days == 180


def test_a_section_sets_the_fields_it_names_and_leaves_the_rest(tmp_path):
    sections = _sections(tmp_path, "training:\n  lookback_days: 120\n")
    training = configured(TrainingResource, "training", sections)
    assert (training.lookback_days, training.horizon_bars) == (120, 4)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("training: [1, 2]\n", "training: expected a mapping of settings"),
        ("trainng:\n  depth: 4\n", "unknown section 'trainng'"),
        ("training:\n  depth: [\n", "not valid YAML at line"),
        ("- 1\n", "expected sections"),
    ],
)
def test_a_bad_file_is_one_line_naming_what_is_wrong(tmp_path, text, says):
    with pytest.raises(PermanentError, match=says.replace("[", r"\[")) as caught:
        _sections(tmp_path, text)
    assert "\n" not in str(caught.value)


def test_a_misspelled_or_wrong_setting_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(SETTINGS_VAR, "s.yaml")
    with pytest.raises(PermanentError, match=r"training\.lookbak_days: unknown setting"):
        configured(TrainingResource, "training", {"training": {"lookbak_days": 120}})
    with pytest.raises(PermanentError, match=r"training\.depth: Input should be a valid integer"):
        configured(TrainingResource, "training", {"training": {"depth": "deep"}})


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(PermanentError, match="cannot be read"):
        settings_sections({SETTINGS_VAR: str(tmp_path / "nope.yaml")})
