"""`gpu_packing.py --deadline_check S`: the GPU's soft deadline (`core.chunked_fit`) on a GPU.

Fits of one synthetic symbol-day's held-out job, on the GPU the caller left visible:
1. whole: no deadline, so one CatBoost fit (W seconds), and a one-tree fit, nearly all set-up;
2. chunked: the same job with a deadline an hour away, grown from its snapshot in chunks of
   about W / 10 (C seconds, k chunks). Chunks that resume take about W plus k - 1 set-ups;
   chunks that start over (a GPU build that did not write or read its snapshot) regrow every
   earlier tree, about (k + 1) / 2 x W (`chunks_resumed`);
3. stopped: a million trees under the step's `symbol_deadline` of S seconds, which must end
   with the soft deadline's `TrainingTimeout` (no "grace" in its message) before the hard
   alarm, S + 5 s.
Exit 0 when the chunked fit grew the whole fit's trees in resumed chunks and the third
stopped softly; 1 otherwise.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

DATE = "2025-05-01"
MANY = 1_000_000
CHUNKS = 10  # the chunked fit's chunks, about
RESUMED_BELOW = 1.5  # C less the extra set-ups, over W: resumed chunks stay below it


def chunks_resumed(whole_s: float, chunked_s: float, chunks: int, setup_s: float) -> bool:
    """Whether a chunked fit resumed each chunk from the last one's snapshot, judged by time:
    its wall less the set-up of its extra fits stays near the whole fit's, where chunks that
    start over would take about (chunks + 1) / 2 times as long."""
    return chunked_s - (chunks - 1) * setup_s < RESUMED_BELOW * whole_s


def check(symbol: str, iterations: int, days: int, timeout_s: float) -> int:
    """Run the three fits, print one line each and the verdict; the exit code."""
    with tempfile.TemporaryDirectory(prefix="gpu-deadline-") as work:
        return _check(_held_out_job(symbol, iterations, days, Path(work)), timeout_s)


def _check(job: Any, timeout_s: float) -> int:
    from retrain_assets.adapters.catboost_trainer import CatBoostTrainer

    print(f"{job.symbol}: task_type {job.params.task_type}, gpu_ram_part {job.params.gpu_ram_part}")
    whole, whole_s = _timed(CatBoostTrainer().train, job)
    one = replace(job.params, iterations=1, min_trees=1)
    _, setup_s = _timed(CatBoostTrainer().train, replace(job, params=one, work_dir=_in(job, "one")))
    far = replace(job, work_dir=_in(job, "chunked"), deadline_monotonic=time.monotonic() + 3600)
    trainer = CatBoostTrainer(check_every_s=max(whole_s / CHUNKS, 0.01))
    chunked, chunked_s = _timed(trainer.train, far)
    trees = (whole.training_log["tree_count"], chunked.training_log["tree_count"])
    chunks = chunked.training_log["fit_chunks"] or 0
    resumed = chunks_resumed(whole_s, chunked_s, chunks, setup_s)
    print(f"whole:   {trees[0]} trees in {whole_s:.1f} s (a one-tree fit: {setup_s:.1f} s)")
    print(
        f"chunked: {trees[1]} trees in {chunked_s:.1f} s, {chunks} chunks, "
        + ("resumed from the snapshot" if resumed else "NOT resumed: each chunk started over")
    )
    soft = _stops_softly(job, timeout_s)
    ok = soft and resumed and chunks > 1 and trees[0] == trees[1]
    print("soft deadline on GPU: " + ("works" if ok else "FAILED (see the lines above)"))
    return 0 if ok else 1


def _stops_softly(job: Any, timeout_s: float) -> bool:
    """A million trees under the step's timeout: True when the soft deadline stopped them."""
    from retrain_assets.adapters.catboost_trainer import CatBoostTrainer
    from retrain_assets.core.errors import TrainingTimeout
    from retrain_assets.defs.timeout import HARD_GRACE_S, symbol_deadline

    many = replace(job.params, iterations=MANY, early_stopping_rounds=MANY)
    long = replace(job, params=many, work_dir=_in(job, "long"))
    started = time.monotonic()
    message = "no timeout: the fit ended"
    try:
        with symbol_deadline(job.symbol, timeout_s) as deadline:
            CatBoostTrainer().train(replace(long, deadline_monotonic=deadline))
    except TrainingTimeout as exc:
        message = str(exc)
    ran = time.monotonic() - started
    soft = "stopped after" in message and "grace" not in message
    print(f"stopped: {message} ({ran:.1f} s of a {timeout_s:g} s timeout, hard at "
          f"{timeout_s + HARD_GRACE_S:g} s)")  # fmt: skip
    return soft


def _held_out_job(symbol: str, iterations: int, days: int, work: Path) -> Any:
    """The held-out fit's input with every tree kept (`min_trees` = `iterations`), so two
    fits of it have the same tree count even on a GPU, whose fits are not deterministic."""
    import pandas as pd

    from resources.training import TrainingResource
    from retrain_assets.adapters.hardware import Hardware
    from retrain_assets.core.data.synthetic import SyntheticSource
    from retrain_assets.core.lifecycle.pipeline import training_input

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


def _in(job: Any, folder: str) -> Path:
    """A work folder beside the job's own."""
    return job.work_dir.parent / folder
