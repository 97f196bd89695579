"""Stopping a launcher's watchdog never raises, even when it ignores the polite signal."""

import subprocess
import sys
import time

from retrain_assets.launcher.watchdog import stop_watchdog


def test_a_watchdog_that_outlives_its_sigterm_is_killed_without_a_traceback():
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout.readline() == b"ready\n"
    started = time.monotonic()
    stop_watchdog(stubborn, grace_s=0.5)
    assert stubborn.returncode is not None and stubborn.returncode < 0  # killed
    assert time.monotonic() - started < 5
