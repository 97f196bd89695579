"""The worker processes that execute symbol-day runs, started warm and early.

Spawning a worker and importing Dagster, CatBoost and the definitions costs seconds on two
cores. The pool is started first thing, before the parent plans, so both happen at once; and a
finished worker skips the interpreter's teardown, which only frees memory the OS frees anyway.
"""

import atexit
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor


def warm_worker() -> None:
    """Initializer: import the heavy modules and load the job once per worker."""
    import catboost  # noqa: F401  (imported for its load time, not its names)

    from retrain_assets.engine.runner import retrain_job_def

    retrain_job_def()
    # Runs are complete and their events committed before a worker exits.
    atexit.register(os._exit, 0)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int, poll_s: float = 1.0) -> None:
    """Leave when the parent is gone (killed): an orphan would wait for tasks forever.

    A run it was executing is left STARTED; the next invocation's orphan recovery fails it
    and frees its pool slot.
    """
    while os.getppid() == parent:
        time.sleep(poll_s)
    os._exit(1)


def ping() -> int:
    """A no-op task that makes the pool spawn its workers now."""
    return os.getpid()


def start_workers(count: int) -> ProcessPoolExecutor:
    """A spawn-context pool of `count` warm workers, already starting."""
    pool = ProcessPoolExecutor(
        max_workers=max(1, count),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=warm_worker,
    )
    for _ in range(max(1, count)):
        pool.submit(ping)
    return pool
