"""Bounded retries with exponential, jittered backoff and an injectable sleep."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

Sleep = Callable[[float], None]
DelayHint = Callable[[BaseException], float | None]


def backoff_delay(
    attempt: int, base_delay: float, max_delay: float, jitter: float, rng: random.Random
) -> float:
    """Return the wait before retry number `attempt` (1-based).

    Args:
        attempt: How many attempts have failed so far.
        base_delay: The first wait, doubled after each failure.
        max_delay: The cap on any wait.
        jitter: A fraction; the wait is scaled by a random factor in [1 - jitter, 1 + jitter].
        rng: The random source.

    Returns:
        Seconds to wait.
    """
    delay = min(max_delay, base_delay * 2 ** (attempt - 1))
    return max(0.0, delay * (1 + rng.uniform(-jitter, jitter)))


def retry_call(
    fn: Callable[[], T],
    attempts: int = 4,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    jitter: float = 0.25,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    *,
    sleep: Sleep = time.sleep,
    delay_hint: DelayHint | None = None,
    rng: random.Random | None = None,
) -> T:
    """Call `fn` until it succeeds, at most `attempts` times.

    Args:
        fn: The call to make.
        attempts: The total number of calls allowed, at least 1.
        base_delay: The wait after the first failure, doubled after each next one.
        max_delay: The cap on any wait, including one a server asked for.
        jitter: The relative jitter applied to computed waits.
        retry_on: Exception types worth another call; anything else propagates at once.
        sleep: The sleep function (tests pass a recorder).
        delay_hint: Returns a server-requested wait (Retry-After) for an exception, or None.
        rng: The random source for the jitter.

    Returns:
        What `fn` returned.

    Raises:
        BaseException: The last exception once the attempts are spent.
    """
    rng = rng or random.Random()
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return fn()
        except retry_on as exc:
            if attempt >= attempts:
                raise
            hinted = delay_hint(exc) if delay_hint else None
            if hinted is not None:
                delay = min(max_delay, max(0.0, hinted))
            else:
                delay = backoff_delay(attempt, base_delay, max_delay, jitter, rng)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
