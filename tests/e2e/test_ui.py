"""The Dagster UI shows what a backfill materialized: `dagster dev`, a two-symbol backfill
through GraphQL, then headless Chromium renders the asset's partitions page."""

import os
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.e2e.conftest import DATE, REPO
from tests.e2e.dagster_dev import dagster_dev, launch_asset_backfill
from tests.e2e.ui_pages import CHROMIUM, CHROMIUM_FLAGS, visible_text

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR") or REPO / "test-artifacts")
PAGE_FLAGS = ["--virtual-time-budget=20000", "--window-size=1400,1000"]


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, *PAGE_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for_materializations(instance: dg.DagsterInstance, count: int) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = instance.get_materialized_partitions(dg.AssetKey("metrics"))
        if len(done) >= count:
            return
        time.sleep(1)
    raise AssertionError("the backfill did not materialize metrics in time")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_the_asset_page_shows_the_partitions_a_backfill_materialized(dagster_home, tmp_path):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT"])
    with dagster_dev(tmp_path / "dagster_dev.log") as base:
        launch_asset_backfill(
            base,
            [f"{DATE}|BTCUSDT", f"{DATE}|ETHUSDT"],
            ["costs", "features", "model", "walk_forward", "metrics", "champion"],
        )
        with dg.DagsterInstance.get() as instance:
            _wait_for_materializations(instance, 2)
        url = f"{base}/assets/metrics?view=partitions"
        dom = _chromium(url, tmp_path / "profile", "--dump-dom")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "ui_metrics_partitions.png"
        _chromium(url, tmp_path / "profile2", f"--screenshot={shot}")
    text = visible_text(dom.stdout)
    assert "Materialized (2)" in text, text[:2000]
    assert "BTCUSDT" in text and "ETHUSDT" in text
    assert shot.exists() and shot.stat().st_size > 10_000
