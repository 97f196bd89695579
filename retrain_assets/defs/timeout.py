"""Per-symbol timeout: Dagster has no op timeout, so the step enforces its own.

Two layers: a soft deadline the trainer checks every iteration (CatBoost stops cleanly), and a
hard `SIGALRM` a little later for trainers that never look at the clock. Steps run in the main
thread of their process under the in-process and multiprocess executors, so the alarm works.
"""

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from retrain_assets.core.errors import TrainingTimeout

HARD_GRACE_S = 30.0


@contextmanager
def symbol_deadline(symbol: str, timeout_s: float) -> Iterator[float]:
    """Yield the soft deadline (monotonic seconds); raise TrainingTimeout at the hard one."""
    deadline = time.monotonic() + timeout_s
    if threading.current_thread() is not threading.main_thread():
        yield deadline
        return

    def _expire(signum: int, frame: FrameType | None) -> None:
        raise TrainingTimeout(f"{symbol}: no result after {timeout_s:.0f} s (hard timeout)")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, timeout_s + min(HARD_GRACE_S, timeout_s))
    try:
        yield deadline
    except KeyboardInterrupt as exc:
        # CatBoost surfaces a signal raised inside its C++ loop as KeyboardInterrupt.
        if time.monotonic() >= deadline:
            raise TrainingTimeout(f"{symbol}: no result after {timeout_s:.0f} s") from exc
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
