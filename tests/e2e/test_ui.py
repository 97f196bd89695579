"""The Dagster UI shows what backfills and a CLI run did, readably: one `dagster dev`, a CLI run,
a backfill launched as the job page launches it and one as the Catalog does (both through
GraphQL, with the parameters the UI sends), then headless Chromium renders the asset's
partitions page and the Runs page."""

import os
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.defs.partitions import RETRAIN_JOB
from retrain_assets.vocabulary.keys import is_symbol_day_key, symbol_day_key
from retrain_assets.vocabulary.tags import HIDDEN_TAG_PREFIX, INVOCATION_TAG, SOURCE_TAG
from tests.e2e.conftest import DATE, REPO, run_cli
from tests.e2e.dagster_dev import dagster_dev, launch_asset_backfill, launch_job_backfill
from tests.e2e.ui_pages import CHROMIUM, CHROMIUM_FLAGS, render, run_row_tags, visible_text

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR") or REPO / "test-artifacts")
PAGE_FLAGS = ["--virtual-time-budget=20000", "--window-size=1400,1000"]
ASSETS = ["costs", "features", "model", "walk_forward", "metrics", "champion"]
# The most tags a person reads on a run's row of the Runs page.
MAX_ROW_TAGS = 5


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
    raise AssertionError("the backfills did not materialize metrics in time")


def _runs_by_symbol(instance: dg.DagsterInstance) -> dict[str, dg.DagsterRun]:
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition/date": DATE}))
    return {r.tags["dagster/partition/symbol"]: r for r in runs}


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
@pytest.mark.slow(seconds=90)
def test_backfills_and_a_cli_run_show_what_they_did_with_few_tags(dagster_home, tmp_path):
    cli = run_cli("--symbols", "SOLUSDT", "--date", DATE)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT"])
    with dagster_dev(tmp_path / "dagster_dev.log") as base:
        launch_job_backfill(base, RETRAIN_JOB, [f"{DATE}|BTCUSDT"], ASSETS)
        launch_asset_backfill(base, [f"{DATE}|ETHUSDT"], ASSETS)
        with dg.DagsterInstance.get() as instance:
            _wait_for_materializations(instance, 3)
            runs = _runs_by_symbol(instance)
        url = f"{base}/assets/metrics?view=partitions"
        dom = _chromium(url, tmp_path / "profile", "--dump-dom")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "ui_metrics_partitions.png"
        _chromium(url, tmp_path / "profile2", f"--screenshot={shot}")
        runs_page = render(
            f"{base}/runs?view=runs",  # "Show runs within backfills"
            tmp_path / "profile3",
            ARTIFACTS / "ui_runs.png",
            window=(1600, 1000),
        )
    text = visible_text(dom.stdout)
    assert "Materialized (3)" in text, text[:2000]
    assert "BTCUSDT" in text and "ETHUSDT" in text and "SOLUSDT" in text
    assert shot.exists() and shot.stat().st_size > 10_000

    # The CLI and a backfill launched from the job's page run one job; the Catalog's does not.
    assert (runs["SOLUSDT"].job_name, runs["BTCUSDT"].job_name) == (RETRAIN_JOB, RETRAIN_JOB)
    assert runs["ETHUSDT"].job_name == "__ASSET_JOB"

    # The CLI run's tags the UI shows at all ("View all tags"); its bookkeeping is hidden.
    shown = {k for k in runs["SOLUSDT"].tags if not k.startswith(HIDDEN_TAG_PREFIX)}
    assert shown == {
        "dagster/partition",
        "dagster/partition/date",
        "dagster/partition/symbol",
        INVOCATION_TAG,
        SOURCE_TAG,
    }
    rows = run_row_tags(runs_page)
    cli_row = [t.partition(": ")[0] for t in rows[runs["SOLUSDT"].run_id]]
    assert cli_row == ["partition", INVOCATION_TAG, SOURCE_TAG], rows
    assert all(len(tags) <= MAX_ROW_TAGS for tags in rows.values()), rows
    # The three symbol-days, and the date's summary runs: the CLI's, and the summary sensor's
    # once the backfills end (on a loaded machine that can be before the page is read).
    partitions = {run_id: _partition_of(tags) for run_id, tags in rows.items()}
    assert sorted(p for p in partitions.values() if is_symbol_day_key(p)) == sorted(
        symbol_day_key(DATE, s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    ), rows
    assert {p for p in partitions.values() if not is_symbol_day_key(p)} == {DATE}, rows


def _partition_of(row_tags: list[str]) -> str:
    """The `partition: KEY` tag of a run's row on the Runs page."""
    return next(t.partition(": ")[2] for t in row_tags if t.startswith("partition: "))
