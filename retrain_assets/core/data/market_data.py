"""The market-data seam: what every bar source offers, and point-in-time symbol ranking."""

import math
from typing import Protocol, runtime_checkable

import pandas as pd

from retrain_assets.core.data.bars import BarsReport
from retrain_assets.core.errors import DataSourceError


@runtime_checkable
class BarSource(Protocol):
    """A source of validated 1h OHLCV bars per symbol.

    `name` is the kind of source ("synthetic", "files", "exchange"); `identity` names exactly
    which data it serves (a seed, a resolved folder, an exchange id), for provenance. Neither
    ever holds a secret.
    """

    name: str
    identity: str

    def load(
        self, symbol: str, end: pd.Timestamp, lookback: pd.Timedelta
    ) -> tuple[pd.DataFrame, BarsReport]:
        """Loads validated bars with `end - lookback <= timestamp < end` (UTC, end exclusive).

        Args:
            symbol: A normalised symbol such as BTCUSDT.
            end: The exclusive end; a naive timestamp is read as UTC.
            lookback: How far back from `end` to load.

        Returns:
            The bars (see `validate_bars`) and their report.
        """
        ...

    def candidates(self) -> list[str]:
        """Returns the normalised symbols this source can serve, sorted."""
        ...

    def has_symbol(self, symbol: str) -> bool:
        """Whether this source serves `symbol` (a normalised symbol such as BTCUSDT).

        Raises:
            DataSourceError: The source has the symbol but cannot serve it (an unreadable
                file), or cannot tell (its folder is gone).
            TransientError: The source could not be reached.
        """
        ...


def utc_timestamp(value: pd.Timestamp | str) -> pd.Timestamp:
    """Returns `value` as an aware UTC timestamp; a naive one is read as UTC.

    Args:
        value: A timestamp or anything `pd.Timestamp` parses.

    Returns:
        The timestamp in UTC.
    """
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        return stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC")


def window_bounds(end: pd.Timestamp, lookback: pd.Timedelta) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Returns the inclusive start and exclusive end of a load window, both UTC.

    Args:
        end: The exclusive end.
        lookback: The window length; must not be negative.

    Returns:
        `(end - lookback, end)` in UTC.

    Raises:
        DataSourceError: `lookback` is negative.
    """
    if lookback < pd.Timedelta(0):
        raise DataSourceError(f"lookback must not be negative, got {lookback}")
    stop = utc_timestamp(end)
    return stop - lookback, stop


def slice_window(frame: pd.DataFrame, end: pd.Timestamp, lookback: pd.Timedelta) -> pd.DataFrame:
    """Keeps the rows with `end - lookback <= timestamp < end`.

    Args:
        frame: Rows with a UTC `timestamp` column.
        end: The exclusive end.
        lookback: The window length.

    Returns:
        The matching rows, index reset.
    """
    start, stop = window_bounds(end, lookback)
    stamps = frame["timestamp"]
    return frame.loc[(stamps >= start) & (stamps < stop)].reset_index(drop=True)


def quote_volume_ranking(
    source: BarSource, as_of_end: pd.Timestamp, n: int, window_days: int = 30
) -> list[str]:
    """Ranks a source's candidates by traded quote volume before a point in time.

    Only bars in `[as_of_end - window_days, as_of_end)` count, so a past day is never ranked
    with volume from its future. Symbols with no bars or no volume in the window are skipped;
    equal volumes are ordered by symbol.

    Args:
        source: Where candidates and bars come from.
        as_of_end: The exclusive end of the window.
        n: How many symbols to return at most.
        window_days: The window length in days.

    Returns:
        Up to `n` symbols, highest sum of close × volume first.
    """
    lookback = pd.Timedelta(days=window_days)
    scored: list[tuple[float, str]] = []
    for symbol in source.candidates():
        try:
            bars, _ = source.load(symbol, as_of_end, lookback)
        except DataSourceError:
            continue
        volume = float((bars["close"] * bars["volume"]).sum())
        if len(bars) and math.isfinite(volume) and volume > 0:
            scored.append((-volume, symbol))
    scored.sort()
    return [symbol for _, symbol in scored[: max(n, 0)]]
