"""The models' health as the instance recorded it: per model, and for the models live on a date.

The `model` asset records each model's `model_health` (`core.model_health`) in its
materialization; these read it back for the walk-forward report and the desk's report, and
shape it for the UI (a JSON value and a table: never int/float entries, which the UI would plot
across symbols).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.core.errors import IntegrityError
from retrain_assets.core.model.model_health import HEALTH_KEY, IMPORTANCE_KEY, top_text
from retrain_assets.defs.partitions import SYMBOLS
from retrain_assets.defs.records import latest_metadata_by_partition
from retrain_assets.vocabulary.keys import split_partition_key, symbol_day_key

MODEL_KEY = dg.AssetKey("model")
CHAMPION = "champion"
NEWEST = "newest"
NO_MODEL = "none"
UNREADABLE = "newest (decisions unreadable)"
# Partitions per records query, as the ledger's reader does.
_CHUNK = 5_000

_LIVE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("symbol", "string", "the symbol"),
    ("model", "string", "champion (production's) or newest (no champion: the ledger's model)"),
    ("as_of", "string", "the model's date: trained through it"),
    ("trees", "int", "the model's tree count"),
    ("best_iteration", "int", "the early stop's best iteration on validation"),
    ("top_features", "string", "the top 3 features by CatBoost importance, % of the total"),
)


def model_health(
    instance: dg.DagsterInstance, partitions: Sequence[str]
) -> dict[str, dict[str, Any] | None]:
    """The recorded `model_health` of each model partition's latest materialization.

    Args:
        instance: The instance holding the records.
        partitions: Model partition keys, `"date|symbol"`.

    Returns:
        Per materialized partition its `model_health` record, or None for a model recorded
        without one (trained before it was kept); partitions never materialized are absent.
    """
    found: dict[str, dict[str, Any] | None] = {}
    keys = list(partitions)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        for pkey, metadata in latest_metadata_by_partition(instance, MODEL_KEY, chunk).items():
            health = metadata.get(HEALTH_KEY)
            found[pkey] = dict(health) if isinstance(health, Mapping) else None
    return found


def health_metadata(health: Mapping[str, Any]) -> dict[str, dg.MetadataValue]:
    """A model's health as materialization metadata: the `model_health` JSON, and its
    `feature_importance` as a table when the trainer reported importances."""
    metadata: dict[str, dg.MetadataValue] = {HEALTH_KEY: dg.MetadataValue.json(dict(health))}
    importance = health.get(IMPORTANCE_KEY)
    if importance is not None:
        schema = dg.TableSchema(
            columns=[
                dg.TableColumn("feature", "string", "the feature"),
                dg.TableColumn("importance", "float", "PredictionValuesChange, % of the total"),
            ]
        )
        rows = [
            dg.TableRecord({"feature": r["feature"], "importance": r["importance"]})
            for r in importance
        ]
        metadata[IMPORTANCE_KEY] = dg.MetadataValue.table(rows, schema=schema)
    return metadata


def live_models(
    store: ProductionStore, symbols: Sequence[str], date: str
) -> dict[str, tuple[str, str]]:
    """The model that traded `date` for each symbol: its champion live on `date` (the replay
    of the decisions before it), else the newest model, trained through the day before (the
    walk-forward ledger's). A symbol whose decisions cannot be read gets its newest model,
    marked so.

    Returns:
        symbol -> (model partition key, `champion` | `newest` | `newest (decisions unreadable)`).
    """
    before = (pd.Timestamp(date) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    found: dict[str, tuple[str, str]] = {}
    for symbol in symbols:
        try:
            champion = store.champion_before(symbol, date)
        except IntegrityError:
            found[symbol] = (symbol_day_key(before, symbol), UNREADABLE)
            continue
        if champion is not None:
            found[symbol] = (symbol_day_key(champion.as_of, symbol), CHAMPION)
        else:
            found[symbol] = (symbol_day_key(before, symbol), NEWEST)
    return found


def live_health_table(
    instance: dg.DagsterInstance, store: ProductionStore, date: str
) -> dg.MetadataValue:
    """One row per symbol: the health of the model that traded `date` (`live_models`). A
    symbol without that model reads `none` with empty cells; a model recorded before its
    health was kept reads `not recorded`."""
    symbols = sorted(instance.get_dynamic_partitions(SYMBOLS))
    live = live_models(store, symbols, date)
    health = model_health(instance, [pkey for pkey, _ in live.values()])
    rows = [dg.TableRecord(_live_row(symbol, *live[symbol], health)) for symbol in symbols]
    schema = dg.TableSchema(columns=[dg.TableColumn(n, t, d) for n, t, d in _LIVE_COLUMNS])
    return dg.MetadataValue.table(rows, schema=schema)


def _live_row(
    symbol: str, pkey: str, kind: str, health: Mapping[str, dict[str, Any] | None]
) -> dict[str, Any]:
    if pkey not in health:
        empty = dict.fromkeys(("as_of", "trees", "best_iteration", "top_features"))
        return {"symbol": symbol, "model": NO_MODEL, **empty}
    record = health[pkey]
    return {
        "symbol": symbol,
        "model": kind,
        "as_of": split_partition_key(pkey)[0],
        "trees": None if record is None else record.get("trees"),
        "best_iteration": None if record is None else record.get("best_iteration"),
        "top_features": "not recorded" if record is None else top_text(record),
    }
