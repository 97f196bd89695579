"""The engine's workers: forked warm, in the caller's environment, gone with the caller."""

import os
import subprocess
import sys
import time

from retrain_assets.engine.workers import process_identity, start_workers

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


def test_a_running_process_has_an_identity_and_a_finished_one_has_none():
    assert process_identity(os.getpid()) is not None
    child = subprocess.Popen(["sleep", "0"])
    child.wait()
    assert process_identity(child.pid) is None


def test_an_unreaped_child_counts_as_gone():
    child = subprocess.Popen(["sleep", "0"])
    deadline = time.monotonic() + 10
    while process_identity(child.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_identity(child.pid) is None  # a zombie until waited for
    child.wait()


def test_importing_the_preload_outside_the_forkserver_keeps_a_normal_exit():
    # In the forkserver the preload skips teardown (os._exit(0)); anywhere else that would
    # turn a failing exit status into 0.
    code = "import retrain_assets.engine.preload; raise SystemExit(3)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 3, done.stderr
