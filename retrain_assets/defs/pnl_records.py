"""Reads the walk-forward ledger's days back from the instance's materialization records.

The report chains every symbol's latest `walk_forward` materialization over a window of dates.
Each day's walk_forward.json is read from the path its materialization recorded and checked
against its sha256: a day whose file is gone or changed is left out and named, never trusted.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from resources.artifact_io import read_verified
from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.adapters.hashing import sha256_bytes
from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.core.errors import IntegrityError
from retrain_assets.core.lifecycle.artifacts import json_bytes
from retrain_assets.core.lifecycle.gate import DayNet
from retrain_assets.core.trading.walk_forward import TRADED, DayPnl
from retrain_assets.defs.partitions import SYMBOLS
from retrain_assets.defs.records import latest_metadata_by_partition
from retrain_assets.vocabulary.figures import figure, whole
from retrain_assets.vocabulary.keys import split_partition_key, symbol_day_key

PNL_KEY = dg.AssetKey("walk_forward")
PNL_FILE = "walk_forward.json"
# Partitions per records query: a window of 90 days over 500 symbols is 45,000 keys.
_CHUNK = 5_000
_PAGE = 1_000


@dataclass(frozen=True)
class PnlDays:
    """The readable days of a window, and the partitions left out with why."""

    days: tuple[DayPnl, ...]
    unreadable: dict[str, str]


def window_dates(through: str, days: int) -> list[str]:
    """The `days` UTC dates ending at `through`, oldest first."""
    end = pd.Timestamp(through)
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(end=end, periods=days, freq="D")]


def pnl_days(
    instance: dg.DagsterInstance, dates: Sequence[str], symbols: Sequence[str] | None = None
) -> PnlDays:
    """The latest walk_forward day of every (date, symbol) materialized, verified.

    Args:
        instance: The instance holding the records.
        dates: The traded dates to read.
        symbols: The symbols; default every symbol partition of the instance.
    """
    names = list(symbols) if symbols is not None else instance.get_dynamic_partitions(SYMBOLS)
    partitions = [symbol_day_key(d, s) for d in dates for s in names]
    days: list[DayPnl] = []
    unreadable: dict[str, str] = {}
    for start in range(0, len(partitions), _CHUNK):
        chunk = partitions[start : start + _CHUNK]
        for pkey, metadata in latest_metadata_by_partition(instance, PNL_KEY, chunk).items():
            entry = (metadata.get("files") or {}).get(PNL_FILE)
            if entry is None:
                unreadable[pkey] = f"no {PNL_FILE} recorded"
                continue
            try:
                data = json.loads(read_verified(PNL_FILE, entry))
            except IntegrityError as exc:
                unreadable[pkey] = str(exc)
                continue
            days.append(DayPnl.from_json_dict(data))
    return PnlDays(tuple(days), unreadable)


def family_day_nets(
    instance: dg.DagsterInstance, dates: Sequence[str], family: str, cache: Path
) -> list[DayNet]:
    """Every symbol's traded day of `family` on `dates`, from the records' totals.

    The method test pools every symbol of a family over up to 90 days, in every symbol's
    champion step: read afresh each time, 500 symbols would make each step read 45,000
    records (0.26 s per 3,600 measured, so ~3 s a step and ~27 CPU-minutes a date). So each
    day's totals (`day_net_bps`, `day_trades`, `live_model_family` of the latest
    `walk_forward` materialization, recorded with the verified file) are kept in `cache`, a
    JSON file with the newest storage id it has seen; a step reads only the records written
    since, so a rebuilt day replaces its entry. Steps writing it at once write whole files
    atomically, each a complete view.
    """
    wanted = set(dates)
    known, seen = _read_cache(cache)
    before = seen
    cursor = None
    while True:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=PNL_KEY, after_storage_id=seen or None),
            limit=_PAGE,
            cursor=cursor,
            ascending=True,
        )
        for record in result.records:
            mat = record.asset_materialization
            if mat is not None and mat.partition:
                known[str(mat.partition)] = _totals(mat.metadata)
            seen = max(seen, record.storage_id)
        if not result.has_more:
            break
        cursor = result.cursor
    if seen > before:  # nothing new: the file already says all of it
        first = min(wanted) if wanted else ""
        known = {k: v for k, v in known.items() if split_partition_key(k)[0] >= first}
        atomic_write_bytes(cache, json_bytes({"storage_id": seen, "days": known}))
    found = []
    for pkey, (status, day_family, net_bps, trades) in sorted(known.items()):
        day, symbol = split_partition_key(pkey)
        if day in wanted and status == TRADED and day_family == family:
            found.append(DayNet(symbol, day, float(net_bps) / 1e4, int(trades)))
    return found


def _totals(metadata: Mapping[str, dg.MetadataValue]) -> list[Any]:
    def value(key: str) -> Any:
        entry = metadata.get(key)
        return None if entry is None else entry.value

    return [
        value("ledger_status"),
        value("live_model_family"),
        figure(metadata.get("day_net_bps")) or 0.0,
        whole(metadata.get("day_trades")) or 0,
    ]


def _read_cache(path: Path) -> tuple[dict[str, list[Any]], int]:
    try:
        data = json.loads(path.read_bytes())
        return dict(data["days"]), int(data["storage_id"])
    except (OSError, ValueError, KeyError, TypeError):  # absent or torn: read from the start
        return {}, 0


def live_days(
    instance: dg.DagsterInstance, store: ProductionStore, dates: Sequence[str]
) -> PnlDays:
    """What production traded: each symbol's champion-live day on `dates`, from the live file
    its decision names, checked against the sha256 the decision recorded."""
    days: list[DayPnl] = []
    unreadable: dict[str, str] = {}
    for symbol in instance.get_dynamic_partitions(SYMBOLS):
        for decision in store.decisions_on(symbol, dates):
            entry = decision.live_day
            if not entry or "sha256" not in entry:
                continue
            path = store.root / entry["path"]
            data = path.read_bytes() if path.exists() else None
            if data is None or sha256_bytes(data) != entry["sha256"]:
                unreadable[symbol_day_key(decision.date, symbol)] = (
                    f"{entry['path']}: gone or changed"
                )
                continue
            days.append(DayPnl.from_json_dict(json.loads(data)))
    return PnlDays(tuple(days), unreadable)
