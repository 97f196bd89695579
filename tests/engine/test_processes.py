"""Process liveness: running, finished, an unreaped zombie."""

import os
import subprocess
import time

from retrain_assets.engine.processes import pid_alive, process_identity


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


def test_a_zombie_is_not_alive_for_orphan_recovery():
    child = subprocess.Popen(["sleep", "0"])
    deadline = time.monotonic() + 10
    while pid_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(child.pid)
    assert pid_alive(os.getpid())
    child.wait()
