"""Figures of the symbol-day assets as text, and the one way to read them back.

Dagster's UI plots every int and float metadata entry of a partitioned asset across all its
partitions on one line (an asset's Plots tab), and a check's numeric metadata over its
evaluations (a check's Plots). The symbol-day assets are partitioned by date x symbol, so each
such chart would draw every symbol on one line, which means nothing. Their figures are
therefore recorded as text that reads the same (`412`, `-3.1416`); the per-date assets
(`engine_summary`, `walk_forward_report`) keep numbers, one point per date.

Records written before this change hold numbers, newer ones text: every reader of a figure
goes through `figure` or `whole`, which accept either.
"""

import math
from collections.abc import Mapping
from decimal import Decimal
from numbers import Integral, Real
from typing import Any

import dagster as dg

_DECIMALS = 4  # the places a figure keeps (bps to 1/10,000, seconds to 0.1 ms)
_SMALL = 1e-2  # below this a figure keeps significant digits instead of places


def unplotted(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """`metadata` with each int and float (a MetadataValue or a raw number) as text that reads
    the same; every other kind (text, bool, JSON, markdown, paths, None) untouched.

    Args:
        metadata: Metadata as an asset or check would record it.

    Returns:
        The same keys, in the same order, with no value Dagster would plot.
    """
    return {key: _unplotted(value) for key, value in metadata.items()}


def figure(value: Any) -> float | None:
    """The number a figure holds: from a number (older records) or its text (newer ones).

    Args:
        value: A metadata value, or the raw value of one (`MetadataValue.value`).

    Returns:
        The number; None for None, a bool or anything that is not a number or its text.
    """
    raw = value.value if isinstance(value, dg.MetadataValue) else value
    if isinstance(raw, bool):
        return None
    if isinstance(raw, Real):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def whole(value: Any) -> int | None:
    """The whole number a count holds (trades, rows, pending uploads), from a number or its
    text; None where `figure` finds none or the number is not whole."""
    raw = value.value if isinstance(value, dg.MetadataValue) else value
    if isinstance(raw, str) and raw.strip().lstrip("+-").isdigit():
        return int(raw)  # exact, however large
    found = figure(raw)
    if found is None or not found.is_integer():
        return None
    return int(found)


def _unplotted(value: Any) -> Any:
    raw = value.value if isinstance(value, dg.IntMetadataValue | dg.FloatMetadataValue) else value
    if value is not raw and raw is None:  # a numeric entry holding None
        return dg.MetadataValue.null()
    if isinstance(raw, bool) or not isinstance(raw, Real):
        return value
    if isinstance(raw, Integral):
        return dg.MetadataValue.text(str(int(raw)))
    return dg.MetadataValue.text(_decimal(float(raw)))


def _decimal(x: float) -> str:
    """`x` in positional notation: 4 decimal places, or 4 significant digits below 0.01."""
    if not math.isfinite(x):
        return str(x)  # nan, inf, -inf: float() reads them back
    shown = round(x, _DECIMALS) if x == 0 or abs(x) >= _SMALL else float(f"{x:.4g}")
    return format(Decimal(repr(shown)), "f")
