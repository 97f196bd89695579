"""Imported by the workers' forkserver: everything a worker needs, loaded once.

Every worker is forked from the forkserver, so what this module loads (Dagster, CatBoost,
pandas, the definitions and the resolved retrain job) is warm in each of them for free. In the
forkserver itself the interpreter's teardown is skipped: the forkserver leaves when its caller
does, and a caller's reader (a pipe, `tee`, a test) sees end-of-file only once every holder of
the CLI's output is gone, half a second later otherwise. Nothing here reads a setting or a
secret.
"""

import atexit
import contextlib
import os
import sys

import catboost  # noqa: F401  (loaded for the workers, not used here)

from retrain_assets.engine.runner import retrain_job_def


def imported_by_forkserver() -> bool:
    """True while `multiprocessing.forkserver.main` is importing this module (its preload)."""
    frame = sys._getframe(1)
    while frame is not None:
        if (
            frame.f_code.co_name == "main"
            and frame.f_globals.get("__name__") == "multiprocessing.forkserver"
        ):
            return True
        frame = frame.f_back
    return False


if imported_by_forkserver():  # never in a process that merely imports this module
    atexit.register(os._exit, 0)
# A failure here must not kill the forkserver: each worker's initializer resolves the job
# again and reports the error to the caller.
with contextlib.suppress(Exception):
    retrain_job_def()
