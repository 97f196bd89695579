"""retry_call and RateLimiter with injected clocks and sleeps."""

import random
import threading

import pytest

from retrain_assets.adapters.storage.limiter import RateLimiter
from retrain_assets.adapters.storage.retry import retry_call


class Flaky:
    def __init__(self, failures: int, exc: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.calls = 0
        self.exc = exc

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc("boom")
        return "ok"


def test_retry_backs_off_exponentially_with_a_cap() -> None:
    waits: list[float] = []
    fn = Flaky(3)
    result = retry_call(fn, attempts=4, base_delay=1, max_delay=3, jitter=0, sleep=waits.append)
    assert result == "ok" and waits == [1, 2, 3]


def test_retry_gives_up_after_the_attempts() -> None:
    waits: list[float] = []
    with pytest.raises(ConnectionError):
        retry_call(Flaky(9), attempts=3, base_delay=0.1, sleep=waits.append)
    assert len(waits) == 2


def test_retry_does_not_retry_other_errors() -> None:
    fn = Flaky(1, ValueError)
    with pytest.raises(ValueError):
        retry_call(fn, attempts=5, retry_on=(ConnectionError,), sleep=lambda s: None)
    assert fn.calls == 1


def test_retry_honours_a_server_hint_up_to_the_cap() -> None:
    waits: list[float] = []
    retry_call(Flaky(2), attempts=3, max_delay=10, sleep=waits.append, delay_hint=lambda e: 30.0)
    assert waits == [10.0, 10.0]


def test_jitter_stays_within_bounds() -> None:
    waits: list[float] = []
    retry_call(
        Flaky(1), attempts=2, base_delay=1, jitter=0.5, sleep=waits.append, rng=random.Random(1)
    )
    assert 0.5 <= waits[0] <= 1.5


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_limiter_blocks_once_the_window_is_full() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 10.0, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire() == pytest.approx(10.0)
    clock.now = 15.0
    assert limiter.acquire() == 0.0


def test_limiter_is_thread_safe() -> None:
    limiter = RateLimiter(50, 3600.0)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(limiter._stamps) == 50
