"""Artifact storage end to end: the real CLI uploading to moto S3 and the fake Dropbox."""

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from resources.artifact_io import ArtifactRootResource
from resources.storage import StorageResource
from sensors.pending_uploads import pending_uploads_sensor
from tests.adapters.storage.drivers import dropbox_env, s3_env
from tests.e2e.conftest import DATE, REPO, run_cli, status_of
from tests.fakes.dropbox_fixtures import fake_dropbox
from tests.fakes.moto_s3 import s3_client, start_moto

# The module's moto server serves its tests on one of `make test`'s workers.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("storage_e2e")]
__all__ = ["fake_dropbox"]

Reader = Callable[[str], bytes]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server, url = start_moto()
    try:
        yield url
    finally:
        server.stop()


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def manifests(artifacts: Path) -> dict[str, dict[str, str]]:
    """`models/{SYMBOL}/{run folder}` -> {file name: sha256} from each local sha256.txt."""
    found = {}
    for manifest in (artifacts / "models").glob("*/*/sha256.txt"):
        lines = [line.split("  ", 1) for line in manifest.read_text().splitlines()]
        found[str(manifest.parent.relative_to(artifacts))] = {n: h for h, n in lines}
    return found


def assert_remote_matches_manifests(artifacts: Path, expected: dict, read: Reader) -> None:
    """Every remote object's sha256 equals its line in sha256.txt; sha256.txt itself is there."""
    assert expected
    for folder, lines in expected.items():
        for name, digest in lines.items():
            assert hashlib.sha256(read(f"{folder}/{name}")).hexdigest() == digest, name
        local_manifest = (artifacts / folder / "sha256.txt").read_bytes()
        assert read(f"{folder}/sha256.txt") == local_manifest


def test_cli_with_the_s3_driver_uploads_every_artifact_verified(artifacts, moto_url, monkeypatch):
    use_env(monkeypatch, s3_env(moto_url, "e2e-models"))
    client = s3_client(moto_url)
    client.create_bucket(Bucket="e2e-models")
    result = run_cli("--symbols", "BTCUSDT,ETHUSDT", "--date", DATE, "--driver", "s3")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert {e["status"] for e in status_of(artifacts).values()} == {"success"}
    expected = manifests(artifacts)
    assert len(expected) == 2

    def read(key: str) -> bytes:
        return client.get_object(Bucket="e2e-models", Key=key)["Body"].read()

    assert_remote_matches_manifests(artifacts, expected, read)
    listed = {o["Key"] for o in client.list_objects_v2(Bucket="e2e-models")["Contents"]}
    wanted = {f"{f}/{n}" for f, lines in expected.items() for n in [*lines, "sha256.txt"]}
    # Each champion's decision and live day (flat: no champion yet) of the date, under
    # production/ as on disk (no model passed the gate on day one, so there is no pointer yet).
    decisions = {
        f"production/{s}/{kind}/{DATE}.json"
        for s in ("BTCUSDT", "ETHUSDT")
        for kind in ("decisions", "live")
    }
    assert listed == wanted | decisions  # nothing more, nothing less
    for key in decisions:
        assert read(key) == (artifacts / key).read_bytes()


def dropbox_reader(server) -> Reader:
    def read(path: str) -> bytes:
        return server.store.files[f"/retrain-assets/{path}".lower()].data

    return read


def test_cli_with_the_dropbox_driver_uploads_every_artifact_verified(
    artifacts, fake_dropbox, monkeypatch
):
    use_env(monkeypatch, dropbox_env(fake_dropbox))
    fake_dropbox.inject("files/upload", "500")  # each within the retry budget (one retry)
    fake_dropbox.inject("files/get_metadata", "429", retry_after=0)
    fake_dropbox.inject("files/move_v2", "drop")
    result = run_cli("--symbols", "BTCUSDT", "--date", DATE, "--driver", "dropbox")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    expected = manifests(artifacts)
    assert_remote_matches_manifests(artifacts, expected, dropbox_reader(fake_dropbox))
    assert not [p for p in fake_dropbox.store.files if ".partial-" in p]
    assert "oauth2/token" in fake_dropbox.calls  # the refresh-token flow was used


def tick(instance: dg.DagsterInstance, artifacts: Path, cursor: str | None) -> tuple[str, str]:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "storage": StorageResource(),
            "artifacts": ArtifactRootResource(root=str(artifacts)),
        },
    )
    return pending_uploads_sensor(context).skip_message, context.cursor


def test_dropbox_failing_past_the_retries_keeps_artifacts_pending_until_the_sensor_uploads(
    artifacts, fake_dropbox, monkeypatch
):
    use_env(monkeypatch, dropbox_env(fake_dropbox))
    fake_dropbox.inject("files/upload", "500", times=10_000)
    result = run_cli("--symbols", "BTCUSDT", "--date", DATE, "--driver", "dropbox")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert status_of(artifacts)["BTCUSDT"]["status"] == "success"
    assert not fake_dropbox.store.files  # nothing partial left behind either
    engine_log = (artifacts / "logs" / "20250501Z" / "engine.log").read_text().splitlines()
    failed = [json.loads(line) for line in engine_log if '"upload_failed"' in line]
    assert failed and all(e["pending_upload"] for e in failed)
    expected = manifests(artifacts)

    fake_dropbox.faults.clear()
    with dg.DagsterInstance.get() as instance:
        message, cursor = tick(instance, artifacts, None)
        # The five artifact assets' and the champion's decision file.
        assert "6 materialization(s) fully verified, 0 still pending" in message
        assert_remote_matches_manifests(artifacts, expected, dropbox_reader(fake_dropbox))
        assert "0 still pending" in tick(instance, artifacts, cursor)[0]

    # the local folder is gone: re-running metrics downloads its inputs and checks them
    shutil.rmtree(artifacts / "models")
    monkeypatch.setenv("RETRAIN_STORAGE_DRIVER", "dropbox")
    rerun = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            *("asset", "materialize", "-m", "retrain_assets.definitions"),
            *("--select", "metrics", "--partition", f"{DATE}|BTCUSDT"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "downloaded and verified from dropbox://" in rerun.stderr
    again = manifests(artifacts)
    assert len(again) == 1 and set(next(iter(again.values()))) == set(next(iter(expected.values())))


@pytest.mark.parametrize("case", ["dropbox-wrong-token", "dropbox-no-credentials", "s3-no-bucket"])
def test_a_store_that_cannot_be_used_stops_the_cli_before_any_training(
    artifacts, fake_dropbox, moto_url, monkeypatch, case
):
    secret = "sekrit-refresh-token-9f8e7d"
    if case.startswith("s3"):
        use_env(monkeypatch, s3_env(moto_url, "missing-bucket"))
        driver = "s3"
    else:
        env = dropbox_env(fake_dropbox)
        env["DROPBOX_REFRESH_TOKEN"] = secret if case == "dropbox-wrong-token" else ""
        use_env(monkeypatch, env)
        driver = "dropbox"
    result = run_cli("--symbols", "BTCUSDT", "--date", DATE, "--driver", driver)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "retrain: error: --driver" in result.stderr and "Traceback" not in output
    for leaked in (secret, fake_dropbox.accounts.app_secret, "testing"):
        assert leaked not in output
    assert not (artifacts / "models").exists()
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs() == []
