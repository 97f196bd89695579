"""The active symbol universe: registered dynamic partitions minus retired symbols.

Retiring a symbol never deletes its partitions or history; it only stops the schedule from
requesting new days for it. The retired set is kept as a second set of dynamic partition
keys (`retired_symbols`, used by no asset): instance storage made for named key sets, where
adding one key never disturbs another.
"""

import dagster as dg

from retrain_assets.defs.partitions import SYMBOLS

RETIRED = "retired_symbols"


def retired_symbols(instance: dg.DagsterInstance) -> set[str]:
    """Symbols dropped from the selection (their history is kept)."""
    return set(instance.get_dynamic_partitions(RETIRED))


def set_retired_symbols(instance: dg.DagsterInstance, symbols: set[str]) -> None:
    """Replace the retired set."""
    current = retired_symbols(instance)
    for symbol in sorted(current - symbols):
        instance.delete_dynamic_partition(RETIRED, symbol)
    if symbols - current:
        instance.add_dynamic_partitions(RETIRED, sorted(symbols - current))


def active_symbols(instance: dg.DagsterInstance) -> list[str]:
    """Registered symbols that are not retired, in registration order."""
    retired = retired_symbols(instance)
    return [s for s in instance.get_dynamic_partitions(SYMBOLS) if s not in retired]
