"""A launcher's watchdog: the moment the launcher dies, its unfinished runs fail.

Dagster's run monitoring does not see runs that no run launcher started, and the daemon's
`dead_runs_sensor` sweeps only where a daemon runs (every 15 s). Without one, a CLI killed
mid-run would leave its runs STARTED and its `train` slots claimed until the next CLI. So each
local invocation starts this small process in a session of its own (Ctrl-C and a killed
process group do not reach it). It blocks on the invocation's lock, which the launcher holds
while it lives; once it can take it, the launcher is gone however it went, and it fails the
runs of launchers whose lock is free, frees their slots (`release_dead_runs`) and exits. A
launcher that finishes stops it first. It imports Dagster only when it has work to do.
"""

import subprocess
import sys
from pathlib import Path

from retrain_assets.adapters.locks import FileLock


def start_watchdog(lock: Path) -> subprocess.Popen[bytes]:
    """Watch `lock` (already held by this process) from a process of its own session."""
    return subprocess.Popen(
        [sys.executable, "-m", "retrain_assets.launcher.watchdog", str(lock)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_watchdog(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """The launcher is finishing normally: the watchdog has nothing to do.

    It is asked to stop, then killed if it has not within `grace_s` (on a loaded machine it
    was once seen outliving a SIGTERM for 10 s). A watchdog that outlives even that is left:
    once it takes the freed lock it fails only the runs of launchers that are gone, and this
    launcher's runs have all ended, so it finds nothing of ours to fail. Never a traceback."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
        return
    except subprocess.TimeoutExpired:
        process.kill()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass


def main(lock: str) -> None:
    """Wait for the launcher holding `lock` to be gone, then release its dead runs."""
    held = FileLock(lock)
    held.acquire()  # blocks while the launcher lives; the kernel frees it at its death
    held.release()  # `release_dead_runs` must find the lock free
    import dagster as dg

    from retrain_assets.defs.liveness import release_dead_runs

    with dg.DagsterInstance.get() as instance:
        release_dead_runs(instance)


if __name__ == "__main__":
    main(sys.argv[1])
