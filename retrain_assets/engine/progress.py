"""Live progress on the console: done / running / failed / skipped and elapsed time."""

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

ProgressFn = Callable[[dict[str, dict[str, Any]], float], None]


class ConsoleProgress:
    """Prints a status line when counts change, and one line per symbol as it finishes."""

    def __init__(self, stream: TextIO = sys.stdout, heartbeat_s: float = 30.0) -> None:
        self.stream = stream
        self.heartbeat_s = heartbeat_s
        self._reported: dict[str, str] = {}
        self._last_line = ""
        self._last_print = -1e9

    def __call__(self, status: dict[str, dict[str, Any]], elapsed_s: float) -> None:
        for symbol, entry in status.items():
            state = entry.get("status", "pending")
            if state in ("success", "failed", "skipped") and self._reported.get(symbol) != state:
                self._reported[symbol] = state
                self._print(f"  {symbol:<14} {state:<8} {_detail(entry)}")
        counts = Counter(e.get("status", "pending") for e in status.values())
        line = (
            f"done {counts['success']}/{len(status)}  running {counts['running']}  "
            f"failed {counts['failed']}  skipped {counts['skipped']}  pending {counts['pending']}"
        )
        if line != self._last_line or elapsed_s - self._last_print >= self.heartbeat_s:
            self._print(f"[{_clock(elapsed_s)}] {line}")
            self._last_line = line
            self._last_print = elapsed_s

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def _detail(entry: dict[str, Any]) -> str:
    if entry.get("status") == "failed":
        return f"{entry.get('error_type')}: {entry.get('error')}"
    if entry.get("status") == "skipped":
        return str(entry.get("skip_reason"))
    return f"attempts {entry.get('attempts')}"
