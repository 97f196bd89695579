"""Whether a process on this machine still runs, telling zombies and reused pids apart.

A worker that died is a zombie until something reaps it; with workers forked by a forkserver
that may be init, some time later. A signal probe (`kill(pid, 0)`) succeeds on a zombie, so
liveness is read from /proc: its state, and its start time to tell a reused pid.
"""

import os
from pathlib import Path


def process_identity(pid: int) -> str | None:
    """The pid's start time while it runs (None once it is gone or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:  # no procfs: fall back to a signal probe
        return "alive" if _signal_probe(pid) else None
    state, start_time = fields[0], fields[19]
    return None if state in ("Z", "X") else start_time


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (a zombie does not)."""
    return process_identity(pid) is not None


def _signal_probe(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
