"""Per-symbol timeout: Dagster has no op timeout, so the step enforces its own.

Two layers: a soft deadline at the timeout, which the trainer checks (CatBoost on CPU every
iteration; on GPU, which refuses callbacks, between chunks of a fit grown from its snapshot,
the last chunk sized to end at the deadline: `core.chunked_fit`), and a hard `SIGALRM`
`HARD_GRACE_S` later for trainers that never look at the clock (a trainer of its own; a hung
call). Either way the training ends by
the timeout plus the grace, and the error says how long it actually ran. Steps run in the main
thread of their process under the in-process and multiprocess executors, so the alarm works.
A timeout is final (`TrainingTimeout` is a `PermanentError`): the same data under the same
budget would run as long again.
"""

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from retrain_assets.core.errors import TrainingTimeout

# Long enough for CatBoost to stop at the soft deadline and return, short enough that a hung
# trainer costs little more than its timeout; stated with `--timeout_minutes` in the README.
HARD_GRACE_S = 5.0


def timeout_message(symbol: str, ran_s: float, timeout_s: float, *, hard: bool) -> str:
    """One line naming the seconds the training ran and the limit it passed.

    Args:
        symbol: The symbol.
        ran_s: Seconds from the deadline's start to the stop (what the step's duration shows).
        timeout_s: The timeout in seconds.
        hard: True when the hard alarm stopped a trainer that ignored the soft deadline.

    Returns:
        Such as `"BTCUSDT: training stopped after 65 s (timeout 60 s + 5 s grace: the trainer
        ignored the deadline)"`.
    """
    why = f" + {HARD_GRACE_S:g} s grace: the trainer ignored the deadline" if hard else ""
    return f"{symbol}: training stopped after {ran_s:.0f} s (timeout {timeout_s:g} s{why})"


@contextmanager
def symbol_deadline(symbol: str, timeout_s: float) -> Iterator[float]:
    """Yield the soft deadline (monotonic seconds); raise TrainingTimeout at the hard one.

    Any timeout leaving the block, soft (the trainer's own `TrainingTimeout`) or hard (the
    alarm, or CatBoost's `KeyboardInterrupt` form of it), is re-raised as one
    `TrainingTimeout` whose message names the seconds actually run.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    fired: list[bool] = []

    def _expire(signum: int, frame: FrameType | None) -> None:
        fired.append(True)
        raise TrainingTimeout(f"{symbol}: hard timeout")

    alarm = threading.current_thread() is threading.main_thread()
    if alarm:
        previous = signal.signal(signal.SIGALRM, _expire)
        signal.setitimer(signal.ITIMER_REAL, timeout_s + HARD_GRACE_S)
    try:
        yield deadline
    except (TrainingTimeout, KeyboardInterrupt) as exc:
        _disarm(alarm)  # no second alarm while the message is made
        # CatBoost surfaces a signal raised inside its C++ loop as KeyboardInterrupt; one
        # before the deadline with no alarm fired is a real interrupt (a cancel).
        if isinstance(exc, KeyboardInterrupt) and not fired and time.monotonic() < deadline:
            raise
        ran_s = time.monotonic() - started
        raise TrainingTimeout(timeout_message(symbol, ran_s, timeout_s, hard=bool(fired))) from None
    finally:
        _disarm(alarm)
        if alarm:
            signal.signal(signal.SIGALRM, previous)


def _disarm(alarm: bool) -> None:
    if alarm:
        signal.setitimer(signal.ITIMER_REAL, 0)
