"""The production folder on disk: each symbol's decisions, its pointer and its live record.

Under the artifact root (and under the same paths in the remote store) each symbol has

- `production/{SYMBOL}/decisions/{YYYY-MM-DD}.json`: the decision of one date, written once
  per date. The folder is the append-only history of which model was live on which day;
  `core.lifecycle.production.live_history` reads it back, and replaying each `live_on` day with
  its champion's model rebuilds the live record.
- `production/{SYMBOL}/production.json`: the pointer, a small manifest naming the current
  champion and the sha256 of the decision that promoted it, derived by replaying every decision
  in date order (`core.lifecycle.production.derive_pointer`).

Every file is written atomically (temp file, fsync, rename); what the files mean, and the
checks a pointer and a model must pass, are the pure functions of `core.lifecycle.production`.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.adapters.hashing import sha256_bytes
from retrain_assets.core.errors import IntegrityError, PermanentError
from retrain_assets.core.lifecycle.artifacts import json_bytes
from retrain_assets.core.lifecycle.production import (
    CACHE_DIR,
    DECISIONS_DIR,
    LIVE_DIR,
    MODEL_FILE,
    POINTER_FILE,
    PRODUCTION_DIR,
    Decision,
    ModelRef,
    champion_before,
    checked_model_bytes,
    checked_pointer,
    derive_pointer,
    parse_decision,
)


@dataclass(frozen=True)
class ProductionStore:
    """The production folder of one artifact root."""

    root: Path

    def symbol_dir(self, symbol: str) -> Path:
        """`production/{SYMBOL}/`."""
        if not symbol or "/" in symbol or symbol.startswith("."):
            raise PermanentError(f"invalid symbol for the production store: {symbol!r}")
        return self.root / PRODUCTION_DIR / symbol

    def pointer_path(self, symbol: str) -> Path:
        """`production/{SYMBOL}/production.json`."""
        return self.symbol_dir(symbol) / POINTER_FILE

    def decision_path(self, symbol: str, date: str) -> Path:
        """`production/{SYMBOL}/decisions/{date}.json`."""
        return self.symbol_dir(symbol) / DECISIONS_DIR / f"{date}.json"

    def live_path(self, symbol: str, date: str) -> Path:
        """`production/{SYMBOL}/live/{date}.json`: what the champion live on `date` traded."""
        return self.symbol_dir(symbol) / LIVE_DIR / f"{date}.json"

    def method_days_cache(self, family: str) -> Path:
        """`cache/method_days/{digest}.json`: the family's pooled days, read from the instance
        incrementally by the gate (`defs.pnl_records.family_day_nets`). Outside
        production/, whose folders are symbols; safe to delete (it is read again)."""
        name = f"{sha256_bytes(family.encode())[:16]}.json"
        return self.root / CACHE_DIR / "method_days" / name

    def lock_path(self, symbol: str) -> Path:
        """The file lock serialising decisions of one symbol on this machine."""
        return self.symbol_dir(symbol) / ".lock"

    def relative(self, path: Path) -> str:
        """`path` relative to the root (the remote store mirrors these paths)."""
        return path.relative_to(self.root).as_posix()

    def decisions(self, symbol: str) -> list[Decision]:
        """Every recorded decision of `symbol`, oldest first."""
        folder = self.symbol_dir(symbol) / DECISIONS_DIR
        if not folder.is_dir():
            return []
        return [self._read_decision(path) for path in sorted(folder.glob("*.json"))]

    def decisions_on(self, symbol: str, dates: Iterable[str]) -> list[Decision]:
        """The recorded decisions of `symbol` on these dates only, oldest first (a report over
        a window reads its files, not the whole history)."""
        paths = [self.decision_path(symbol, date) for date in sorted(set(dates))]
        return [self._read_decision(path) for path in paths if path.exists()]

    def _read_decision(self, path: Path) -> Decision:
        return parse_decision(path.read_bytes(), self.relative(path))

    def champion_before(self, symbol: str, date: str) -> ModelRef | None:
        """The champion live on `date`: the replayed chain of the decisions made before it."""
        return champion_before(self.decisions(symbol), date)

    def record(self, decision: Decision) -> tuple[Path, Path | None]:
        """Write the decision, then re-derive the pointer by replaying every decision.

        Returns:
            The decision file, and the pointer file when it was (re)written; None when the
            newest decision names no champion (the pointer is then absent).
        """
        path = self.decision_path(decision.symbol, decision.date)
        atomic_write_bytes(path, json_bytes(decision.to_json_dict()))
        return path, self.rebuild_pointer(decision.symbol)

    def derived_pointer(self, symbol: str) -> dict[str, Any] | None:
        """The pointer the decisions give, replayed in date order; None when no model was ever
        promoted. After a demotion it names no champion (`champion: null`) and says why."""
        return derive_pointer(
            symbol, self.decisions(symbol), lambda date: self._decision_ref(symbol, date)
        )

    def _decision_ref(self, symbol: str, date: str) -> dict[str, str]:
        path = self.decision_path(symbol, date)
        return {"path": self.relative(path), "sha256": sha256_bytes(path.read_bytes())}

    def rebuild_pointer(self, symbol: str) -> Path | None:
        """Write the pointer the decisions give, atomically; None (nothing written) without one.

        The champion step calls it after each decision; a reader whose pointer is gone calls
        it too (under the symbol's lock), so the pointer is always the replayed decisions.
        """
        pointer = self.derived_pointer(symbol)
        if pointer is None:
            return None
        path = self.pointer_path(symbol)
        atomic_write_bytes(path, json_bytes(pointer))
        return path

    def pointer(self, symbol: str) -> dict[str, Any] | None:
        """The pointer's content, its decision verified by sha256; None without a champion."""
        path = self.pointer_path(symbol)
        if not path.exists():
            return None
        where = self.relative(path)
        try:
            pointer = json.loads(path.read_bytes())
            decision = pointer["decision"]
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"{where}: unreadable pointer ({exc})") from None
        decision_file = self.root / decision["path"]
        if not decision_file.exists():
            raise IntegrityError(f"{where}: its decision {decision['path']} is gone")
        return checked_pointer(pointer, decision_file.read_bytes(), where)


def verified_model_bytes(ref: ModelRef, root: Path) -> bytes | None:
    """The champion's model.bin from local disk, checked by sha256; None if not on disk.

    Raises:
        IntegrityError: The local file's bytes are not the recorded model.
    """
    entry = ref.files[MODEL_FILE]
    path = Path(entry["path"])
    path = path if path.is_absolute() else root / path
    if not path.exists():
        return None
    return checked_model_bytes(ref, path.read_bytes(), str(path))
