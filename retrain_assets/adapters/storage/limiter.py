"""A thread-safe sliding-window rate limiter shared by every call to one remote API."""

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Allow at most `max_requests` calls in any window of `per_seconds` seconds.

    Args:
        max_requests: Calls allowed per window.
        per_seconds: The window's length.
        clock: A monotonic clock (injectable for tests).
        sleep: The sleep function (injectable for tests).
    """

    def __init__(
        self,
        max_requests: int = 600,
        per_seconds: float = 600.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests < 1 or per_seconds <= 0:
            raise ValueError("max_requests must be >= 1 and per_seconds > 0")
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def _wait_needed(self, now: float) -> float:
        while self._stamps and now - self._stamps[0] >= self.per_seconds:
            self._stamps.popleft()
        if len(self._stamps) < self.max_requests:
            self._stamps.append(now)
            return 0.0
        return self.per_seconds - (now - self._stamps[0])

    def acquire(self) -> float:
        """Block until one more call fits in the window, then record it.

        Returns:
            The total seconds spent waiting.
        """
        waited = 0.0
        while True:
            with self._lock:
                wait = self._wait_needed(self._clock())
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait
