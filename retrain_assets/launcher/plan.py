"""Planning one date: which symbols are done, and what the others need.

Materialization records are the ledger, but a record is trusted only when its files are there:
a symbol-day counts as done when every file recorded for every asset exists and matches its
sha256, or when a verified copy in a real remote store (not the same local file) downloads and
re-verifies. Otherwise it is rebuilt from the first missing or damaged asset, reusing only the
intact upstream assets, and the plan says why (`repaired`). One query per asset for all symbols.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dagster as dg
import pandas as pd

from retrain_assets.core.errors import RetrainError
from retrain_assets.core.hashing import sha256_file
from retrain_assets.core.walk_forward import NO_LIVE_MODEL
from retrain_assets.defs.records import latest_metadata_by_partition

Files = dict[str, dict[str, Any]]
Restore = Callable[[dict[str, Any], Path], None]


@dataclass(frozen=True)
class AssetGraph:
    """The symbol-day assets in dependency order, and what lies downstream of each."""

    order: tuple[str, ...]
    downstream: dict[str, frozenset[str]]

    @classmethod
    def of(cls, assets: Sequence[dg.AssetsDefinition]) -> "AssetGraph":
        """Built from the assets' own dependencies (their keys' last path component)."""
        deps = {a.key.path[-1]: {k.path[-1] for k in a.dependency_keys} for a in assets}
        order: list[str] = []
        while len(order) < len(deps):
            ready = sorted(n for n, d in deps.items() if n not in order and d <= set(order))
            order += ready
        below = {n: frozenset(_closure(n, deps)) for n in deps}
        return cls(tuple(order), below)


def _closure(name: str, deps: dict[str, set[str]]) -> set[str]:
    children = {n for n, d in deps.items() if name in d}
    for child in list(children):
        children |= _closure(child, deps)
    return children


@dataclass(frozen=True)
class SymbolPlan:
    """What one symbol needs: nothing (skipped, with why) or some assets (and why, if repaired)."""

    symbol: str
    assets: tuple[str, ...]
    skip_reason: str | None = None
    repaired: str | None = None
    reused: tuple[str, ...] = field(default_factory=tuple)

    @property
    def skipped(self) -> bool:
        """True when the symbol is already done for this date."""
        return self.skip_reason is not None


def latest_files(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions: list[str]
) -> dict[str, Files]:
    """The `files` metadata of each partition's latest materialization."""
    return {
        p: dict(md.get("files") or {})
        for p, md in latest_metadata_by_partition(instance, key, partitions).items()
    }


def damage(files: Files | None, restore: Restore | None = None) -> str | None:
    """Why these recorded files cannot be trusted (None: all intact)."""
    if not files:
        return "no files recorded"
    for name, entry in sorted(files.items()):
        path = Path(entry["path"])
        if not path.exists():
            if restore is None or not _is_remote_copy(entry):
                return f"{name} is missing ({path}) and has no remote copy"
            try:
                restore(entry, path)
            except (RetrainError, OSError) as exc:
                return f"{name} is missing and its remote copy failed: {exc}"
        if sha256_file(path) != entry["sha256"]:
            return f"{name} does not match its recorded sha256"
    return None


def _is_remote_copy(entry: dict[str, Any]) -> bool:
    """A verified copy somewhere else than the local file itself."""
    uri = entry.get("uri")
    if not entry.get("verified") or not uri:
        return False
    parsed = urlparse(str(uri))
    return parsed.scheme != "file" or Path(parsed.path).resolve() != Path(entry["path"]).resolve()


def plan_date(
    instance: dg.DagsterInstance,
    graph: AssetGraph,
    date: str,
    symbols: list[str],
    *,
    force: bool = False,
    restore: Restore | None = None,
) -> list[SymbolPlan]:
    """Plan every symbol of `date` from the latest materializations of its assets."""
    if force:
        return [SymbolPlan(s, graph.order) for s in symbols]
    keys = [f"{date}|{s}" for s in symbols]
    recorded = {name: latest_files(instance, dg.AssetKey(name), keys) for name in graph.order}
    stale = {}
    if LEDGER in graph.order:
        stale = _ledger_days_gone_stale(instance, date, symbols)
    return [
        _plan_symbol(
            graph,
            s,
            {n: recorded[n].get(f"{date}|{s}") for n in graph.order},
            restore,
            stale.get(s),
        )
        for s in symbols
    ]


LEDGER = "walk_forward"


def _ledger_days_gone_stale(
    instance: dg.DagsterInstance, date: str, symbols: list[str]
) -> dict[str, dict[str, str]]:
    """Symbols whose ledger day says `no_live_model` though yesterday's model exists now.

    Run out of order (a later date first, then the one before), a day is first recorded as
    untraded; once the model of the day before is there, the day is traded again.
    """
    ledger = latest_metadata_by_partition(
        instance, dg.AssetKey(LEDGER), [f"{date}|{s}" for s in symbols]
    )
    untraded = [
        k.partition("|")[2] for k, md in ledger.items() if md.get("ledger_status") == NO_LIVE_MODEL
    ]
    if not untraded:
        return {}
    before = pd.Timestamp(date) - pd.Timedelta(days=1)
    keys = [f"{before:%Y-%m-%d}|{s}" for s in untraded]
    models = latest_metadata_by_partition(instance, dg.AssetKey("model"), keys)
    why = f"recorded without a live model, and the model of {before:%Y-%m-%d} exists now"
    return {k.partition("|")[2]: {LEDGER: why} for k in models}


def _plan_symbol(
    graph: AssetGraph,
    symbol: str,
    files: dict[str, Files | None],
    restore: Restore | None,
    stale: dict[str, str] | None = None,
) -> SymbolPlan:
    if all(f is None for f in files.values()):
        return SymbolPlan(symbol, graph.order)
    problems = {n: damage(f, restore) or (stale or {}).get(n) for n, f in files.items()}
    if not any(problems.values()):
        return SymbolPlan(symbol, (), skip_reason="already done: every recorded file verified")
    needed = {n for n, p in problems.items() if p}
    for name in list(needed):
        needed |= graph.downstream[name]
    assets = tuple(n for n in graph.order if n in needed)
    reused = tuple(n for n in graph.order if n not in needed)
    first = next(n for n in graph.order if problems[n])
    repaired = None
    if files.get(graph.order[-1]) is not None:  # it was done once: say what broke
        repaired = f"{first}: {problems[first]}"
    return SymbolPlan(symbol, assets, repaired=repaired, reused=reused)
