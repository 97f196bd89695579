"""Validation of OHLCV bars into clean, sorted UTC frames, with a report of what was dropped."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retrain_assets.core.errors import DataSourceError

BARS_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume"]
PRICE_COLUMNS = ["open", "high", "low", "close"]
TIMESTAMP_DTYPE = "datetime64[ns, UTC]"
ONE_HOUR = pd.Timedelta("1h")

# Epoch numbers are read by magnitude: below 1e11 they are seconds (1e11 s is the year 5138),
# below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))


@dataclass(frozen=True)
class BrokenPriceBar:
    """A bar the source sent with a price that cannot be real, dropped by validation.

    Attributes:
        timestamp: The bar's open time.
        fault: What was wrong, such as `"NaN open/close"` or `"non-positive low"`.
    """

    timestamp: pd.Timestamp
    fault: str


@dataclass(frozen=True)
class BarsReport:
    """What `validate_bars` kept and dropped for one symbol.

    `gaps` counts missing bar slots and `longest_gap` the most in a row; of the dropped
    duplicates, `conflicting_duplicates` counts the timestamps whose rows disagree on a value
    (an exact repeat is harmless, a disagreement means the source is unsure of the bar).
    `broken_price_bars` are the dropped rows whose price was NaN, infinite or not positive
    and whose hour has no valid bar: validation turns them into a gap, but unlike a missing
    bar they mean the feed itself is broken, so the data checks must see them.
    """

    symbol: str
    rows: int
    dropped_invalid: int
    dropped_duplicates: int
    gaps: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    conflicting_duplicates: int = 0
    longest_gap: int = 0
    broken_price_bars: tuple[BrokenPriceBar, ...] = ()


def empty_bars() -> pd.DataFrame:
    """Returns a frame with no rows and the exact dtypes of validated bars."""
    frame = pd.DataFrame({col: pd.Series(dtype="float64") for col in BARS_COLUMNS})
    frame["timestamp"] = frame["timestamp"].astype(TIMESTAMP_DTYPE)
    return frame


def to_utc_timestamps(values: pd.Series) -> pd.Series:
    """Converts epoch numbers, strings or naive/aware datetimes to `datetime64[ns, UTC]`.

    Naive datetimes are read as UTC. Unparsable values become NaT.

    Args:
        values: The raw timestamp column.

    Returns:
        The timestamps as a UTC series with the same index.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is None:
            values = values.dt.tz_localize("UTC")
        return values.dt.tz_convert("UTC").astype(TIMESTAMP_DTYPE)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == values.notna().sum() and not pd.api.types.is_bool_dtype(values):
        numbers = numbers.astype("float64")
        magnitude = float(np.nanmax(np.abs(numbers))) if numbers.notna().any() else 0.0
        unit = next((u for limit, u in _EPOCH_UNITS if magnitude < limit), "ns")
        return pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce").astype(TIMESTAMP_DTYPE)
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().sum() > values.isna().sum():
        # Slower element-wise parsing only for text that is not ISO 8601.
        parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    return parsed.astype(TIMESTAMP_DTYPE)


def _select_columns(raw: pd.DataFrame, symbol: str) -> pd.DataFrame:
    frame = raw.rename(columns=lambda c: str(c).strip().lower())
    for column in BARS_COLUMNS:
        if column not in frame.columns:
            raise DataSourceError(
                f"{symbol}: bars have no {column!r} column (columns: {list(frame.columns)})"
            )
    return frame.loc[:, BARS_COLUMNS]


def _coerce(frame: pd.DataFrame) -> pd.DataFrame:
    data = {"timestamp": to_utc_timestamps(frame["timestamp"])}
    for column in BARS_COLUMNS[1:]:
        data[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return pd.DataFrame(data, index=frame.index)


def _valid_mask(frame: pd.DataFrame) -> np.ndarray:
    prices = frame[PRICE_COLUMNS].to_numpy()
    volume = frame["volume"].to_numpy()
    ok = np.isfinite(prices).all(axis=1) & (prices > 0).all(axis=1)
    ok &= np.isfinite(volume) & (volume >= 0)
    ok &= frame["high"].to_numpy() >= frame["low"].to_numpy()
    return ok & frame["timestamp"].notna().to_numpy()


# Each kind of impossible price, tested on finite values apart from NaN and infinities so
# that a value has exactly one fault.
_PRICE_FAULTS = (
    ("NaN", np.isnan),
    ("infinite", np.isinf),
    ("non-positive", lambda v: np.isfinite(v) & (v <= 0)),
)


def _price_fault(prices: np.ndarray) -> str:
    """What is wrong with one row's open, high, low, close: `"NaN open/close"`, ..."""
    parts = []
    for kind, test in _PRICE_FAULTS:
        bad = test(prices)
        if bad.any():
            parts.append(f"{kind} " + "/".join(np.asarray(PRICE_COLUMNS)[bad]))
    return ", ".join(parts)


def broken_price_bars(frame: pd.DataFrame, kept: pd.Series) -> tuple[BrokenPriceBar, ...]:
    """The rows with an impossible price whose hour has no valid bar, in time order.

    Args:
        frame: Coerced bars (numeric prices, UTC timestamps), before any row is dropped.
        kept: The timestamps of the bars validation kept.

    Returns:
        One `BrokenPriceBar` per such hour (its last row, as duplicates keep the last).
    """
    prices = frame[PRICE_COLUMNS].to_numpy()
    broken = ~(np.isfinite(prices) & (prices > 0)).all(axis=1)
    broken &= frame["timestamp"].notna().to_numpy() & ~frame["timestamp"].isin(kept).to_numpy()
    rows = frame.loc[broken].sort_values("timestamp", kind="stable")
    rows = rows.drop_duplicates("timestamp", keep="last")
    return tuple(
        BrokenPriceBar(pd.Timestamp(ts), _price_fault(values))
        for ts, values in zip(rows["timestamp"], rows[PRICE_COLUMNS].to_numpy(), strict=True)
    )


def missing_runs(timestamps: pd.Series, timeframe: pd.Timedelta) -> np.ndarray:
    """Counts the missing bar slots after each sorted timestamp but the last.

    Args:
        timestamps: Sorted, unique timestamps.
        timeframe: The length of one bar.

    Returns:
        One count per consecutive pair of timestamps (0 where no bar is missing).
    """
    if len(timestamps) < 2:
        return np.zeros(0, dtype="int64")
    steps = np.diff(timestamps.astype(TIMESTAMP_DTYPE).astype("int64").to_numpy())
    return np.maximum(steps // timeframe.value - 1, 0)


def count_conflicting_duplicates(bars: pd.DataFrame) -> int:
    """Counts the timestamps that appear more than once with different values.

    Args:
        bars: Bars with the columns of `BARS_COLUMNS`, in any order.

    Returns:
        The number of timestamps whose rows disagree on a price or the volume.
    """
    repeated = bars.loc[bars["timestamp"].duplicated(keep=False)]
    if repeated.empty:
        return 0
    distinct = repeated.groupby("timestamp")[BARS_COLUMNS[1:]].nunique()
    return int((distinct > 1).any(axis=1).sum())


def validate_bars(
    raw: pd.DataFrame, symbol: str, timeframe: pd.Timedelta = ONE_HOUR
) -> tuple[pd.DataFrame, BarsReport]:
    """Cleans raw OHLCV bars into sorted, unique, finite UTC bars.

    Rows with NaN, infinite or non-positive prices, NaN or negative volume, high below low or an
    unreadable timestamp are dropped as invalid; the report names the hours lost to impossible
    prices. Of rows sharing a timestamp, the last one wins; the report counts the timestamps
    whose rows disagree.

    Args:
        raw: Bars with at least the columns of `BARS_COLUMNS` (any case); timestamps as epoch
            milliseconds, strings or naive (read as UTC) or aware datetimes.
        symbol: The symbol, for messages and the report.
        timeframe: The length of one bar, to count gaps.

    Returns:
        The bars (exactly `BARS_COLUMNS`, RangeIndex) and a `BarsReport`.

    Raises:
        DataSourceError: A required column is missing.
    """
    frame = _coerce(_select_columns(raw, symbol))
    valid = frame.loc[_valid_mask(frame)]
    ordered = valid.sort_values("timestamp", kind="stable")
    bars = ordered.drop_duplicates("timestamp", keep="last").reset_index(drop=True)
    runs = missing_runs(bars["timestamp"], timeframe)
    report = BarsReport(
        symbol=symbol,
        rows=len(bars),
        dropped_invalid=len(frame) - len(valid),
        dropped_duplicates=len(valid) - len(bars),
        gaps=int(runs.sum()),
        first=bars["timestamp"].iloc[0] if len(bars) else None,
        last=bars["timestamp"].iloc[-1] if len(bars) else None,
        conflicting_duplicates=count_conflicting_duplicates(valid),
        longest_gap=int(runs.max()) if len(runs) else 0,
        broken_price_bars=broken_price_bars(frame, bars["timestamp"]),
    )
    return bars, report
