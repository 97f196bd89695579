"""Keeps the `symbols` dynamic partitions equal to the configured selection.

New symbols are added as partitions; symbols that left the selection are retired (the schedule
stops requesting them) without deleting their partitions, so their history stays visible. A
selected symbol the market-data source does not have is never added (a registered one is
retired); the refused names are logged. `retrain --remove_symbol` deletes a mistaken one.
"""

import dagster as dg
import pandas as pd

from resources.market_data import MarketDataResource
from resources.universe import SymbolUniverseResource
from retrain_assets.core.data.dates import last_complete_utc_day
from retrain_assets.core.data.symbols import check_symbols, unknown_symbols_message
from retrain_assets.core.errors import RetrainError
from retrain_assets.defs.partitions import symbol_partitions
from retrain_assets.defs.universe import retired_symbols, set_retired_symbols


def universe_changes(selected: list[str], registered: list[str]) -> tuple[list[str], set[str]]:
    """(symbols to add as partitions, the new retired set) for a selection."""
    chosen = set(selected)
    known = set(registered)
    to_add = [s for s in selected if s not in known]
    # Retired = registered but no longer selected; a symbol selected again is active again.
    return to_add, {s for s in registered if s not in chosen}


@dg.sensor(
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Add newly selected symbols as partitions; retire dropped ones, keeping history.",
)
def symbol_universe_sensor(
    context: dg.SensorEvaluationContext,
    universe: SymbolUniverseResource,
    market_data: MarketDataResource,
) -> dg.SensorResult | dg.SkipReason:
    """Sync the partitions to the universe of the last complete day (the schedule's next date)."""
    date = last_complete_utc_day(pd.Timestamp.now(tz="UTC").to_pydatetime())
    try:
        source = market_data.bar_source()
        selected = universe.symbols(source, date)
        checked = check_symbols(selected, source)
    except RetrainError as exc:
        return dg.SkipReason(f"selection could not be resolved: {exc}")
    if checked.unknown:
        context.log.warning(f"refused: {unknown_symbols_message(checked.unknown, source)}")
    for symbol, why in checked.unreadable.items():
        context.log.warning(f"refused {symbol}: {why}")
    instance = context.instance
    registered = instance.get_dynamic_partitions(symbol_partitions.name)
    to_add, retired = universe_changes(list(checked.known), registered)
    if retired != retired_symbols(instance):
        set_retired_symbols(instance, retired)
        context.log.info(f"retired symbols: {sorted(retired)}")
    if not to_add:
        refused = f", {len(checked.refused)} refused" if checked.refused else ""
        return dg.SkipReason(f"{len(selected)} symbols selected{refused}, none new")
    return dg.SensorResult(
        dynamic_partitions_requests=[symbol_partitions.build_add_request(to_add)]
    )
