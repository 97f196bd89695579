"""A `BarSource` over a folder of candle files, such as freqtrade's download folder."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from retrain_assets.core.data.bars import BARS_COLUMNS, BarsReport, to_utc_timestamps, validate_bars
from retrain_assets.core.data.market_data import slice_window
from retrain_assets.core.data.symbols import normalize_symbol
from retrain_assets.core.errors import DataSourceError, InvalidSymbolError

# When one symbol has several files, the first format in this order wins.
_FORMATS = ("feather", "parquet", "json", "csv")
_TIMESTAMP_NAMES = ("timestamp", "date", "datetime", "time", "open_time", "opentime", "ts")
_PAIR_FILE = re.compile(r"^([A-Za-z0-9]+)_([A-Za-z0-9]+)-(\w+)\.(\w+)$")
_SYMBOL_FILE = re.compile(r"^([A-Za-z0-9]+)\.(\w+)$")
_DETAIL_CHARS = 300


def _read_json(path: Path) -> pd.DataFrame:
    rows = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(rows, dict):  # pandas "columns" orient, as older freqtrade versions wrote
        return pd.DataFrame(rows)
    if not rows:
        return pd.DataFrame(columns=BARS_COLUMNS)
    try:
        values = np.asarray(rows, dtype="float64")[:, :6]
    except ValueError:  # rows of uneven length: keep the first six fields of each
        values = np.asarray([row[:6] for row in rows], dtype="float64")
    return pd.DataFrame(values, columns=BARS_COLUMNS)


_READERS = {
    "feather": pd.read_feather,
    "parquet": pd.read_parquet,
    "json": _read_json,
    "csv": pd.read_csv,
}


def _standardise(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    if "timestamp" not in frame.columns:
        found = next((name for name in _TIMESTAMP_NAMES if name in frame.columns), None)
        if found is None:
            raise DataSourceError(f"{path}: no timestamp column (columns: {list(frame.columns)})")
        frame = frame.rename(columns={found: "timestamp"})
    frame["timestamp"] = to_utc_timestamps(frame["timestamp"])
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


class FileSource:
    """Reads 1h candles per symbol from a folder.

    File names may be freqtrade's `<BASE>_<QUOTE>-<tf>.json|feather|parquet|csv` (JSON as
    `[[ms, open, high, low, close, volume], ...]`) or `<SYMBOL>.parquet|csv|feather|json`.
    Tables need a timestamp column (timestamp, date, open_time, ...) and open/high/low/close/volume.
    Parsed files are cached until their modification time or size changes.

    Args:
        root: The folder.
        timeframe: The freqtrade timeframe in file names, such as "1h".
    """

    name = "files"

    def __init__(self, root: Path, timeframe: str = "1h") -> None:
        self.root = Path(root)
        self.timeframe = timeframe
        self.bar_length = pd.Timedelta(timeframe)
        self._index: tuple[int, dict[str, Path]] | None = None
        self._frames: dict[Path, tuple[tuple[int, int], pd.DataFrame]] = {}

    @property
    def identity(self) -> str:
        """`files <resolved folder>`, plus the timeframe when it is not 1h."""
        text = f"files {self.root.resolve()}"
        return text if self.timeframe == "1h" else f"{text} timeframe {self.timeframe}"

    def _symbol_of(self, name: str) -> tuple[str, str] | None:
        pair = _PAIR_FILE.match(name)
        if pair:
            base, quote, timeframe, ext = pair.groups()
            return (base + quote, ext.lower()) if timeframe == self.timeframe else None
        plain = _SYMBOL_FILE.match(name)
        return (plain.group(1), plain.group(2).lower()) if plain else None

    def _files(self) -> dict[str, Path]:
        folder = str(self.root)
        try:
            stamp = self.root.stat().st_mtime_ns
        except OSError:
            raise DataSourceError(f"market-data folder {folder!r} does not exist") from None
        if not self.root.is_dir():
            raise DataSourceError(f"market-data folder {folder!r} is not a folder")
        if self._index is not None and self._index[0] == stamp:
            return self._index[1]
        try:
            names = [path.name for path in self.root.iterdir()]
        except OSError as exc:
            raise DataSourceError(
                f"market-data folder {folder!r} cannot be listed: {exc.strerror or exc}"
            ) from None
        found: dict[str, tuple[int, Path]] = {}
        for path in (self.root / name for name in names):
            parsed = self._symbol_of(path.name)
            if parsed is None or parsed[1] not in _FORMATS:
                continue
            try:
                symbol = normalize_symbol(parsed[0])
            except InvalidSymbolError:
                continue
            rank = _FORMATS.index(parsed[1])
            if symbol not in found or rank < found[symbol][0]:
                found[symbol] = (rank, path)
        files = {symbol: path for symbol, (_, path) in sorted(found.items())}
        self._index = (stamp, files)
        return files

    def candidates(self) -> list[str]:
        """Returns the symbols with a candle file in the folder, sorted."""
        return list(self._files())

    def has_symbol(self, symbol: str) -> bool:
        """Whether the folder has a candle file for `symbol` that reads as its format.

        Raises:
            DataSourceError: The folder is unusable, or the symbol's file cannot be read.
        """
        path = self._files().get(symbol)
        if path is None:
            return False
        self._frame(path)
        return True

    def _path(self, symbol: str) -> Path:
        files = self._files()
        if symbol in files:
            return files[symbol]
        sample = ", ".join(list(files)[:5]) or "none"
        raise DataSourceError(
            f"{symbol}: no {self.timeframe} candle file in {self.root} "
            f"({len(files)} symbols available, e.g. {sample})"
        )

    def _frame(self, path: Path) -> pd.DataFrame:
        try:
            stat = path.stat()
        except OSError as exc:
            raise DataSourceError(f"{path}: cannot read candles: {exc.strerror}") from None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._frames.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        reader = _READERS[path.suffix.lstrip(".").lower()]
        try:
            frame = _standardise(reader(path), path)
        except DataSourceError:
            raise
        except OSError as exc:
            raise DataSourceError(f"{path}: cannot read candles: {exc.strerror or exc}") from None
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            detail = " ".join(str(exc).split())[:_DETAIL_CHARS]  # one line, whatever the reader
            raise DataSourceError(f"{path}: cannot read candles: {detail}") from None
        self._frames[path] = (key, frame)
        return frame

    def load(
        self, symbol: str, end: pd.Timestamp, lookback: pd.Timedelta
    ) -> tuple[pd.DataFrame, BarsReport]:
        """Returns the bars with `end - lookback <= timestamp < end`; see `BarSource.load`.

        Raises:
            DataSourceError: The folder or the symbol's file is missing or unreadable.
        """
        symbol = normalize_symbol(symbol)
        frame = self._frame(self._path(symbol))
        return validate_bars(slice_window(frame, end, lookback), symbol, self.bar_length)
