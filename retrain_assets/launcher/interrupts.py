"""Ctrl-C and SIGTERM for the launcher: the first stops and cancels, the second exits now."""

import signal
import sys
from types import FrameType, TracebackType


class ExitNow(BaseException):
    """Raised by a second interrupt: leave at once (after killing the workers)."""


class Interrupts:
    """While active, the first SIGINT/SIGTERM sets `requested` and prints one line."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise ExitNow()
        self.requested = True
        name = signal.Signals(signum).name
        print(
            f"{name}: stopping: no new symbols, canceling running trainings "
            "(partials and snapshots kept); again to exit now",
            file=sys.stderr,
            flush=True,
        )

    def __enter__(self) -> "Interrupts":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
