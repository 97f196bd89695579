"""Invocation views are read back from run records and backfills, nothing else."""

import time
from collections.abc import Iterator

import dagster as dg
import pytest

from retrain_assets.defs.invocations import dates_of, recent_views
from retrain_assets.vocabulary.tags import BACKFILL_TAG, RunTags
from tests.fakes.symbol_days import run_symbol_day

DAY = 86400.0


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def views(instance: dg.DagsterInstance, now: float | None = None):
    return recent_views(instance, time.time() if now is None else now, 2 * DAY)


def test_the_runs_sharing_an_invocation_tag_are_one_view(instance):
    tags = RunTags("schedule-1", "schedule", mode="hybrid", total_symbols=3, skipped=1).to_tags()
    run_symbol_day(instance, "2025-05-01", "BTCUSDT", tags)
    run_symbol_day(instance, "2025-05-02", "ETHUSDT", tags, fail="x")

    (view,) = views(instance)

    assert view.key == "schedule:schedule-1" and not view.self_reporting
    assert view.date == "2025-05-01..2025-05-02"
    assert (view.total_symbols, view.skipped, view.mode) == (3, 1, "hybrid")
    assert len(view.runs) == 2
    assert view.finished_at is not None and view.finished_at >= view.started_at


def test_a_view_is_unfinished_while_fewer_runs_than_expected_have_ended(instance):
    tags = RunTags("schedule-1", "schedule", total_symbols=3).to_tags()
    run_symbol_day(instance, "2025-05-01", "BTCUSDT", tags)
    (view,) = views(instance)
    assert view.finished_at is None


def test_runs_of_a_backfill_belong_to_the_backfill_not_to_an_invocation(instance):
    tags = {**RunTags("inv-1", "schedule").to_tags(), BACKFILL_TAG: "bf1"}
    run_symbol_day(instance, "2025-05-01", "BTCUSDT", tags)
    assert views(instance) == []  # no backfill record with that id exists


def test_views_older_than_the_window_are_left_out(instance):
    run_symbol_day(instance, "2025-05-01", "BTCUSDT", RunTags("s", "schedule").to_tags())
    assert views(instance, now=time.time() + 3 * DAY) == []


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("2025-05-01", ["2025-05-01"]),
        ("2025-04-30..2025-05-02", ["2025-04-30", "2025-05-01", "2025-05-02"]),
        ("?", []),
    ],
)
def test_a_view_covers_one_date_or_a_range(text, dates):
    assert dates_of(text) == dates
