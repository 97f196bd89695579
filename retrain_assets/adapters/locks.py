"""Advisory file locks: who holds a file, and whether its holder is still alive.

The kernel releases an `flock` when its last holder exits, however it exits (SIGKILL
included), so a lock that can be taken means its holder is gone: no pid files, no /proc.
"""

import fcntl
import os
from pathlib import Path
from types import TracebackType


class FileLock:
    """An exclusive `flock` on `path`, blocking until it is free (or failing fast)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock; with `blocking=False`, return False at once when it is held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the lock go (the file stays, so later holders reuse it)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def holder_gone(path: str | Path) -> bool | None:
    """Whether the process that locked `path` is gone (None: no such file on this machine)."""
    if not Path(path).exists():
        return None
    probe = FileLock(path)
    if probe.acquire(blocking=False):
        probe.release()
        return True
    return False
