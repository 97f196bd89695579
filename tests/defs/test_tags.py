"""Run tags round-trip through Dagster's string tags; a person sees few of them; runs recorded
before the bookkeeping was hidden read the same."""

import warnings
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.adapters.locks import FileLock
from retrain_assets.defs.liveness import release_dead_runs
from retrain_assets.defs.partitions import RETRAIN_JOB
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.vocabulary.tags import (
    BACKFILL_TAG,
    DRY_RUN_TAG,
    HIDDEN_TAG_PREFIX,
    INVOCATION_TAG,
    LOCK_TAG,
    PARTITION_TAG,
    SOURCE_TAG,
    SUBMISSION_TAG,
    SUMMARY_OF_TAG,
    WORKER_PID_TAG,
    RunTags,
    tag_value,
)

FULL = RunTags(
    invocation="abc",
    source="cli",
    mode="parallel",
    dry_run=True,
    driver="s3",
    timeout_minutes=12.5,
    max_concurrent=3,
    total_symbols=20,
    skipped=4,
    lock="/x/y.lock",
)
# The tags of a CLI run recorded before the bookkeeping was hidden (read from a real run).
OLD_CLI_RUN = {
    "dagster/partition": "2025-05-01|BTCUSDT",
    "dagster/partition/date": "2025-05-01",
    "dagster/partition/symbol": "BTCUSDT",
    "retrain/driver": "local",
    "retrain/dry_run": "false",
    "retrain/invocation": "ea1ae62e0a07",
    "retrain/lock": "/home/retrain-locks/invocation-ea1ae62e0a07.lock",
    "retrain/max_concurrent": "1",
    "retrain/mode": "hybrid",
    "retrain/skipped": "0",
    "retrain/source": "cli",
    "retrain/timeout_minutes": "45.0",
    "retrain/total_symbols": "1",
    "retrain/worker_pid": "15353",
}


def shown(tags: dict[str, str]) -> set[str]:
    """The keys the UI shows at all (a run's "View all tags"): GraphQL leaves out the hidden."""
    return {k for k in tags if not k.startswith(HIDDEN_TAG_PREFIX)}


def on_the_runs_page(tags: dict[str, str]) -> set[str]:
    """The keys a run's row on the Runs page shows: the UI (RunTags in dagster-ui's RunTable)
    leaves Dagster's `dagster/...` tags under "View all tags", except the partition and the
    backfill."""
    system = {k for k in shown(tags) if k.startswith("dagster/")}
    return shown(tags) - system | ({PARTITION_TAG, BACKFILL_TAG} & system)


def cli_run_tags(tags: RunTags) -> dict[str, str]:
    """A CLI worker's run tags, as `launcher.local.execute_symbol_day` puts them."""
    spec = RunSpec("2025-05-01", "BTCUSDT", RETRAIN_JOB, (("model",),), tags.to_tags())
    return {**spec.run_tags(), WORKER_PID_TAG: "4242"}


def test_run_tags_round_trip():
    assert RunTags.from_tags(FULL.to_tags()) == FULL
    assert all(isinstance(v, str) for v in FULL.to_tags().values())


def test_a_run_no_invocation_launched_has_no_record():
    assert RunTags.from_tags({"dagster/partition": "2025-05-01|BTCUSDT"}) is None


def test_a_cli_run_shows_five_tags_and_its_row_the_partition_invocation_and_source():
    record = RunTags("abc", "cli", max_concurrent=2, total_symbols=5, lock="/l")
    tags = cli_run_tags(record)
    assert shown(tags) == {
        "dagster/partition",
        "dagster/partition/date",
        "dagster/partition/symbol",
        INVOCATION_TAG,
        SOURCE_TAG,
    }
    assert on_the_runs_page(tags) == {PARTITION_TAG, INVOCATION_TAG, SOURCE_TAG}
    assert RunTags.from_tags(tags) == record  # the bookkeeping is still on the run, hidden


def test_a_dry_run_says_so_on_its_row():
    assert on_the_runs_page(cli_run_tags(FULL)) == {
        PARTITION_TAG,
        INVOCATION_TAG,
        SOURCE_TAG,
        DRY_RUN_TAG,
    }


def test_hidden_keys_are_tag_keys_dagster_accepts():
    tags = {**FULL.to_tags(), WORKER_PID_TAG: "1", SUBMISSION_TAG: "t", SUMMARY_OF_TAG: "abc"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # Dagster's "non-compliant tag keys"
        dg.RunRequest(partition_key="2025-05-01|BTCUSDT", tags=tags)


def test_a_run_recorded_before_the_bookkeeping_was_hidden_reads_the_same():
    assert RunTags.from_tags(OLD_CLI_RUN) == RunTags(
        invocation="ea1ae62e0a07",
        source="cli",
        mode="hybrid",
        dry_run=False,
        driver="local",
        timeout_minutes=45.0,
        max_concurrent=1,
        total_symbols=1,
        skipped=0,
        lock="/home/retrain-locks/invocation-ea1ae62e0a07.lock",
    )
    assert tag_value(OLD_CLI_RUN, WORKER_PID_TAG) == "15353"


def test_the_new_key_wins_over_the_old_one():
    assert tag_value({LOCK_TAG: "/new", "retrain/lock": "/old"}, LOCK_TAG) == "/new"
    assert tag_value({}, LOCK_TAG) is None


@pytest.mark.parametrize("key", [LOCK_TAG, "retrain/lock"])
def test_a_dead_launchers_runs_are_released_under_either_lock_key(key: str, tmp_path: Path):
    dead, alive = tmp_path / "dead.lock", FileLock(tmp_path / "alive.lock")
    dead.touch()  # a launcher that died leaves its lock file free
    alive.acquire()
    job = dg.GraphDefinition(name="idle", node_defs=[]).to_job()
    with dg.instance_for_test() as instance:
        gone, live = (
            instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED, tags={key: lock})
            for lock in (str(dead), str(alive.path))
        )
        assert release_dead_runs(instance) == [gone.run_id]
        assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED
    alive.release()
