"""`gpu_packing.py --deadline_check` on CPU, the trainer made to chunk as it does on a GPU.

No GPU here: the check's three fits run on CPU with `deadline_check_for` answering "chunks"
for every task type, so the check's own logic (chunked fit equal to the whole one, the stop
at the soft deadline, the verdict) is tested; whether the GPU build resumes its snapshot at
each chunk's end is what running it on a GPU shows.
"""

import re
import time
from dataclasses import replace

import pytest

from bench import gpu_deadline
from retrain_assets.adapters import catboost_trainer
from retrain_assets.core.model.training import TrainingParams
from tests.adapters.test_catboost_trainer import _job


def _cpu_timed(train, job):
    """The fit's CPU time: on a loaded 2-core machine (the suite's other workers) the wall
    clock measures the neighbours too, and a one-thread CPU fit's CPU time does not."""
    started = time.process_time()
    return train(job), time.process_time() - started


def test_the_deadline_check_passes_when_fits_chunk_and_stop_softly(
    synthetic_bars, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(catboost_trainer, "deadline_check_for", lambda task_type: "chunks")
    monkeypatch.setattr(gpu_deadline, "_timed", _cpu_timed)
    params = TrainingParams(iterations=300, early_stopping_rounds=300, min_trees=300)
    job = replace(_job(synthetic_bars, tmp_path / "whole"), params=params)

    assert gpu_deadline._check(job, timeout_s=2.0) == 0

    out = capsys.readouterr().out
    assert "whole:   300 trees" in out
    assert re.search(r"chunked: 300 trees in [\d.]+ s, \d+ chunks, resumed from the snapshot", out)
    assert re.search(r"stopped: BTCUSDT: training stopped after \d+ s \(timeout 2 s\) ", out)
    assert out.strip().endswith("soft deadline on GPU: works")


@pytest.mark.parametrize(
    ("whole_s", "chunked_s", "chunks", "setup_s", "resumed"),
    [
        (10.0, 10.0 + 9 * 1.0, 10, 1.0, True),  # each chunk pays one set-up, no more
        (10.0, 14.0, 10, 0.2, True),  # some noise
        (10.0, 55.0 + 9 * 1.0, 10, 1.0, False),  # every chunk regrew the trees before it
        (10.0, 16.0, 2, 0.1, False),
    ],
)
def test_chunks_that_start_over_are_told_from_chunks_that_resume(
    whole_s, chunked_s, chunks, setup_s, resumed
):
    assert gpu_deadline.chunks_resumed(whole_s, chunked_s, chunks, setup_s) is resumed


def test_the_deadline_check_fails_when_only_the_hard_alarm_stops_the_fit(
    synthetic_bars, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(catboost_trainer, "deadline_check_for", lambda task_type: "neither")
    params = TrainingParams(iterations=60, early_stopping_rounds=60, min_trees=60)
    job = replace(_job(synthetic_bars, tmp_path / "whole"), params=params)
    monkeypatch.setattr("retrain_assets.defs.timeout.HARD_GRACE_S", 0.5)

    assert gpu_deadline._check(job, timeout_s=1.0) == 1

    out = capsys.readouterr().out
    assert "grace: the trainer ignored the deadline" in out
    assert out.strip().endswith("FAILED (see the lines above)")
