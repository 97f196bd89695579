"""Symbol names and symbol selections (`top20`, a CSV file, or a comma-separated list)."""

import codecs
import csv
import difflib
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from retrain_assets.core.data.market_data import BarSource, quote_volume_ranking
from retrain_assets.core.errors import DataSourceError, InvalidSymbolError

SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,20}$")
MAX_TOP_N = 500

_PAIR_RE = re.compile(r"^([A-Z0-9]+)[/_-]([A-Z0-9]+)$")
_TOP_RE = re.compile(r"^top\s*([-+]?\d+)$", re.IGNORECASE)  # "top-1" is a bad N, not TOP1
# A first CSV row holding one of these words is a header, not a symbol.
_HEADER_NAMES = ("symbol", "pair", "ticker", "market", "coin")
_KNOWN_SHOWN = 5  # known symbols an error names as examples
_UNKNOWN_SHOWN = 10  # unknown symbols an error names before "and N more"


@dataclass(frozen=True)
class Selection:
    """A parsed symbol selection: the top N by quote volume, or a fixed list."""

    kind: Literal["top", "list"]
    top_n: int | None
    symbols: tuple[str, ...]
    source_text: str


def normalize_symbol(raw: object) -> str:
    """Turns `btc/usdt`, `BTC-USDT`, `BTC_USDT` or ` btcusdt ` into `BTCUSDT`.

    Args:
        raw: The symbol as a user or a file wrote it.

    Returns:
        The symbol: 2 to 20 upper-case letters and digits.

    Raises:
        InvalidSymbolError: `raw` is not a string or does not name a pair.
    """
    if not isinstance(raw, str):
        raise InvalidSymbolError(f"invalid symbol {raw!r}: expected text like BTCUSDT")
    text = raw.strip().upper()
    pair = _PAIR_RE.match(text)
    if pair:
        text = pair.group(1) + pair.group(2)
    if not SYMBOL_RE.match(text):
        raise InvalidSymbolError(
            f"invalid symbol {raw!r}: expected 2-20 letters and digits like BTCUSDT or BTC/USDT"
        )
    return text


def _dedupe(symbols: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(symbols))


def _parse_top(spec: str, match: re.Match[str]) -> Selection:
    n = int(match.group(1))
    if not 1 <= n <= MAX_TOP_N:
        raise InvalidSymbolError(f"invalid selection {spec!r}: top N needs 1 <= N <= {MAX_TOP_N}")
    return Selection(kind="top", top_n=n, symbols=(), source_text=spec)


def _csv_column(header: list[str]) -> int | None:
    names = [cell.strip().lower() for cell in header]
    if "symbol" in names:
        return names.index("symbol")
    if names and names[0] in _HEADER_NAMES:
        return 0
    return None


def _decoded(path: str, data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark.

    Raises:
        InvalidSymbolError: A byte is not UTF-8, named with its offset and line.
    """
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + len(data) - len(body)
        line = data[:offset].count(b"\n") + 1
        utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        hint = "it looks like UTF-16; " if utf16 else ""
        raise InvalidSymbolError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[offset]:02x} at offset "
            f"{offset}); {hint}save the file as UTF-8"
        ) from None


def _csv_rows(path: str, text: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows, each with the line it starts on; strict quoting, so a stray quote
    cannot silently join the lines after it into one symbol."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    read = 0  # lines consumed so far: the next row starts on the line after
    try:
        for row in reader:
            if any(row):
                rows.append((read + 1, row))
            read = reader.line_num
    except csv.Error as exc:
        raise InvalidSymbolError(f"{path}, line {read + 1}: not valid CSV: {exc}") from None
    return rows


def csv_symbols(path: str, data: bytes) -> list[str]:
    """The symbols of a symbol file's bytes; errors name `path` and the line."""
    rows = _csv_rows(path, _decoded(path, data))
    column = _csv_column(rows[0][1]) if rows else None
    if column is not None:
        rows = rows[1:]
    else:
        column = 0
    symbols = []
    for line, row in rows:
        cell = row[column] if column < len(row) else ""
        if not cell.strip():
            continue
        try:
            symbols.append(normalize_symbol(cell))
        except InvalidSymbolError as exc:
            raise InvalidSymbolError(f"{path}, line {line}: {exc}") from None
    return symbols


def parse_selection(spec: str, read_file: Callable[[str], bytes]) -> Selection:
    """Parses `topN`, a path to a `.csv` file of symbols, or a comma-separated list.

    A CSV file uses its `symbol` column, else its first column; blank lines are ignored.
    Symbols are normalised and de-duplicated in order.

    Args:
        spec: The selection as the user wrote it.
        read_file: The bytes of a file named by the selection (the domain reads no files:
            `adapters.symbol_files.read_symbol_file`).

    Returns:
        The selection.

    Raises:
        InvalidSymbolError: The selection is empty, N is out of range, a file is unreadable
            or a symbol is invalid (naming the file and line for CSV files).
    """
    text = spec.strip() if isinstance(spec, str) else ""
    if not text:
        raise InvalidSymbolError(f"empty symbol selection {spec!r}: use topN, a .csv file or A,B")
    top = _TOP_RE.match(text)
    if top:
        return _parse_top(text, top)
    if text.lower().endswith(".csv"):
        symbols = csv_symbols(text, read_file(text))
    else:
        symbols = [normalize_symbol(part) for part in text.split(",") if part.strip()]
    if not symbols:
        raise InvalidSymbolError(f"symbol selection {spec!r} names no symbols")
    return Selection(kind="list", top_n=None, symbols=_dedupe(symbols), source_text=text)


def resolve_selection(
    selection: Selection, source: BarSource, as_of_end: pd.Timestamp
) -> list[str]:
    """Turns a selection into concrete symbols as of a point in time.

    Args:
        selection: The parsed selection.
        source: The bar source, for ranking `top` selections.
        as_of_end: The exclusive end of the ranking window.

    Returns:
        The symbols, in ranking order for `top` and as written for `list`.
    """
    if selection.kind == "top":
        return quote_volume_ranking(source, as_of_end, selection.top_n or 0)
    return list(selection.symbols)


def universe_as_of(date: str) -> pd.Timestamp:
    """The instant day `date`'s universe is ranked at: `date` 00:00 UTC.

    The one home of the point-in-time rule for selections: day D's ledger trades D's bars, so
    the symbols it trades are chosen from bars that closed before D began; D's own volume
    (a spike on D included) never decides whether a symbol is in D's universe.
    """
    return pd.Timestamp(date, tz="UTC")


def universe_for_day(selection: Selection, source: BarSource, date: str) -> list[str]:
    """The symbols of day `date`: the selection resolved as of `universe_as_of(date)`.

    Args:
        selection: The parsed selection.
        source: The bar source, for ranking `top` selections.
        date: The day, `YYYY-MM-DD` (UTC).

    Returns:
        As `resolve_selection` returns, ranked only on volume known at `date` 00:00 UTC.
    """
    return resolve_selection(selection, source, universe_as_of(date))


@dataclass(frozen=True)
class SymbolCheck:
    """Which of some symbols a bar source serves.

    Attributes:
        known: The symbols it serves, in the order given.
        unknown: The symbols it does not have.
        unreadable: Symbols it has but cannot serve (an unreadable file), with why.
    """

    known: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def refused(self) -> tuple[str, ...]:
        """Every symbol that is not known, unknown ones first."""
        return (*self.unknown, *self.unreadable)


def check_symbols(symbols: Sequence[str], source: BarSource) -> SymbolCheck:
    """Asks `source` about each symbol, before anything is registered or run.

    Args:
        symbols: Normalised symbols.
        source: The bar source the runs would load from.

    Returns:
        The known, unknown and unreadable symbols.

    Raises:
        TransientError: The source could not be reached.
    """
    known: list[str] = []
    unknown: list[str] = []
    unreadable: dict[str, str] = {}
    for symbol in symbols:
        try:
            (known if source.has_symbol(symbol) else unknown).append(symbol)
        except DataSourceError as exc:
            unreadable[symbol] = str(exc)
    return SymbolCheck(tuple(known), tuple(unknown), unreadable)


def describe_source(source: BarSource) -> str:
    """`the files source (/data/candles)`: the kind, then what its identity adds."""
    detail = source.identity.removeprefix(source.name).strip()
    return f"the {source.name} source ({detail})" if detail else f"the {source.name} source"


def unknown_symbols_message(unknown: Sequence[str], source: BarSource) -> str:
    """One line naming the unknown symbols, the source, some known symbols and close matches.

    Args:
        unknown: At least one symbol the source does not have.
        source: The source asked.
    """
    candidates = source.candidates()
    names = ", ".join(unknown[:_UNKNOWN_SHOWN])
    if len(unknown) > _UNKNOWN_SHOWN:
        names += f" and {len(unknown) - _UNKNOWN_SHOWN} more"
    verb = "is not a symbol" if len(unknown) == 1 else "are not symbols"
    shown = ", ".join(candidates[:_KNOWN_SHOWN])
    more = len(candidates) - _KNOWN_SHOWN
    known = f"{shown} and {more} more" if more > 0 else shown or "none"
    close = [m for s in unknown for m in difflib.get_close_matches(s, candidates, n=1)]
    hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
    return f"{names} {verb} of {describe_source(source)}; known: {known}{hint}"


def require_symbols(symbols: Sequence[str], source: BarSource) -> None:
    """Raises unless `source` serves every symbol; see `check_symbols`.

    Raises:
        InvalidSymbolError: Some symbols are unknown to the source (all are named).
        DataSourceError: A symbol's data cannot be read (the first such is named).
        TransientError: The source could not be reached.
    """
    checked = check_symbols(symbols, source)
    if checked.unknown:
        raise InvalidSymbolError(unknown_symbols_message(checked.unknown, source))
    if checked.unreadable:
        symbol, why = next(iter(checked.unreadable.items()))
        raise DataSourceError(f"{symbol}: {why}")
