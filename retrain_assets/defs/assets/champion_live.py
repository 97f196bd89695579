"""The champion's live day: what the model in production traded on the date, by its own
record.

The `champion` asset trades the champion live on a date before deciding anything, so its
tenure's days (recorded in its decisions) are production's own record, which the gate weighs
and the demotion rule reads. Flat without a champion; the newest model's ledger day when the
champion is the model of the day before; else the champion's own trades of the day.
"""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from resources.artifact_io import ArtifactIOManager
from resources.training import TrainingResource
from retrain_assets.adapters.hashing import sha256_bytes
from retrain_assets.adapters.production_store import ProductionStore, verified_model_bytes
from retrain_assets.core.lifecycle.gate import DayNet
from retrain_assets.core.lifecycle.production import Decision, ModelRef
from retrain_assets.core.trading.walk_forward import TRADED, DayPnl, untraded_day
from retrain_assets.defs.assets.walk_forward import PNL_FILE, trade_model_on
from retrain_assets.vocabulary.keys import split_partition_key

NO_CHAMPION = "no_champion"
CHAMPION_UNREADABLE = "champion_unreadable"


def live_from(since: str | None) -> str | None:
    """The first day a champion promoted on `since` traded live (the day after), or None."""
    return (
        None if since is None else (pd.Timestamp(since) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    )


def live_record(during: list[Decision]) -> list[DayNet]:
    """The champion's own live days recorded by the decisions of its tenure, oldest first."""
    found = []
    for d in during:
        day = d.live_day
        if day and day.get("model_as_of") and day.get("status") == TRADED:
            found.append(DayNet(d.symbol, d.date, float(day["net"]), int(day["trades"])))
    return found


def live_summary(day: DayPnl) -> dict[str, Any]:
    """The live day as the decision records it: which model traded, its status, net, trades."""
    return {
        "day": day.day,
        "model_as_of": day.model_as_of,
        "status": day.status,
        "net": float(sum(day.net)),
        "trades": len(day.trades),
    }


def live_day(
    context: dg.AssetExecutionContext,
    io: ArtifactIOManager,
    store: ProductionStore,
    training: TrainingResource,
    live: ModelRef | None,
) -> DayPnl:
    """What the champion live on the date did that day: flat without one; the newest model's
    ledger day when the champion is the model of the day before; else its own trades."""
    date, symbol = split_partition_key(context.partition_key)
    if live is None:
        return untraded_day(symbol, date, NO_CHAMPION)
    ledger = io.load_partition(context, dg.AssetKey("walk_forward"), context.partition_key)
    if ledger is not None:
        newest = DayPnl.from_json_dict(ledger.json(PNL_FILE))
        if newest.model_as_of == live.as_of:
            return newest
    model_bytes = verified_model_bytes(live, store.root)
    config = _verified_config(live, store.root)
    features = io.load_partition(context, dg.AssetKey("features"), context.partition_key)
    costs = io.load_partition(context, dg.AssetKey("costs"), context.partition_key)
    if model_bytes is None or config is None or features is None or costs is None:
        context.log.warning(
            f"{symbol} {date}: champion as of {live.as_of} could not trade: its model, the "
            "day's features or costs are not readable here; its live day is left out"
        )
        return untraded_day(symbol, date, CHAMPION_UNREADABLE)
    model = (model_bytes, config, live.as_of)
    return trade_model_on((date, symbol), features, costs, model, training)


def _verified_config(ref: ModelRef, root: Path) -> dict[str, Any] | None:
    """The champion's config.json (its as-of date and calibration), checked by sha256; None
    when it is not on disk or fails its checksum (the live day is then left out, logged)."""
    entry = ref.files.get("config.json")
    if entry is None:
        return {}  # a model recorded before its config was kept: slope 1
    path = Path(entry["path"])
    path = path if path.is_absolute() else root / path
    if not path.exists() or sha256_bytes(path.read_bytes()) != entry["sha256"]:
        return None
    return dict(json.loads(path.read_bytes()))
