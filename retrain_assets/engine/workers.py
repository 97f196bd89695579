"""The worker processes that execute symbol-day runs, forked warm from a preloaded server.

Importing Dagster, CatBoost and the definitions costs about two CPU-seconds per process, and
on two cores three processes importing at once (the CLI and two workers) delay the first run
by seconds. So the workers come from a forkserver that imports those modules once, while the
CLI imports and plans on the other core; each worker is then a cheap fork of a warm process.
A finished worker skips the interpreter's teardown, which only frees memory the OS frees anyway.
"""

import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

from retrain_assets.engine.processes import process_identity

# Imported once by the forkserver, inherited by every worker it forks.
PRELOAD = ("retrain_assets.engine.preload",)


def warm_worker(environ: Mapping[str, str], caller: int) -> None:
    """Initializer: take the caller's environment, load the job once, leave with the caller.

    The forkserver outlives one invocation of the Python API, so its environment may be older
    than the caller's: every worker starts from the environment of the invocation it serves.
    """
    os.environ.clear()
    os.environ.update(environ)
    from retrain_assets.engine.runner import retrain_job_def

    retrain_job_def()
    # Runs are complete and their events committed before a worker exits.
    atexit.register(os._exit, 0)
    threading.Thread(target=_exit_with_caller, args=(caller,), daemon=True).start()


def _exit_with_caller(caller: int, poll_s: float = 1.0) -> None:
    """Leave when the process that started the pool is gone (killed).

    An orphan would wait for tasks forever, and it would keep the forkserver alive too (each
    worker holds the forkserver's lifeline). A run it was executing is left STARTED; the next
    invocation's orphan recovery fails it and frees its pool slot.
    """
    identity = process_identity(caller)
    while identity is not None and process_identity(caller) == identity:
        time.sleep(poll_s)
    os._exit(1)


def ping() -> int:
    """A no-op task that makes the pool start its workers now."""
    return os.getpid()


def start_workers(count: int) -> ProcessPoolExecutor:
    """A pool of `count` warm workers forked from the preloaded forkserver, already starting."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    pool = ProcessPoolExecutor(
        max_workers=max(1, count),
        mp_context=context,
        initializer=warm_worker,
        initargs=(dict(os.environ), os.getpid()),
    )
    # The first fork waits for the forkserver's imports: start the workers from a thread so
    # that this process imports and plans meanwhile.
    threading.Thread(target=_start, args=(pool, max(1, count)), daemon=True).start()
    return pool


def _start(pool: ProcessPoolExecutor, count: int) -> None:
    """Submit `count` pings so the pool forks all its workers now.

    The caller may shut the pool down first (a storage check failed): then there is nothing
    left to start, and the caller reports its own error.
    """
    for _ in range(count):
        try:
            pool.submit(ping)
        except RuntimeError:  # shut down or broken (BrokenProcessPool is a RuntimeError)
            return
