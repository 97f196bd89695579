"""The GPU's soft deadline: a fit grown in chunks from its snapshot, the clock read between.

No GPU here: the chunk sizing is tested as pure functions, and the chunked CatBoost fit runs
on CPU (`CatBoostTrainer(deadline_check="chunks")`), where CatBoost's snapshot resume is the
same Python call. That the GPU build writes and resumes its snapshot at each chunk's end is
checked only by `bench/gpu_packing.py --deadline_check` on a GPU.
"""

import time
from dataclasses import replace

import numpy as np
import pytest

from retrain_assets.core.errors import TrainingTimeout
from retrain_assets.core.model.chunked_fit import (
    FIRST_CHUNK_ITERATIONS,
    grow_in_chunks,
    next_chunk_end,
)
from retrain_assets.core.model.training import CatBoostTrainer, TrainingParams, deadline_check_for
from tests.core.model.test_training import _job, _predict


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


def test_the_deadline_is_read_by_callback_on_cpu_and_between_chunks_on_gpu():
    assert deadline_check_for("CPU") == "callback"
    assert deadline_check_for("GPU") == "chunks"


@pytest.mark.parametrize("early_stopping_rounds", [60, 3000])
def test_a_chunked_catboost_fit_predicts_what_one_fit_does(
    synthetic_bars, tmp_path, early_stopping_rounds
):
    params = TrainingParams(iterations=250, early_stopping_rounds=early_stopping_rounds)
    one = _job(synthetic_bars, tmp_path / "one")
    one = replace(one, params=params)
    chunked = replace(one, work_dir=tmp_path / "chunked", deadline_monotonic=time.monotonic() + 600)

    whole = CatBoostTrainer().train(one)
    grown = CatBoostTrainer(deadline_check="chunks").train(chunked)

    assert grown.training_log["fit_chunks"] > 1
    assert whole.training_log["fit_chunks"] is None  # the CPU's callback
    assert grown.training_log["tree_count"] == whole.training_log["tree_count"]
    assert grown.training_log["best_iteration"] == whole.training_log["best_iteration"]
    np.testing.assert_array_equal(_predict(grown, one), _predict(whole, one))


def test_a_chunked_catboost_fit_stops_at_its_deadline_and_resumes_from_its_snapshot(
    synthetic_bars, tmp_path
):
    params = TrainingParams(iterations=20_000, early_stopping_rounds=20_000, snapshot_interval_s=0)
    job = replace(_job(synthetic_bars, tmp_path / "ckpt"), params=params)
    started = time.monotonic()
    with pytest.raises(TrainingTimeout):
        CatBoostTrainer(deadline_check="chunks").train(
            replace(job, deadline_monotonic=started + 2.0)
        )
    assert time.monotonic() - started < 2.0 + 5.0  # the soft deadline, inside the hard grace
    assert (job.work_dir / "snapshot.cbs").exists()

    # Fewer iterations, the same patience: CatBoost's snapshot check ignores `iterations` only.
    short = replace(job, params=replace(params, iterations=40))
    resumed = CatBoostTrainer(deadline_check="chunks").train(
        replace(short, deadline_monotonic=time.monotonic() + 600)
    )
    assert resumed.training_log["resumed_from_snapshot"] is True


def test_a_passed_deadline_is_a_timeout_before_any_chunk(synthetic_bars, tmp_path):
    job = replace(_job(synthetic_bars, tmp_path / "ckpt"), deadline_monotonic=0.0)
    with pytest.raises(TrainingTimeout):
        CatBoostTrainer(deadline_check="chunks").train(job)
