"""The active symbol universe: registered dynamic partitions minus retired symbols.

Retiring a symbol never deletes its partitions or history; it only stops the schedule from
requesting new days for it. The list lives in the instance's key-value store.
"""

import json

import dagster as dg

from retrain_assets.defs.partitions import SYMBOLS

_RETIRED_KEY = "retrain/universe/retired"


def retired_symbols(instance: dg.DagsterInstance) -> set[str]:
    """Symbols dropped from the selection (their history is kept)."""
    raw = instance.run_storage.get_cursor_values({_RETIRED_KEY}).get(_RETIRED_KEY)
    return set(json.loads(raw)) if raw else set()


def set_retired_symbols(instance: dg.DagsterInstance, symbols: set[str]) -> None:
    """Replace the retired list."""
    instance.run_storage.set_cursor_values({_RETIRED_KEY: json.dumps(sorted(symbols))})


def active_symbols(instance: dg.DagsterInstance) -> list[str]:
    """Registered symbols that are not retired, in registration order."""
    retired = retired_symbols(instance)
    return [s for s in instance.get_dynamic_partitions(SYMBOLS) if s not in retired]
