"""The GPU's soft deadline: a fit grown in chunks from its snapshot, the clock read between.

The chunk sizing and growth are pure functions, tested here with a fake clock; the chunked
CatBoost fit itself is tested in `tests/adapters/test_catboost_trainer.py`.
"""

import pytest

from retrain_assets.core.model.chunked_fit import (
    FIRST_CHUNK_ITERATIONS,
    grow_in_chunks,
    next_chunk_end,
)


@pytest.mark.parametrize(
    ("done", "target", "speed", "remaining", "expected"),
    [
        (0, 300, None, None, FIRST_CHUNK_ITERATIONS),  # the first chunk measures the speed
        (0, 10, None, 100.0, 10),  # never past the target (a dry run's 10)
        (20, 5000, 0.01, None, 20 + 3000),  # about 30 s of work without a deadline
        (20, 5000, 0.01, 1000.0, 20 + 3000),  # far from the deadline: the same
        (20, 5000, 0.01, 10.0, 20 + 500),  # near it: half the time left
        (20, 5000, 0.01, 1.5, 20 + 150),  # the last chunk: all the time left
        (20, 5000, 0.01, 0.0, None),  # the deadline has come
        (20, 5000, 0.01, -3.0, None),  # and gone
        (20, 5000, 2.0, 1.0, None),  # not one more tree fits
        (20, 5000, 60.0, None, 21),  # a tree slower than a chunk: one at a time
    ],
)
def test_the_next_chunk_is_sized_from_the_speed_and_the_time_left(
    done, target, speed, remaining, expected
):
    assert next_chunk_end(done, target, speed, remaining) == expected


class _FakeFit:
    """`fit_to` for `grow_in_chunks` on a fake clock: each tree costs `speed` seconds."""

    def __init__(self, clock: list[float], speed: float, stops_at: int | None = None) -> None:
        self.clock, self.speed, self.stops_at, self.trees, self.ends = clock, speed, stops_at, 0, []

    def __call__(self, end: int) -> int:
        self.ends.append(end)
        grown = min(end, self.stops_at) if self.stops_at else end
        self.clock[0] += max(0, grown - self.trees) * self.speed
        self.trees = max(self.trees, grown)
        return self.trees


def test_without_a_deadline_the_fit_is_one_chunk():
    clock = [0.0]
    fit = _FakeFit(clock, 0.1)
    outcome = grow_in_chunks(fit, 300, None, clock=lambda: clock[0])
    assert (outcome.trees, outcome.chunks, outcome.timed_out) == (300, 1, False)


def test_a_fit_that_ends_in_time_grows_to_its_target_in_chunks():
    clock = [0.0]
    fit = _FakeFit(clock, 0.1)
    outcome = grow_in_chunks(fit, 2000, 1000.0, clock=lambda: clock[0])
    assert (outcome.trees, outcome.timed_out) == (2000, False)
    assert fit.ends[:2] == [20, 320]  # 20 to measure, then ~30 s at 0.1 s a tree
    assert fit.ends == sorted(fit.ends)


def test_an_early_stop_ends_the_chunks():
    clock = [0.0]
    fit = _FakeFit(clock, 0.1, stops_at=83)
    outcome = grow_in_chunks(fit, 3000, 1000.0, clock=lambda: clock[0])
    assert (outcome.trees, outcome.chunks, outcome.timed_out) == (83, 2, False)


def test_a_slow_fit_stops_near_the_deadline_not_a_chunk_past_it():
    clock = [0.0]
    fit = _FakeFit(clock, 0.1)
    outcome = grow_in_chunks(fit, 100_000, 95.0, clock=lambda: clock[0])
    assert outcome.timed_out
    assert 95.0 - 0.1 <= clock[0] <= 95.0 + 1e-9  # within one tree of the deadline
    assert outcome.trees == fit.trees < 100_000


def test_a_snapshot_longer_than_the_first_chunk_is_not_taken_for_speed():
    clock = [0.0]
    fit = _FakeFit(clock, 0.1)
    fit.trees = 500  # an earlier attempt's snapshot: the first chunk returns its 500 trees
    outcome = grow_in_chunks(fit, 2000, 1000.0, clock=lambda: clock[0])
    assert fit.ends[:2] == [20, 520]  # measured again after the resume
    assert (outcome.trees, outcome.timed_out) == (2000, False)
