"""The artifact IO manager: atomic files, sha256 metadata, verified inputs."""

from pathlib import Path

import dagster as dg
import pytest

from resources.artifact_io import ArtifactIOManager, ArtifactRootResource
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.vocabulary.keys import partition_key

KEY = partition_key("2025-03-01", "BTCUSDT")


@dg.asset(partitions_def=symbol_day_partitions, io_manager_key="artifact_io_manager")
def upstream() -> ArtifactFiles:
    return ArtifactFiles({"a.json": b'{"x": 1}\n', "b.bin": b"\x00\x01"})


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key="artifact_io_manager",
    metadata={"seals_run_folder": True},
)
def downstream(upstream: ArtifactFiles) -> ArtifactFiles:
    return ArtifactFiles({"c.json": upstream.files["a.json"]})


def _materialize(instance, tmp_path: Path, selection):
    io = ArtifactIOManager(artifacts=ArtifactRootResource(root=str(tmp_path / "art")))
    return dg.materialize(
        [upstream, downstream],
        selection=selection,
        partition_key=str(KEY),
        instance=instance,
        resources={"artifact_io_manager": io},
        raise_on_error=False,
    )


def _files_metadata(instance, name: str) -> dict:
    mat = instance.get_latest_materialization_event(dg.AssetKey(name)).asset_materialization
    return mat.metadata["files"].value


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("symbols", ["BTCUSDT"])
        yield inst


def test_outputs_are_written_with_sha256_size_and_path_metadata(instance, tmp_path):
    assert _materialize(instance, tmp_path, [upstream, downstream]).success
    files = _files_metadata(instance, "upstream")
    a = files["a.json"]
    assert Path(a["path"]).read_bytes() == b'{"x": 1}\n'
    assert a["size"] == 9 and len(a["sha256"]) == 64
    folder = Path(a["path"]).parent
    assert folder.parent.name == "BTCUSDT"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left


def test_the_sealing_asset_writes_sha256_txt_covering_every_file(instance, tmp_path):
    import subprocess

    assert _materialize(instance, tmp_path, [upstream, downstream]).success
    folder = Path(_files_metadata(instance, "downstream")["c.json"]["path"]).parent
    listed = (folder / "sha256.txt").read_text().split()
    assert {"a.json", "b.bin", "c.json"} <= set(listed)
    check = subprocess.run(["sha256sum", "-c", "sha256.txt"], cwd=folder, capture_output=True)
    assert check.returncode == 0, check.stdout


def test_a_later_run_reuses_verified_partials_and_copies_them_into_its_folder(instance, tmp_path):
    assert _materialize(instance, tmp_path, [upstream]).success
    assert _materialize(instance, tmp_path, [downstream]).success
    up = Path(_files_metadata(instance, "upstream")["a.json"]["path"]).parent
    down = Path(_files_metadata(instance, "downstream")["c.json"]["path"]).parent
    assert up != down
    assert (down / "a.json").read_bytes() == (up / "a.json").read_bytes()


def test_a_corrupted_partial_is_refused_with_a_clear_error(instance, tmp_path):
    assert _materialize(instance, tmp_path, [upstream]).success
    path = Path(_files_metadata(instance, "upstream")["a.json"]["path"])
    path.write_bytes(b'{"x": 2}\n')
    result = _materialize(instance, tmp_path, [downstream])
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    text = str(failure.to_string())
    assert "sha256 mismatch" in text and "a.json" in text
