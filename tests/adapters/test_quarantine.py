"""Moving a run folder's files aside: all but the kept ones, with a note, never out of root."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from retrain_assets.adapters.quarantine import move_aside
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.lifecycle.artifacts import ArtifactLayout

NOW = datetime(2025, 5, 2, 3, 4, 5, tzinfo=UTC)


def _folder(root: Path, names: tuple[str, ...]) -> Path:
    folder = root / "models" / "BTCUSDT" / "20250501_000000Z_abcd1234"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text(name)
    return folder


def test_every_file_but_the_kept_ones_moves_with_a_note_written_first(tmp_path):
    folder = _folder(tmp_path, ("costs.json", "model.bin", "sha256.txt"))
    moved = move_aside(
        ArtifactLayout(tmp_path), folder, {"costs.json"}, "model.bin is damaged", "run12345x", NOW
    )
    aside = tmp_path / "quarantine" / "models" / "BTCUSDT" / folder.name
    assert moved.files == ("model.bin", "sha256.txt") and moved.kept == ("costs.json",)
    assert moved.moved_to == aside.relative_to(tmp_path).as_posix()
    assert [p.name for p in folder.iterdir()] == ["costs.json"]
    assert (aside / "model.bin").read_text() == "model.bin"
    note = json.loads((aside / "quarantined_by_run12345.json").read_text())
    assert note == moved.to_json()
    assert note["folder"] == "models/BTCUSDT/20250501_000000Z_abcd1234"
    assert note["moved_at"] == "2025-05-02T03:04:05+00:00" and note["by_run"] == "run12345x"


def test_an_emptied_folder_is_removed_and_nothing_to_move_is_none(tmp_path):
    folder = _folder(tmp_path, ("a.json",))
    layout = ArtifactLayout(tmp_path)
    assert move_aside(layout, folder, {"a.json"}, "why", "run", NOW) is None
    assert move_aside(layout, folder, set(), "why", "run", NOW).files == ("a.json",)
    assert not folder.exists()


@pytest.mark.parametrize("where", ["models/BTCUSDT", "production/BTCUSDT/x", "../x/y/z"])
def test_a_folder_that_is_not_a_run_folder_of_the_root_is_refused(tmp_path, where):
    folder = tmp_path / "root" / where
    folder.mkdir(parents=True)
    with pytest.raises(PermanentError, match="not a run folder"):
        move_aside(ArtifactLayout(tmp_path / "root"), folder, set(), "why", "run", NOW)
