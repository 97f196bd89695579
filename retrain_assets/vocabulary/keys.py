"""Partition keys and run keys: the one place that builds and parses them."""

import dagster as dg

from retrain_assets.vocabulary.tags import DATE_TAG, PARTITION_TAG, SYMBOL_TAG

# Dagster joins a multi-partition key's dimension keys with `|`, in dimension-name order
# (`date` < `symbol`), so a symbol-day's key reads `2026-01-31|BTCUSDT`. This module is the one
# place that builds or reads that form; everything else calls the functions below.
_SEPARATOR = "|"


def partition_key(date: str, symbol: str) -> dg.MultiPartitionKey:
    """The key of one symbol-day as Dagster's own type (for `materialize`, `RunRequest`, ...)."""
    return dg.MultiPartitionKey({"date": date, "symbol": symbol})


def symbol_day_key(date: str, symbol: str) -> str:
    """The `date|symbol` key of one symbol-day as a plain string, equal to `partition_key`'s.

    For record lookups, JSON and tags; about 60 times cheaper to build than a
    `MultiPartitionKey`, which matters when a read spans many dates and symbols.
    """
    return f"{date}{_SEPARATOR}{symbol}"


def split_partition_key(key: str | dg.MultiPartitionKey) -> tuple[str, str]:
    """(date, symbol) of a symbol-day's key, a `MultiPartitionKey` or its `date|symbol` string."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return dims["date"], dims["symbol"]
    date, _, symbol = str(key).partition(_SEPARATOR)
    return date, symbol


def is_symbol_day_key(key: str) -> bool:
    """Whether `key` is a symbol-day's (`date|symbol`) rather than a date's (`date`)."""
    return _SEPARATOR in key


def key_file_stem(key: str) -> str:
    """A symbol-day's key as a file-name part (`2026-01-31_BTCUSDT`), e.g. for its lock file."""
    return str(key).replace(_SEPARATOR, "_")


def run_key(*parts: str) -> str:
    """A run request's key: its parts joined as a partition key's dimensions are.

    Dagster launches one run per run key, so a key names what makes a request unique: a
    scheduled symbol-day's is `date|symbol|tick`, a summary's `summary|<invocation>|date`.
    """
    return _SEPARATOR.join(parts)


def partition_tags(date: str, symbol: str) -> dict[str, str]:
    """The tags Dagster puts on a run of one symbol-day: its key and each dimension's."""
    return {PARTITION_TAG: symbol_day_key(date, symbol), DATE_TAG: date, SYMBOL_TAG: symbol}
