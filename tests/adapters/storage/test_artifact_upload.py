"""The artifact IO manager over real stores: moto S3 and the fake Dropbox on 127.0.0.1."""

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import pytest

from resources.artifact_io import ArtifactIOManager, ArtifactRootResource
from resources.storage import StorageResource
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.vocabulary.figures import whole
from retrain_assets.vocabulary.keys import partition_key
from retrain_assets.vocabulary.tags import DRIVER_TAG, DRY_RUN_TAG
from sensors.pending_uploads import build_pending_uploads_sensor
from tests.adapters.storage.drivers import dropbox_env, s3_env
from tests.fakes.fake_dropbox import content_hash

pytestmark = pytest.mark.slow
KEY = partition_key("2025-03-01", "BTCUSDT")
pending_uploads_sensor = build_pending_uploads_sensor(("upstream", "downstream"))
UPSTREAM = {"a.json": b'{"x": 1}\n', "b.bin": bytes(range(256)) * 64}


@dg.asset(partitions_def=symbol_day_partitions, io_manager_key="artifact_io_manager")
def upstream() -> ArtifactFiles:
    return ArtifactFiles(UPSTREAM)


@dg.asset(
    partitions_def=symbol_day_partitions,
    io_manager_key="artifact_io_manager",
    metadata={"seals_run_folder": True},
)
def downstream(upstream: ArtifactFiles) -> ArtifactFiles:
    return ArtifactFiles({"c.json": upstream.files["a.json"] + upstream.files["b.bin"][:4]})


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("symbols", ["BTCUSDT"])
        yield inst


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "art"


@pytest.fixture
def s3_driver(moto_endpoint, s3, bucket, monkeypatch):
    for name, value in s3_env(moto_endpoint, bucket).items():
        monkeypatch.setenv(name, value)
    return "s3"


@pytest.fixture
def dropbox_driver(fake_dropbox, monkeypatch):
    for name, value in dropbox_env(fake_dropbox).items():
        monkeypatch.setenv(name, value)
    return "dropbox"


def materialize(instance, root: Path, selection, driver: str) -> dg.ExecuteInProcessResult:
    io = ArtifactIOManager(artifacts=ArtifactRootResource(root=str(root)))
    return dg.materialize(
        [upstream, downstream],
        selection=selection,
        partition_key=str(KEY),
        instance=instance,
        resources={"artifact_io_manager": io},
        tags={DRIVER_TAG: driver},
        raise_on_error=False,
    )


def latest_metadata(instance, name: str) -> dict:
    mat = instance.get_latest_materialization_event(dg.AssetKey(name)).asset_materialization
    return {k: v.value for k, v in mat.metadata.items()}


def all_entries(instance) -> dict:
    up, down = latest_metadata(instance, "upstream"), latest_metadata(instance, "downstream")
    return {**up["files"], **down["files"], **down.get("extra_files", {})}


def tick(instance, root: Path, cursor: str | None = None) -> tuple[str, str | None]:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"storage": StorageResource(), "artifacts": ArtifactRootResource(root=str(root))},
    )
    result = pending_uploads_sensor(context)
    return result.skip_message, context.cursor


def remote_digest(driver: str, entry: dict, fake_dropbox=None, s3=None, bucket=None) -> str:
    """The stored object's checksum, read with the raw client (not the code under test)."""
    if driver == "s3":
        key = entry["uri"].removeprefix(f"s3://{bucket}/")
        return hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
    path = entry["uri"].removeprefix("dropbox://").lower()
    return hashlib.sha256(fake_dropbox.store.files[path].data).hexdigest()


@pytest.mark.parametrize("driver", ["s3", "dropbox"])
def test_every_file_is_uploaded_and_verified_with_metadata(
    request, instance, root, driver, fake_dropbox, s3, bucket
):
    request.getfixturevalue(f"{driver}_driver")
    assert materialize(instance, root, [upstream, downstream], driver).success
    entries = all_entries(instance)
    assert set(entries) == {"a.json", "b.bin", "c.json", "sha256.txt"}
    for name, entry in entries.items():
        assert entry["verified"] is True and entry["pending_upload"] is False
        assert entry["backend"] == driver and entry["uri"].endswith(
            f"/BTCUSDT/{Path(entry['path']).parent.name}/{name}"
        )
        assert remote_digest(driver, entry, fake_dropbox, s3, bucket) == entry["sha256"]
    down = latest_metadata(instance, "downstream")
    assert down["backend"] == driver and whole(down["pending_uploads"]) == 0 and down["verified"]
    assert "sha256 c.json" in down and down["dry_run"] is False


def test_a_dry_run_uploads_nothing_whatever_its_driver(
    instance, root, dropbox_driver, fake_dropbox
):
    io = ArtifactIOManager(artifacts=ArtifactRootResource(root=str(root)))
    result = dg.materialize(
        [upstream],
        partition_key=str(KEY),
        instance=instance,
        resources={"artifact_io_manager": io},
        tags={DRIVER_TAG: "dropbox", DRY_RUN_TAG: "true"},
    )
    assert result.success
    assert not fake_dropbox.store.files
    mat = instance.get_latest_materialization_event(dg.AssetKey("upstream"))
    assert mat.asset_materialization.metadata["backend"].value == "none (dry run)"
    assert mat.asset_materialization.metadata["dry_run"].value is True


def test_uploads_failing_past_the_retries_stay_pending_until_the_sensor_verifies_them(
    instance, root, dropbox_driver, fake_dropbox
):
    fake_dropbox.inject("files/upload", "500", times=1000)
    assert materialize(instance, root, [upstream, downstream], "dropbox").success
    entries = all_entries(instance)
    assert all(e["pending_upload"] and not e["verified"] for e in entries.values())
    assert all(Path(e["path"]).exists() for e in entries.values())  # nothing lost
    assert whole(latest_metadata(instance, "downstream")["pending_uploads"]) == 2
    assert not [p for p in fake_dropbox.store.files if ".partial-" not in p]

    message, cursor = tick(instance, root)
    assert "0 materialization(s) fully verified, 2 still pending" in message
    fake_dropbox.faults.clear()
    message, cursor = tick(instance, root, cursor)
    assert "2 materialization(s) fully verified, 0 still pending" in message
    for entry in entries.values():
        stored = fake_dropbox.store.files[entry["uri"].removeprefix("dropbox://").lower()]
        assert hashlib.sha256(stored.data).hexdigest() == entry["sha256"]
    assert not [p for p in fake_dropbox.store.files if ".partial-" in p]
    assert "0 materialization(s) fully verified, 0 still pending" in tick(instance, root, cursor)[0]

    # the late verification is enough for a downstream step on a machine without the files
    shutil.rmtree(Path(entries["a.json"]["path"]).parent)
    assert materialize(instance, root, [downstream], "dropbox").success


@pytest.mark.parametrize(
    ("route", "fault"), [("files/upload", "corrupt"), ("files/move_v2", "500")]
)
def test_a_corrupted_or_failed_upload_is_pending_and_nothing_corrupt_is_left(
    instance, root, dropbox_driver, fake_dropbox, route, fault
):
    fake_dropbox.inject(route, fault, times=1 if fault == "corrupt" else 2)
    assert materialize(instance, root, [upstream], "dropbox").success
    files = latest_metadata(instance, "upstream")["files"]
    assert [e["pending_upload"] for e in files.values()] == [True, False]
    for path, stored in fake_dropbox.store.files.items():  # nothing partial or corrupt left
        assert ".partial-" not in path and stored.data in UPSTREAM.values()
    assert "1 materialization(s) fully verified" in tick(instance, root)[0]
    a = files["a.json"]
    assert (
        fake_dropbox.store.files[a["uri"].removeprefix("dropbox://").lower()].data
        == UPSTREAM["a.json"]
    )


def test_a_lost_upload_response_still_ends_verified(instance, root, dropbox_driver, fake_dropbox):
    fake_dropbox.inject("files/upload", "commit_lose")
    fake_dropbox.inject("files/get_metadata", "429", retry_after=0)
    assert materialize(instance, root, [upstream], "dropbox").success
    files = latest_metadata(instance, "upstream")["files"]
    assert all(e["verified"] for e in files.values())
    assert (
        content_hash(UPSTREAM["b.bin"])
        == fake_dropbox.store.files[
            files["b.bin"]["uri"].removeprefix("dropbox://").lower()
        ].metadata()["content_hash"]
    )


def test_a_downstream_step_loads_its_input_from_s3_after_the_local_folder_was_deleted(
    instance, root, s3_driver
):
    assert materialize(instance, root, [upstream], "s3").success
    up_folder = Path(latest_metadata(instance, "upstream")["files"]["a.json"]["path"]).parent
    shutil.rmtree(up_folder)
    result = materialize(instance, root, [downstream], "s3")
    assert result.success
    down = latest_metadata(instance, "downstream")
    folder = Path(down["files"]["c.json"]["path"]).parent
    assert (folder / "b.bin").read_bytes() == UPSTREAM["b.bin"]
    assert set(down["extra_files"]) == {
        "a.json",
        "b.bin",
        "sha256.txt",
    }  # copied-in files go up too


@pytest.mark.parametrize("keep_checksum", [True, False])
def test_a_remote_copy_that_does_not_match_is_a_clear_error(
    instance, root, s3_driver, s3, bucket, keep_checksum
):
    assert materialize(instance, root, [upstream], "s3").success
    a = latest_metadata(instance, "upstream")["files"]["a.json"]
    key = a["uri"].removeprefix(f"s3://{bucket}/")
    bad = b'{"x": 666}\n'
    sha = a["sha256"] if keep_checksum else hashlib.sha256(bad).hexdigest()
    s3.put_object(Bucket=bucket, Key=key, Body=bad, Metadata={"sha256": sha})
    shutil.rmtree(Path(a["path"]).parent)
    result = materialize(instance, root, [downstream], "s3")
    assert not result.success
    text = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "a.json" in text and a["uri"] in text and "IntegrityError" in text
