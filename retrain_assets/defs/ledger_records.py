"""Reads the walk-forward ledger's days back from the instance's materialization records.

The report chains every symbol's latest `walk_forward` materialization over a window of dates.
Each day's walk_forward.json is read from the path its materialization recorded and checked
against its sha256: a day whose file is gone or changed is left out and named, never trusted.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from resources.artifact_io import read_verified
from retrain_assets.core.errors import IntegrityError
from retrain_assets.core.gate import DayNet
from retrain_assets.core.hashing import sha256_bytes
from retrain_assets.core.production import ProductionStore
from retrain_assets.core.walk_forward import TRADED, DayLedger
from retrain_assets.defs.partitions import SYMBOLS
from retrain_assets.defs.records import latest_metadata_by_partition

LEDGER_KEY = dg.AssetKey("walk_forward")
LEDGER_FILE = "walk_forward.json"
# Partitions per records query: a window of 90 days over 500 symbols is 45,000 keys.
_CHUNK = 5_000


@dataclass(frozen=True)
class LedgerDays:
    """The readable days of a window, and the partitions left out with why."""

    days: tuple[DayLedger, ...]
    unreadable: dict[str, str]


def window_dates(through: str, days: int) -> list[str]:
    """The `days` UTC dates ending at `through`, oldest first."""
    end = pd.Timestamp(through)
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(end=end, periods=days, freq="D")]


def ledger_days(
    instance: dg.DagsterInstance, dates: Sequence[str], symbols: Sequence[str] | None = None
) -> LedgerDays:
    """The latest walk_forward day of every (date, symbol) materialized, verified.

    Args:
        instance: The instance holding the records.
        dates: The traded dates to read.
        symbols: The symbols; default every symbol partition of the instance.
    """
    names = list(symbols) if symbols is not None else instance.get_dynamic_partitions(SYMBOLS)
    partitions = [f"{d}|{s}" for d in dates for s in names]
    days: list[DayLedger] = []
    unreadable: dict[str, str] = {}
    for start in range(0, len(partitions), _CHUNK):
        chunk = partitions[start : start + _CHUNK]
        for pkey, metadata in latest_metadata_by_partition(instance, LEDGER_KEY, chunk).items():
            entry = (metadata.get("files") or {}).get(LEDGER_FILE)
            if entry is None:
                unreadable[pkey] = f"no {LEDGER_FILE} recorded"
                continue
            try:
                data = json.loads(read_verified(LEDGER_FILE, entry))
            except IntegrityError as exc:
                unreadable[pkey] = str(exc)
                continue
            days.append(DayLedger.from_json_dict(data))
    return LedgerDays(tuple(days), unreadable)


def family_day_nets(
    instance: dg.DagsterInstance, dates: Sequence[str], family: str
) -> list[DayNet]:
    """Every symbol's traded day of `family` on `dates`, from the records' totals.

    The method test pools every symbol of a family over up to 90 days: it reads each day's
    totals from its latest `walk_forward` materialization (`day_net_bps`, `day_trades`,
    `live_model_family`, recorded with the verified file) in one paged query, not the day files.
    """
    names = instance.get_dynamic_partitions(SYMBOLS)
    partitions = [f"{d}|{s}" for d in dates for s in names]
    found: list[DayNet] = []
    for start in range(0, len(partitions), _CHUNK):
        chunk = partitions[start : start + _CHUNK]
        for pkey, md in latest_metadata_by_partition(instance, LEDGER_KEY, chunk).items():
            if md.get("ledger_status") != TRADED or md.get("live_model_family") != family:
                continue
            day, symbol = pkey.split("|", 1)
            net = float(md.get("day_net_bps") or 0.0) / 1e4
            found.append(DayNet(symbol, day, net, int(md.get("day_trades") or 0)))
    return found


def live_days(
    instance: dg.DagsterInstance, store: ProductionStore, dates: Sequence[str]
) -> LedgerDays:
    """What production traded: each symbol's champion-live day on `dates`, from the live file
    its decision names, checked against the sha256 the decision recorded."""
    wanted = set(dates)
    days: list[DayLedger] = []
    unreadable: dict[str, str] = {}
    for symbol in instance.get_dynamic_partitions(SYMBOLS):
        for decision in store.decisions(symbol):
            entry = decision.live_day
            if decision.date not in wanted or not entry or "sha256" not in entry:
                continue
            path = store.root / entry["path"]
            data = path.read_bytes() if path.exists() else None
            if data is None or sha256_bytes(data) != entry["sha256"]:
                unreadable[f"{decision.date}|{symbol}"] = f"{entry['path']}: gone or changed"
                continue
            days.append(DayLedger.from_json_dict(json.loads(data)))
    return LedgerDays(tuple(days), unreadable)
