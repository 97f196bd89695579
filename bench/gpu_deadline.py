"""`gpu_packing.py --deadline_check S`: the GPU's soft deadline (`core.chunked_fit`) on a GPU.

Three fits of one synthetic symbol-day's held-out job, on the GPU the caller left visible:
1. whole: no deadline, so one CatBoost fit;
2. chunked: the same job with a deadline an hour away, grown in chunks from its snapshot
   (the overhead of chunking, and that the GPU build resumes its snapshot at each chunk);
3. stopped: a million trees under the step's `symbol_deadline` of S seconds, which must end
   with the soft deadline's `TrainingTimeout` (no "grace" in its message) before the hard
   alarm, S + 5 s.
Exit 0 when the chunked fit grew to the whole fit's trees in more than one chunk and the
third stopped softly; 1 otherwise.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

DATE = "2025-05-01"
MANY = 1_000_000


def check(symbol: str, iterations: int, days: int, timeout_s: float) -> int:
    """Run the three fits, print one line each and the verdict; the exit code."""
    with tempfile.TemporaryDirectory(prefix="gpu-deadline-") as work:
        return _check(_held_out_job(symbol, iterations, days, Path(work)), timeout_s)


def _check(job: Any, timeout_s: float) -> int:
    from retrain_assets.core.errors import TrainingTimeout
    from retrain_assets.core.training import CatBoostTrainer
    from retrain_assets.defs.timeout import HARD_GRACE_S, symbol_deadline

    symbol = job.symbol
    print(f"{symbol}: task_type {job.params.task_type}, gpu_ram_part {job.params.gpu_ram_part}")
    whole, whole_s = _timed(CatBoostTrainer().train, job)
    far = replace(job, work_dir=job.work_dir.parent / "chunked", deadline_monotonic=_in(3600))
    chunked, chunked_s = _timed(CatBoostTrainer().train, far)
    trees = (whole.training_log["tree_count"], chunked.training_log["tree_count"])
    chunks = chunked.training_log["fit_chunks"]
    print(f"whole:   {trees[0]} trees in {whole_s:.1f} s")
    print(f"chunked: {trees[1]} trees in {chunked_s:.1f} s, {chunks} chunks "
          f"({chunked_s / whole_s - 1:+.0%} for the deadline checks)")  # fmt: skip
    many = replace(job.params, iterations=MANY, early_stopping_rounds=MANY)
    long = replace(job, params=many, work_dir=job.work_dir.parent / "long")
    started = time.monotonic()
    message = "no timeout: the fit ended"
    try:
        with symbol_deadline(symbol, timeout_s) as deadline:
            CatBoostTrainer().train(replace(long, deadline_monotonic=deadline))
    except TrainingTimeout as exc:
        message = str(exc)
    ran = time.monotonic() - started
    soft = "stopped after" in message and "grace" not in message
    print(f"stopped: {message} ({ran:.1f} s of a {timeout_s:g} s timeout, hard at "
          f"{timeout_s + HARD_GRACE_S:g} s)")  # fmt: skip
    ok = soft and chunks is not None and chunks > 1 and trees[0] == trees[1]
    print("soft deadline on GPU: " + ("works" if ok else "FAILED (see the lines above)"))
    return 0 if ok else 1


def _held_out_job(symbol: str, iterations: int, days: int, work: Path) -> Any:
    """The held-out fit's input with every tree kept (`min_trees` = `iterations`), so two
    fits of it have the same tree count even on a GPU, whose fits are not deterministic."""
    import pandas as pd

    from resources.training import TrainingResource
    from retrain_assets.core.hardware import Hardware
    from retrain_assets.core.pipeline import training_input
    from retrain_assets.core.synthetic import SyntheticSource

    training = TrainingResource(
        iterations=iterations,
        early_stopping_rounds=iterations,
        min_trees=iterations,
        lookback_days=days,
    )
    params = training.params(Hardware(1, 1, "bench"), 1, dry_run=False)
    end = pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=1)
    bars, _ = SyntheticSource().load(symbol, end, pd.Timedelta(days=days))
    frame, splits = training.feature_set(bars, symbol)
    return training_input(symbol, DATE, frame, splits, params, work / "whole", dry_run=False)


def _timed(train: Callable[[Any], Any], job: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    return train(job), time.perf_counter() - started


def _in(seconds: float) -> float:
    return time.monotonic() + seconds
