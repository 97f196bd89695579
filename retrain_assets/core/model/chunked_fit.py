"""The soft deadline where CatBoost takes no callback (GPU): grow the fit in chunks.

CatBoost's GPU training refuses user callbacks ("User defined callbacks are not supported for
GPU", catboost/catboost#1792, still in 1.2.10's `_catboost.so`) and has no time-limit parameter
(catboost/catboost#2717), so the per-iteration deadline check the CPU fit uses cannot run
there. What GPU training does support is resuming from a snapshot, and CatBoost's snapshot
check ignores `iterations` (`NCatboostOptions::IsParamsCompatible` drops it before comparing):
a fit can be grown by successive fits of the same model to 20 trees, then 120, ... from the
same snapshot file, reading the clock between them. On CPU, where the snapshot code is the
same, the chunked model predicts bit for bit what one fit does, early stopping included
(`tests/adapters/test_catboost_trainer.py`). The hard alarm (`defs/timeout.py`) stays the backstop
for a call that hangs.

Each chunk is sized from the speed of the last one: about `CHECK_EVERY_S` of work, at most
half the time left, and the whole of it once `FINAL_CHUNK_S` or less is left, so the last
chunk ends near the deadline rather than a whole chunk past it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

FIRST_CHUNK_ITERATIONS = 20  # enough to measure the speed, short on any GPU
CHECK_EVERY_S = 30.0  # the clock is read at least this often (each chunk re-reads the data)
FINAL_CHUNK_S = 2.0  # below this much time left, one last chunk to the deadline

# CatBoost derives `max_ctr_complexity` from the planned iteration count (1 up to ~200, 4
# above, measured on 1.2.10) and does compare it, so chunks of different sizes would refuse
# each other's snapshot; pinned, they agree. Without categorical features it changes nothing.
PINNED_MAX_CTR_COMPLEXITY = 4


def next_chunk_end(
    done: int,
    target: int,
    seconds_per_iteration: float | None,
    remaining_s: float | None,
    check_every_s: float = CHECK_EVERY_S,
) -> int | None:
    """The tree count the next chunk grows the fit to, or None when the deadline is reached.

    Args:
        done: Trees grown so far.
        target: Trees wanted (the fit's `iterations`).
        seconds_per_iteration: Wall seconds per tree of the last chunk; None before any.
        remaining_s: Seconds to the deadline; None without one.
        check_every_s: The longest chunk, in seconds of work.

    Returns:
        An end above `done` and at most `target`; None when no time is left, or not enough
        for one more tree.
    """
    if remaining_s is not None and remaining_s <= 0:
        return None
    if seconds_per_iteration is None:
        return min(target, done + FIRST_CHUNK_ITERATIONS)
    budget_s = check_every_s
    if remaining_s is not None:
        budget_s = min(budget_s, remaining_s if remaining_s <= FINAL_CHUNK_S else remaining_s / 2)
    step = int(budget_s / max(seconds_per_iteration, 1e-9))
    if step < 1:
        if remaining_s is not None and remaining_s < seconds_per_iteration:
            return None
        step = 1
    return min(target, done + step)


@dataclass(frozen=True)
class ChunkedFit:
    """How a chunked fit ended: the trees grown, the chunks run, and whether time ran out."""

    trees: int
    chunks: int
    timed_out: bool


def grow_in_chunks(
    fit_to: Callable[[int], int],
    target: int,
    deadline_monotonic: float | None,
    clock: Callable[[], float] = time.monotonic,
    check_every_s: float = CHECK_EVERY_S,
) -> ChunkedFit:
    """Call `fit_to(end)` with growing ends until `target`, an early stop, or the deadline.

    Args:
        fit_to: Fits the model to at most `end` trees, resuming from the last chunk's
            snapshot, and returns the trees it has. Fewer than `end` means the fit stopped
            early (the overfitting detector); more means a snapshot from an earlier attempt
            already had them.
        target: Trees wanted.
        deadline_monotonic: The soft deadline on `clock`; None: one chunk to the target.
        clock: Monotonic seconds (a parameter so tests can drive it).
        check_every_s: The longest chunk, in seconds of work.

    Returns:
        The outcome; `timed_out` when the deadline came before the fit ended.
    """
    if deadline_monotonic is None:
        return ChunkedFit(fit_to(target), 1, timed_out=False)
    done, chunks, speed = 0, 0, None
    while True:
        end = next_chunk_end(done, target, speed, deadline_monotonic - clock(), check_every_s)
        if end is None:
            return ChunkedFit(done, chunks, timed_out=True)
        started = clock()
        trees = fit_to(end)
        chunks += 1
        if trees < end or trees >= target:
            return ChunkedFit(trees, chunks, timed_out=False)
        # A chunk that resumed an earlier attempt's longer snapshot says nothing of the speed.
        speed = (clock() - started) / (trees - done) if trees == end else None
        done = trees
