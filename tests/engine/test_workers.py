"""The engine's workers: forked warm, in the caller's environment, gone with the caller."""

import os
import subprocess
import sys

from retrain_assets.engine.workers import start_workers

PROBE = "RETRAIN_WORKER_PROBE"


def environment_value(name: str) -> str | None:
    """Runs in a worker: the value it sees for `name`."""
    return os.environ.get(name)


def test_each_pool_works_in_the_callers_environment_of_the_moment(monkeypatch):
    # The forkserver outlives the first pool; the second must not see its older environment.
    monkeypatch.setenv(PROBE, "first")
    with start_workers(1) as pool:
        assert pool.submit(environment_value, PROBE).result(timeout=120) == "first"
    monkeypatch.setenv(PROBE, "second")
    with start_workers(1) as pool:
        assert pool.submit(environment_value, PROBE).result(timeout=120) == "second"


def test_importing_the_preload_outside_the_forkserver_keeps_a_normal_exit():
    # In the forkserver the preload skips teardown (os._exit(0)); anywhere else that would
    # turn a failing exit status into 0.
    code = "import retrain_assets.engine.preload; raise SystemExit(3)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 3, done.stderr


def test_a_worker_whose_caller_is_already_gone_leaves_at_once():
    gone = subprocess.Popen(["sleep", "0"])
    gone.wait()
    code = (
        "from retrain_assets.engine.workers import _exit_with_caller; "
        f"_exit_with_caller({gone.pid}, poll_s=0.01)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 1, done.stderr
