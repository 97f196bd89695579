"""Planning one invocation: which symbols to skip, and which assets each of the others needs.

Materialization records are the resume ledger. A symbol whose `metrics` partition has a
materialization of the same kind (real or dry run) is skipped unless forced; otherwise only the
assets without a verified materialization, and everything downstream of them, are selected.
"""

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from resources.artifact_io import latest_files
from retrain_assets.core.hashing import sha256_file
from retrain_assets.defs.partitions import partition_key

ASSET_ORDER = ("costs", "features", "model", "metrics")
DOWNSTREAM = {
    "costs": {"metrics"},
    "features": {"model", "metrics"},
    "model": {"metrics"},
    "metrics": set(),
}


@dataclass(frozen=True)
class SymbolPlan:
    """What one symbol needs today: nothing (skipped, with the reason) or some assets."""

    symbol: str
    assets: tuple[str, ...]
    skip_reason: str | None = None
    reused: tuple[str, ...] = field(default_factory=tuple)

    @property
    def skipped(self) -> bool:
        """True when the symbol is already done for this date."""
        return self.skip_reason is not None


def _verified(entries: dict | None) -> bool:
    """Every file is intact on disk, or (when the local copy is gone) verified remotely."""
    if not entries:
        return False
    for entry in entries.values():
        path = Path(entry["path"])
        if path.exists():
            if sha256_file(path) != entry["sha256"]:
                return False
        elif not entry.get("verified"):
            return False
    return True


def plan_symbol(
    instance: dg.DagsterInstance, date: str, symbol: str, *, force: bool, dry_run: bool
) -> SymbolPlan:
    """Plan one symbol-day from the instance's materialization records."""
    if force:
        return SymbolPlan(symbol, ASSET_ORDER)
    key = partition_key(date, symbol)
    done = {
        name: _verified(latest_files(instance, dg.AssetKey(name), str(key), dry_run))
        for name in ASSET_ORDER
    }
    if done["metrics"]:
        kind = "dry-run" if dry_run else "real"
        return SymbolPlan(
            symbol, (), skip_reason=f"already has a {kind} materialization of metrics"
        )
    needed = {name for name, ok in done.items() if not ok}
    for name in list(needed):
        needed |= DOWNSTREAM[name]
    needed.add("metrics")
    assets = tuple(n for n in ASSET_ORDER if n in needed)
    reused = tuple(n for n in ASSET_ORDER if n not in needed)
    return SymbolPlan(symbol, assets, reused=reused)
