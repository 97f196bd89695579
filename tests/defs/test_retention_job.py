"""`retention_job` run for real against a test instance, the local filesystem and moto S3.

Real: the SQLite instance (`dg.instance_for_test()`), the job and its resources, S3 over HTTP
on 127.0.0.1, and the run folders and materialization records of a stand-in `metrics` asset
written by the real `ArtifactIOManager`: one run whose uploads were verified, and one whose
upload was refused (a local store that is a file, an S3 bucket that does not exist) and is
recorded as pending exactly as a training run records it. Crafted: older and newer run folders
(and their S3 objects) with fixed timestamps so the order is known, a run record marked
STARTED that never executed, the production manifest, and checkpoint folders.
"""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from resources.artifact_io import ArtifactIOManager, ArtifactRootResource
from resources.storage import StorageResource
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles, day_folder
from retrain_assets.core.lifecycle.retention import Reason, RetentionPlan
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.defs.retention import retention_job, retention_schedule
from retrain_assets.vocabulary.keys import partition_key
from retrain_assets.vocabulary.tags import DATE_TAG, DRIVER_TAG, SYMBOL_TAG
from tests.fakes.moto_s3 import FAKE_ENV, s3_client

SYM = "BTCUSDT"
DATE = "2025-03-01"
OLD = "20210601_000000Z_aaaaaaaa"
CHAMPION = "20210602_000000Z_bbbbbbbb"
NEWEST = "20990101_000000Z_dddddddd"
FAST = {"RETRAIN_STORAGE_MAX_RETRIES": "0", "RETRAIN_STORAGE_RETRY_BASE_DELAY": "0"}


@dg.asset(
    name="metrics", partitions_def=symbol_day_partitions, io_manager_key="artifact_io_manager"
)
def metrics() -> ArtifactFiles:
    """A stand-in `metrics` written through the real artifact IO manager."""
    return ArtifactFiles({"metrics.json": b'{"net": 1}\n'})


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("symbols", [SYM, "ETHUSDT"])
        yield inst


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("RETRAIN_LOCAL_STORE_ROOT", "RETRAIN_STORAGE_DRIVER", "RETRAIN_S3_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**FAKE_ENV, **FAST}.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def materialize(instance: dg.DagsterInstance, root: Path, driver: str) -> None:
    """One real run of `metrics` for one symbol-day, through the real artifact IO manager."""
    io = ArtifactIOManager(artifacts=ArtifactRootResource(root=str(root)))
    result = dg.materialize(
        [metrics],
        partition_key=str(partition_key(DATE, SYM)),
        instance=instance,
        resources={"artifact_io_manager": io},
        tags={DRIVER_TAG: driver},
    )
    assert result.success


def new_folder(root: Path, before: set[str], symbol: str = SYM) -> str:
    (found,) = {p.name for p in (root / "models" / symbol).iterdir()} - before
    return found


def craft(root: Path, name: str, symbol: str = SYM) -> Path:
    folder = root / "models" / symbol / name
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(name.encode())
    (folder / "sha256.txt").write_text(f"deadbeef  model.bin\n{name}\n")
    return folder


def folders(root: Path, symbol: str = SYM) -> set[str]:
    return {p.name for p in (root / "models" / symbol).iterdir()}


def seed(instance: dg.DagsterInstance, root: Path, env: pytest.MonkeyPatch, *, fail_upload, driver):
    """Crafted folders, a started run, a champion, checkpoints, one verified and one pending run.

    Returns the names of the unfinished run's folder, the verified and the pending run folders.
    """
    for name in (OLD, CHAMPION, NEWEST):
        craft(root, name)
    started = instance.create_run_for_job(
        retention_job, status=dg.DagsterRunStatus.STARTED, tags={DATE_TAG: DATE, SYMBOL_TAG: SYM}
    )
    unfinished = f"20210603_000000Z_{started.run_id[:8]}"
    craft(root, unfinished)
    manifest = root / "production" / SYM / "production.json"
    manifest.parent.mkdir(parents=True)
    champion = {"source_run_folder": f"models/{SYM}/{CHAMPION}"}  # the pointer's shape
    manifest.write_text(json.dumps({"symbol": SYM, "champion": champion}))
    for day in ("20210601Z", day_folder(DATE)):
        (root / "checkpoints" / SYM / day / "real").mkdir(parents=True)
    before = folders(root)
    materialize(instance, root, driver)
    verified = new_folder(root, before)
    with env.context() as patch:
        fail_upload(patch)
        before = folders(root)
        materialize(instance, root, driver)
        pending = new_folder(root, before)
    return unfinished, verified, pending


def run_retention(
    instance: dg.DagsterInstance, root: Path, tags: dict[str, str], **config: Any
) -> dg.ExecuteInProcessResult:
    defs = dg.Definitions(
        jobs=[retention_job],
        resources={"artifacts": ArtifactRootResource(root=str(root)), "storage": StorageResource()},
    )
    return defs.resolve_job_def("retention_job").execute_in_process(
        instance=instance,
        run_config={"ops": {"retention": {"config": config}}},
        tags=tags,
        raise_on_error=False,
    )


def op_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.step_output_data.metadata.items()}


def rows(result: dg.ExecuteInProcessResult) -> dict[str, tuple[str, str]]:
    table = op_metadata(result)["folders"].records
    return {r.data["folder"].rsplit("/", 1)[1]: (r.data["action"], r.data["reason"]) for r in table}


def test_local_retention_keeps_the_newest_and_every_protected_folder(instance, tmp_path, env):
    root = tmp_path / "art"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")  # a "store" that is a file: the upload fails and stays pending

    def fail(patch: pytest.MonkeyPatch) -> None:
        patch.setenv("RETRAIN_LOCAL_STORE_ROOT", str(blocker))

    unfinished, verified, pending = seed(instance, root, env, fail_upload=fail, driver="local")
    result = run_retention(instance, root, {DRIVER_TAG: "local"}, keep=1)

    assert result.success
    assert folders(root) == {NEWEST, CHAMPION, unfinished, pending}
    assert rows(result)[OLD] == ("delete", str(Reason.OLDER))
    assert rows(result)[verified] == ("delete", str(Reason.OLDER))
    assert rows(result)[pending] == ("keep", str(Reason.PENDING_UPLOAD))
    assert rows(result)[unfinished] == ("keep", str(Reason.UNFINISHED_RUN))
    assert rows(result)[CHAMPION] == ("keep", str(Reason.CHAMPION))
    assert sorted(p.name for p in (root / "checkpoints" / SYM).iterdir()) == [day_folder(DATE)]
    meta = op_metadata(result)
    assert meta["remote_backend"] == "none (in place)" and meta["deleted_local"] == 3
    plan = result.output_for_node("retention")
    assert isinstance(plan, RetentionPlan) and plan.keep == 1


def test_a_dry_run_reports_the_same_plan_and_deletes_nothing(instance, tmp_path, env):
    root = tmp_path / "art"
    _, verified, _ = seed(instance, root, env, fail_upload=lambda p: None, driver="local")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    dry = run_retention(instance, root, {}, keep=1, dry_run=True)
    assert dry.success
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert rows(dry)[verified] == ("would delete", str(Reason.OLDER))
    assert op_metadata(dry)["deleted_local"] == 0 and op_metadata(dry)["planned_deletions"] > 0
    real = run_retention(instance, root, {}, keep=1)
    assert real.output_for_node("retention") == dry.output_for_node("retention")
    assert verified not in folders(root)


def test_s3_retention_deletes_remote_objects_of_deleted_folders_only(
    instance, tmp_path, env, moto_endpoint
):
    s3 = s3_client(moto_endpoint)
    bucket = f"retention-{tmp_path.name.lower()[-20:].strip('_')}"
    s3.create_bucket(Bucket=bucket)
    env.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    env.setenv("RETRAIN_S3_BUCKET", bucket)
    root = tmp_path / "art"
    for name in (OLD, CHAMPION, NEWEST):  # crafted folders have their remote copies too
        s3.put_object(Bucket=bucket, Key=f"models/{SYM}/{name}/model.bin", Body=b"x")
    s3.put_object(Bucket=bucket, Key=f"production/{SYM}/production.json", Body=b"{}")

    def fail(patch: pytest.MonkeyPatch) -> None:
        patch.setenv("RETRAIN_S3_BUCKET", "no-such-bucket-here")

    unfinished, verified, pending = seed(instance, root, env, fail_upload=fail, driver="s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"models/{SYM}/{verified}/metrics.json" in keys  # uploaded by the real IO manager
    assert not any(pending in k for k in keys)  # its upload is pending

    result = run_retention(instance, root, {DRIVER_TAG: "s3"}, keep=1)

    assert result.success
    assert folders(root) == {NEWEST, CHAMPION, unfinished, pending}
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert left == {
        f"models/{SYM}/{CHAMPION}/model.bin",
        f"models/{SYM}/{NEWEST}/model.bin",
        f"production/{SYM}/production.json",
    }
    meta = op_metadata(result)
    assert meta["remote_backend"] == "s3"
    assert meta["deleted_remote_objects"] == 1 + len([k for k in keys if verified in k])


def test_a_corrupt_manifest_stops_that_symbol_and_fails_the_run_clearly(instance, tmp_path, env):
    root = tmp_path / "art"
    for name in (OLD, CHAMPION, NEWEST):
        craft(root, name)
        craft(root, name, "ETHUSDT")
    manifest = root / "production" / SYM / "production.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"source_run_folder": "models/BTCUSDT/')  # truncated write
    result = run_retention(instance, root, {}, keep=1)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    text = failure.step_failure_data.error.to_string()
    assert "production.json" in text and f"retention of {SYM} stopped" in text
    assert folders(root) == {OLD, CHAMPION, NEWEST}  # nothing of the blocked symbol deleted
    assert folders(root, "ETHUSDT") == {NEWEST}  # the other symbol was still cleaned


def test_keep_below_one_is_refused_before_anything_is_deleted(instance, tmp_path, env):
    root = tmp_path / "art"
    for name in (OLD, NEWEST):
        craft(root, name)
    result = run_retention(instance, root, {}, keep=0)
    assert not result.success
    text = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "keep must be an integer >= 1" in text
    assert folders(root) == {OLD, NEWEST}


def test_the_schedule_targets_the_job_daily_in_utc_and_starts_stopped():
    assert retention_schedule.job_name == "retention_job"
    assert retention_schedule.execution_timezone == "UTC"
    assert retention_schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def leave_temp_file(folder: Path, name: str, age_hours: float) -> Path:
    """A temp file as a writer killed before its rename leaves it, last touched `age_hours` ago."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.tmp-0123456789abcdef"
    path.write_bytes(b"half written")
    stamp = time.time() - age_hours * 3600
    os.utime(path, (stamp, stamp))
    return path


def test_stale_temp_files_of_killed_writers_go_and_a_live_writers_stays(instance, tmp_path, env):
    root, store = tmp_path / "art", tmp_path / "store"
    env.setenv("RETRAIN_LOCAL_STORE_ROOT", str(store))
    kept = craft(root, NEWEST)
    stale = [
        leave_temp_file(kept, "model.bin", 30),
        leave_temp_file(root / "production" / SYM, "production.json", 25),
        leave_temp_file(store / "models" / SYM / NEWEST, "model.bin", 48),
    ]
    live = leave_temp_file(kept, "metrics.json", 1)
    dry = run_retention(instance, root, {DRIVER_TAG: "local"}, keep=1, dry_run=True)
    assert dry.success and op_metadata(dry)["stale_temp_files"] == 3
    assert all(p.exists() for p in (*stale, live))
    real = run_retention(instance, root, {DRIVER_TAG: "local"}, keep=1)
    assert real.success and op_metadata(real)["stale_temp_files"] == 3
    assert [p.exists() for p in (*stale, live)] == [False, False, False, True]
    assert (kept / "model.bin").exists() and folders(root) == {NEWEST}


def test_a_stale_temp_age_of_zero_is_refused_before_anything_is_deleted(instance, tmp_path, env):
    root = tmp_path / "art"
    for name in (OLD, NEWEST):
        craft(root, name)
    stale = leave_temp_file(root / "models" / SYM / OLD, "model.bin", 48)
    result = run_retention(instance, root, {}, keep=1, stale_temp_hours=0)
    assert not result.success
    text = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "stale_temp_hours must be > 0" in text
    assert folders(root) == {OLD, NEWEST} and stale.exists()
