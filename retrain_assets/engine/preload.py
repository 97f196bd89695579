"""Imported by the workers' forkserver only: everything a worker needs, loaded once.

Every worker is forked from the forkserver, so what this module loads (Dagster, CatBoost,
pandas, the definitions and the resolved retrain job) is warm in each of them for free. The
forkserver leaves when its caller does; skipping the interpreter's teardown there lets a
caller reading the CLI's output see end-of-file as soon as the CLI exits, not half a second
later. Nothing here reads a setting or a secret.
"""

import atexit
import contextlib
import os

import catboost  # noqa: F401  (loaded for the workers, not used here)

from retrain_assets.engine.runner import retrain_job_def

atexit.register(os._exit, 0)
# A failure here must not kill the forkserver: each worker's initializer resolves the job
# again and reports the error to the caller.
with contextlib.suppress(Exception):
    retrain_job_def()
