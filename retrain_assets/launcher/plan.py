"""Planning one date: which symbols are done, and what the others need.

Materialization records are the ledger, but a record is trusted only when its files are there
and it was made the same way: a symbol-day counts as done when every file recorded for every
asset exists and matches its sha256 (or a verified copy in a real remote store, not the same
local file, downloads and re-verifies), and every asset's recorded provenance has the current
data source and method. Otherwise it is rebuilt from the first missing, damaged or stale asset,
reusing only the intact, current upstream assets, and the plan says why (`repaired`, or
`stale: method lookback_days 180 -> 120`). One query per asset for all symbols.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dagster as dg
import pandas as pd

from retrain_assets.adapters.hashing import sha256_file
from retrain_assets.core.errors import RetrainError
from retrain_assets.core.model.provenance import Current, stale_reason
from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL
from retrain_assets.defs.provenance import recorded_provenance
from retrain_assets.defs.records import latest_metadata_by_partition
from retrain_assets.vocabulary.keys import split_partition_key, symbol_day_key

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
    stale: str | None = None

    @property
    def skipped(self) -> bool:
        """True when the symbol is already done for this date."""
        return self.skip_reason is not None


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
    current: Current | None = None,
) -> list[SymbolPlan]:
    """Plan every symbol of `date` from the latest materializations of its assets.

    With `current`, an asset recorded from another data source or method is stale.
    """
    if force:
        return [SymbolPlan(s, graph.order) for s in symbols]
    keys = [symbol_day_key(date, s) for s in symbols]
    recorded = {
        name: latest_metadata_by_partition(instance, dg.AssetKey(name), keys)
        for name in graph.order
    }
    gone_stale = {}
    if LEDGER in graph.order:
        gone_stale = _pnl_days_gone_stale(instance, date, symbols)
    plans = []
    for s in symbols:
        found = {n: recorded[n].get(symbol_day_key(date, s)) for n in graph.order}
        files = {n: None if md is None else dict(md.get("files") or {}) for n, md in found.items()}
        made_another_way = {} if current is None else _provenance_stale(found, current)
        plans.append(_plan_symbol(graph, s, files, restore, gone_stale.get(s), made_another_way))
    return plans


def _provenance_stale(found: dict[str, dict[str, Any] | None], current: Current) -> dict[str, str]:
    """The recorded assets whose source or method is not `current`'s, with why."""
    stale = {}
    for name, metadata in found.items():
        if metadata is not None:
            reason = stale_reason(recorded_provenance(metadata), current, name)
            if reason is not None:
                stale[name] = reason
    return stale


LEDGER = "walk_forward"


def _pnl_days_gone_stale(
    instance: dg.DagsterInstance, date: str, symbols: list[str]
) -> dict[str, dict[str, str]]:
    """Symbols whose ledger day no longer matches the model of the day before.

    Run out of order (a later date first, then the one before), a day is first recorded as
    untraded; once the model of the day before is there, the day is traded again. Likewise a
    day traded by a model that has since been rebuilt another way (a backfill of the day before
    under a new method or source) is traded again by the rebuilt model.
    """
    ledger = latest_metadata_by_partition(
        instance, dg.AssetKey(LEDGER), [symbol_day_key(date, s) for s in symbols]
    )
    if not ledger:
        return {}
    before = pd.Timestamp(date) - pd.Timedelta(days=1)
    keys = [symbol_day_key(f"{before:%Y-%m-%d}", s) for s in pnl_symbols(ledger)]
    models = latest_metadata_by_partition(instance, dg.AssetKey("model"), keys)
    stale: dict[str, dict[str, str]] = {}
    for key, model in models.items():
        symbol = split_partition_key(key)[1]
        day = ledger[symbol_day_key(date, symbol)]
        if day.get("ledger_status") == NO_LIVE_MODEL:
            why = f"recorded without a live model, and the model of {before:%Y-%m-%d} exists now"
            stale[symbol] = {LEDGER: why}
            continue
        made = recorded_provenance(model)
        traded_by = day.get("live_model_family")
        if made is not None and traded_by is not None and traded_by != made.family:
            why = f"traded by a model of {before:%Y-%m-%d} since rebuilt another way"
            stale[symbol] = {LEDGER: why}
    return stale


def pnl_symbols(ledger: dict[str, dict[str, Any]]) -> list[str]:
    """The symbols of a date's ledger records."""
    return [split_partition_key(key)[1] for key in ledger]


def _plan_symbol(
    graph: AssetGraph,
    symbol: str,
    files: dict[str, Files | None],
    restore: Restore | None,
    stale: dict[str, str] | None = None,
    made_another_way: dict[str, str] | None = None,
) -> SymbolPlan:
    """What one symbol needs. Damage comes first (files that cannot be trusted), then a day
    gone stale, then provenance: an asset made from another source or method."""
    if all(f is None for f in files.values()):
        return SymbolPlan(symbol, graph.order)
    other_way = made_another_way or {}
    problems = {
        n: damage(f, restore) or (stale or {}).get(n) or other_way.get(n) for n, f in files.items()
    }
    if not any(problems.values()):
        return SymbolPlan(
            symbol,
            (),
            skip_reason="already done: every recorded file verified, same source and method",
        )
    needed = {n for n, p in problems.items() if p}
    for name in list(needed):
        needed |= graph.downstream[name]
    assets = tuple(n for n in graph.order if n in needed)
    reused = tuple(n for n in graph.order if n not in needed)
    first = next(n for n in graph.order if problems[n])
    if problems[first] == other_way.get(first):
        return SymbolPlan(symbol, assets, reused=reused, stale=problems[first])
    repaired = None
    if files.get(graph.order[-1]) is not None:  # it was done once: say what broke
        repaired = f"{first}: {problems[first]}"
    return SymbolPlan(symbol, assets, repaired=repaired, reused=reused)
