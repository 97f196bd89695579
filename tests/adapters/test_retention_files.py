"""Retention's edges: listing run folders, checkpoints and champion manifests under the root,
and the local and remote executors."""

import dataclasses
import json
from pathlib import Path

import pytest

from retrain_assets.adapters.retention_files import (
    apply_local,
    apply_remote,
    champion_folder,
    list_checkpoint_days,
    list_run_folders,
    read_champions,
)
from retrain_assets.adapters.storage import LocalBackend
from retrain_assets.core.lifecycle.retention import (
    Action,
    Reason,
    checkpoints_to_sweep,
    plan_retention,
)
from tests.core.lifecycle.test_retention import NAMES, SYM, deleted, path


def make_folders(root: Path, names: list[str], symbol: str = SYM) -> None:
    for name in names:
        folder = root / "models" / symbol / name
        folder.mkdir(parents=True)
        (folder / "model.bin").write_bytes(name.encode())
        (folder / "sha256.txt").write_text("x  model.bin\n")


def write_manifest(root: Path, symbol: str, content: str) -> None:
    manifest = root / "production" / symbol / "production.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(content)


def test_a_missing_production_folder_or_manifest_means_no_champion(tmp_path):
    assert read_champions(tmp_path).folders == set()
    (tmp_path / "production" / SYM).mkdir(parents=True)
    assert champion_folder(tmp_path, SYM) is None
    assert read_champions(tmp_path).folders == set()


@pytest.mark.parametrize(
    "document",
    [
        {"source_run_folder": path(NAMES[0]), "x": 1},
        # the pointer core/lifecycle/production.py writes: the folder is in the champion's reference
        {"symbol": SYM, "champion": {"run_id": "r", "source_run_folder": path(NAMES[0])}},
    ],
)
def test_a_valid_manifest_names_the_champion(tmp_path, document):
    write_manifest(tmp_path, SYM, json.dumps(document))
    assert read_champions(tmp_path).folders == {path(NAMES[0])}


def test_a_manifest_with_a_null_champion_means_no_champion(tmp_path):
    write_manifest(tmp_path, SYM, json.dumps({"symbol": SYM, "champion": None}))
    assert read_champions(tmp_path).folders == set()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"other": 1}),
        json.dumps(["models/BTCUSDT/x"]),
        json.dumps({"source_run_folder": 7}),
        json.dumps({"champion": {"run_id": "r"}}),
        json.dumps({"champion": "models/BTCUSDT/20210601_010203Z_abcd1234"}),
        json.dumps({"source_run_folder": "/abs/models/BTCUSDT/20210601_010203Z_abcd1234"}),
        json.dumps({"source_run_folder": "BTCUSDT/20210601_010203Z_abcd1234"}),
        json.dumps({"source_run_folder": "models/BTCUSDT/../../etc"}),
    ],
)
def test_a_corrupt_manifest_blocks_its_symbol_with_a_clear_error(tmp_path, content):
    write_manifest(tmp_path, SYM, content)
    write_manifest(
        tmp_path, "ETHUSDT", json.dumps({"source_run_folder": path(NAMES[0], "ETHUSDT")})
    )
    found = read_champions(tmp_path)
    assert f"retention of {SYM} stopped" in found.errors[SYM]
    assert found.folders == {path(NAMES[0], "ETHUSDT")} and set(found.errors) == {SYM}
    plan = plan_retention({SYM: NAMES, "ETHUSDT": NAMES}, 1, found.folders, found.errors)
    assert all(d.symbol == "ETHUSDT" for d in plan.deletions())
    blocked = [d for d in plan.folders if d.symbol == SYM]
    assert {d.reason for d in blocked} == {Reason.BLOCKED} and "production.json" in blocked[
        0
    ].detail


def test_checkpoints_of_symbol_days_with_an_active_run_are_kept(tmp_path):
    for day in ("20210601Z", "20210602Z"):
        for kind in ("real", "dry_run"):
            (tmp_path / "checkpoints" / SYM / day / kind).mkdir(parents=True)
    (tmp_path / "checkpoints" / SYM / "notes").mkdir()  # not a day folder: ignored
    days = list_checkpoint_days(tmp_path)
    assert days == [f"checkpoints/{SYM}/20210601Z", f"checkpoints/{SYM}/20210602Z"]
    decisions = checkpoints_to_sweep(days, {("2021-06-02", SYM), ("2021-06-01", "ETHUSDT")})
    assert [(d.path.rsplit("/", 1)[1], d.action) for d in decisions] == [
        ("20210601Z", Action.DELETE),
        ("20210602Z", Action.KEEP),
    ]


def test_apply_local_deletes_exactly_the_planned_folders(tmp_path):
    make_folders(tmp_path, NAMES)
    (tmp_path / "checkpoints" / SYM / "20210601Z" / "real").mkdir(parents=True)
    plan = plan_retention(list_run_folders(tmp_path), 2, {path(NAMES[0]): Reason.CHAMPION})
    plan = dataclasses.replace(
        plan, checkpoints=checkpoints_to_sweep(list_checkpoint_days(tmp_path), set())
    )
    done = apply_local(plan, tmp_path, skip={path(NAMES[1])})
    assert set(done) == {path(n) for n in NAMES[2:4]} | {f"checkpoints/{SYM}/20210601Z"}
    assert sorted(list_run_folders(tmp_path)[SYM]) == [NAMES[0], NAMES[1], *NAMES[4:]]
    assert not (tmp_path / "checkpoints" / SYM / "20210601Z").exists()


def test_a_dry_run_is_the_same_plan_and_deletes_nothing(tmp_path):
    make_folders(tmp_path, NAMES)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    plan = plan_retention(list_run_folders(tmp_path), 1)
    assert deleted(plan) == set(NAMES[:5])
    # a dry run is planning without calling an executor: the files are all still there
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert plan == plan_retention(list_run_folders(tmp_path), 1)


def test_apply_remote_deletes_only_objects_under_deleted_folders(tmp_path):
    store = LocalBackend(tmp_path / "store")
    src = tmp_path / "f.bin"
    src.write_bytes(b"x")
    for name in NAMES:
        for file in ("model.bin", "sha256.txt"):
            store.put(src, f"pre/{SYM}/{name}/{file}")
    store.put(src, f"pre/{SYM}/{NAMES[0]}x/model.bin")  # a sibling sharing the name prefix
    plan = plan_retention({SYM: NAMES}, 4)
    outcome = apply_remote(plan, store, "/pre/")
    assert outcome.deleted == {path(NAMES[0]): 2, path(NAMES[1]): 2} and not outcome.failed
    left = {p.split("/")[2] for p in store.list("pre/")}
    assert left == {*NAMES[2:], f"{NAMES[0]}x"}


class BrokenStore(LocalBackend):
    def delete(self, remote_path: str) -> None:
        raise OSError("store unavailable")


def test_a_failed_remote_delete_is_reported_per_folder(tmp_path):
    store = BrokenStore(tmp_path / "store")
    src = tmp_path / "f.bin"
    src.write_bytes(b"x")
    store.put(src, f"models/{SYM}/{NAMES[0]}/model.bin")
    outcome = apply_remote(plan_retention({SYM: NAMES}, 4), store)
    assert outcome.failed == {path(NAMES[0]): "OSError: store unavailable"}
    assert outcome.deleted == {path(NAMES[1]): 0}
