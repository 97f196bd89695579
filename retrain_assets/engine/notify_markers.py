"""Sent markers for notifications, in the instance's key-value store.

The CLI and the daemon's sensor may both try to send the same message. The store has no
compare-and-swap, so a sender first claims its messages, waits a moment and reads the claims
back: of two senders that overlap, the one whose claim was overwritten backs off. A claim
that was never completed (a killed process) expires, and a message that keeps failing is
abandoned after a bounded number of attempts.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import dagster as dg

_PREFIX = "retrain/notify/"
CLAIM_TTL_S = 120.0
MAX_ATTEMPTS = 5

State = Literal["pending", "claimed", "sent", "abandoned"]


@dataclass(frozen=True)
class Marker:
    """Where one message stands."""

    state: State
    attempts: int = 0
    owner: str = ""
    at: float = 0.0
    error: str = ""


class MarkerStore:
    """Reads and writes the markers of one sender.

    Args:
        instance: The Dagster instance whose run storage holds the markers.
        now: The current time, epoch seconds, for claims and their expiry.
        settle_s: Seconds between writing claims and reading them back.
        sleep: The function that waits; injected in tests.
    """

    def __init__(
        self,
        instance: dg.DagsterInstance,
        now: float,
        settle_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._storage = instance.run_storage
        self._now = now
        self._settle_s = settle_s
        self._sleep = sleep
        self.owner = uuid.uuid4().hex

    def load(self, keys: Iterable[str]) -> dict[str, Marker]:
        """The markers of those `keys` that have one."""
        raw = self._storage.get_cursor_values({_PREFIX + k for k in keys})
        return {k[len(_PREFIX) :]: Marker(**json.loads(v)) for k, v in raw.items() if v}

    def due(self, marker: Marker | None) -> bool:
        """Whether a message with this marker should be (re)sent now."""
        if marker is None or marker.state == "pending":
            return True
        return marker.state == "claimed" and self._now - marker.at > CLAIM_TTL_S

    def claim(self, keys: list[str], markers: dict[str, Marker]) -> list[str]:
        """Claims `keys` for this sender; returns those it still owns after settling."""
        if not keys:
            return []
        self._write(
            {k: Marker("claimed", _attempts(markers.get(k)), self.owner, self._now) for k in keys}
        )
        self._sleep(self._settle_s)
        after = self.load(keys)
        return [k for k in keys if after.get(k, Marker("pending")).owner == self.owner]

    def sent(self, key: str, attempts: int) -> None:
        """Marks a message delivered."""
        self._write({key: Marker("sent", attempts + 1, self.owner, self._now)})

    def failed(self, key: str, attempts: int, error: str) -> Marker:
        """Records a failed attempt; the message is abandoned after `MAX_ATTEMPTS`."""
        state: State = "abandoned" if attempts + 1 >= MAX_ATTEMPTS else "pending"
        marker = Marker(state, attempts + 1, self.owner, self._now, error[:300])
        self._write({key: marker})
        return marker

    def release(self, keys: Iterable[str], markers: dict[str, Marker]) -> None:
        """Gives back claims that were not tried, keeping their attempt counts."""
        released = {k: Marker("pending", _attempts(markers.get(k))) for k in keys}
        if released:
            self._write(released)

    def _write(self, markers: dict[str, Marker]) -> None:
        self._storage.set_cursor_values(
            {_PREFIX + k: json.dumps(asdict(m)) for k, m in markers.items()}
        )


def _attempts(marker: Marker | None) -> int:
    return marker.attempts if marker is not None else 0
