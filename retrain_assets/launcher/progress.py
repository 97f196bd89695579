"""Live progress on the console: done / running / failed / skipped and elapsed time."""

import sys
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TextIO

from retrain_assets.launcher.status import SymbolStatus

ProgressFn = Callable[[Mapping[str, SymbolStatus], float], None]
CANCELED = "Canceled"  # the error type of a canceled run (`defs.records.failure_of`)
# A failure's reason is one line already; this bounds what a trainer's message can add.
MAX_DETAIL_CHARS = 400


class ConsoleProgress:
    """Prints a status line when counts change, and one line per symbol as it finishes."""

    def __init__(self, stream: TextIO = sys.stdout, heartbeat_s: float = 30.0) -> None:
        self.stream = stream
        self.heartbeat_s = heartbeat_s
        self._reported: dict[str, str] = {}
        self._last_line = ""
        self._last_print = -1e9

    def __call__(self, statuses: Mapping[str, SymbolStatus], elapsed_s: float) -> None:
        for symbol, entry in statuses.items():
            if entry.final and self._reported.get(symbol) != entry.status:
                self._reported[symbol] = entry.status
                self._print(f"  {symbol:<14} {entry.status:<8} {_one_line(_detail(entry))}")
        counts = Counter(e.status for e in statuses.values())
        line = (
            f"done {counts['success']}/{len(statuses)}  running {counts['running']}  "
            f"failed {counts['failed']}  canceled {counts['canceled']}  "
            f"skipped {counts['skipped']}  pending {counts['pending']}"
        )
        if line != self._last_line or elapsed_s - self._last_print >= self.heartbeat_s:
            self._print(f"[{_clock(elapsed_s)}] {line}")
            self._last_line = line
            self._last_print = elapsed_s

    def _print(self, text: str) -> None:
        print(printable(text, self.stream), file=self.stream, flush=True)


def printable(text: str, stream: TextIO) -> str:
    """`text` as the stream can encode it: an undecodable byte a trainer's message or a path
    carried (a lone surrogate) is shown escaped instead of failing a strict UTF-8 console."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding)


def _one_line(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """`text` on one line, at most `limit` characters (a symbol prints exactly one line)."""
    flat = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def _detail(entry: SymbolStatus) -> str:
    if entry.status == "canceled" and entry.error_type in (None, CANCELED):
        return entry.error or "canceled"  # the state says it: `canceled  <why>`
    if entry.status in ("failed", "canceled"):
        return f"{entry.error_type}: {entry.error}"
    if entry.status == "skipped":
        return str(entry.skip_reason)
    repaired = f"  (repaired: {entry.repaired})" if entry.repaired else ""
    stale = f"  (stale: {entry.stale})" if entry.stale else ""
    parts = [p for p in (_net(entry), entry.champion) if p]
    made = f"[{entry.source} · method {entry.method}]" if entry.source else None
    return "  ".join([*parts, f"attempts {entry.attempts}{repaired}{stale}", *filter(None, [made])])


def _net(entry: SymbolStatus) -> str | None:
    """`net -34.8 bps/trade [-120.1, +50.2], 13 trades (insufficient_evidence)`."""
    if entry.net_bps_per_trade is None:
        return f"no trades ({entry.evidence})" if entry.trades == 0 else None
    interval = entry.net_bps_interval
    shown = f" [{interval[0]:+.1f}, {interval[1]:+.1f}]" if interval else ""
    trades = f"{entry.trades} trade{'' if entry.trades == 1 else 's'}"
    evidence = f" ({entry.evidence})" if entry.evidence else ""
    return f"net {entry.net_bps_per_trade:+.1f} bps/trade{shown}, {trades}{evidence}"
