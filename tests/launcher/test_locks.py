"""A lock whose holder died, even by SIGKILL, can be taken: that is how death is detected."""

import os
import signal
import subprocess
import sys

from retrain_assets.adapters.locks import FileLock, holder_gone


def test_a_held_lock_is_not_gone_and_a_released_one_is(tmp_path):
    lock = FileLock(tmp_path / "x.lock")
    lock.acquire()
    assert holder_gone(lock.path) is False
    lock.release()
    assert holder_gone(lock.path) is True
    assert holder_gone(tmp_path / "absent.lock") is None


def test_a_lock_held_by_a_killed_process_is_gone(tmp_path):
    path = tmp_path / "x.lock"
    code = (
        "import sys, time; from retrain_assets.adapters.locks import FileLock; "
        f"FileLock({str(path)!r}).acquire(); print('held', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    assert holder_gone(path) is False
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert holder_gone(path) is True
