"""The pending-upload retry a CLI rerun shares with the sensor, over the fake Dropbox."""

import dagster as dg
import pytest

from resources.upload_retry import RetryPass, complete_pending_uploads, pending_of_partitions
from retrain_assets.vocabulary.keys import partition_key
from tests.adapters.storage.test_artifact_upload import (
    KEY,
    all_entries,
    downstream,
    dropbox_driver,
    materialize,
    upstream,
)

pytestmark = pytest.mark.slow
ASSETS = ("upstream", "downstream")
__all__ = ["dropbox_driver"]


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("symbols", ["BTCUSDT"])
        yield inst


def _pending_run(instance, root, fake_dropbox) -> int:
    """Materialize both assets with every upload failing; return the files left pending."""
    fake_dropbox.inject("files/upload", "500", times=1000)
    assert materialize(instance, root, [upstream, downstream], "dropbox").success
    fake_dropbox.faults.clear()
    return sum(1 for e in all_entries(instance).values() if e["pending_upload"])


def test_a_rerun_uploads_its_partitions_pending_files_once(
    instance, tmp_path, dropbox_driver, fake_dropbox
):
    pending = _pending_run(instance, tmp_path, fake_dropbox)
    assert pending == 4  # a.json, b.bin, c.json and sha256.txt
    other = str(partition_key("2025-03-02", "BTCUSDT"))
    assert pending_of_partitions(instance, ASSETS, [other]) == {}
    assert complete_pending_uploads(instance, tmp_path, ASSETS, [other]) is None

    done = complete_pending_uploads(instance, tmp_path, ASSETS, [str(KEY)])
    assert done.line() == "uploaded 4 pending files (dropbox)"
    assert done.summary() == {"uploaded": {"dropbox": 4}, "still_pending": 0}
    for entry in all_entries(instance).values():
        assert entry["uri"].removeprefix("dropbox://").lower() in fake_dropbox.store.files
    uploads = fake_dropbox.calls.count("2/files/upload")
    assert complete_pending_uploads(instance, tmp_path, ASSETS, [str(KEY)]) is None
    assert fake_dropbox.calls.count("2/files/upload") == uploads  # verified: never sent again


def test_a_store_still_down_costs_one_failed_upload_per_pass(
    instance, tmp_path, dropbox_driver, fake_dropbox
):
    _pending_run(instance, tmp_path, fake_dropbox)
    fake_dropbox.inject("files/upload", "500", times=1000)
    before = fake_dropbox.calls.count("2/files/upload")
    done = complete_pending_uploads(instance, tmp_path, ASSETS, [str(KEY)])
    assert done.summary() == {"uploaded": {}, "still_pending": 4}
    assert done.line() == (
        "uploaded 0 pending files (dropbox); 4 still pending, retried by the next run or the sensor"
    )
    assert fake_dropbox.calls.count("2/files/upload") - before == 2  # one file: a try and a retry


def test_the_line_names_every_store_touched():
    done = RetryPass()
    done.uploaded.update({"s3": 2})
    done.unavailable.add("dropbox")
    done.left = 1
    assert done.line().startswith("uploaded 2 pending files (dropbox, s3); 1 still pending")
