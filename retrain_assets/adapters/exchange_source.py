"""A `BarSource` over an exchange's public OHLCV endpoint, through ccxt (no API key)."""

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt
import pandas as pd

from retrain_assets.core.data.bars import BARS_COLUMNS, BarsReport, validate_bars
from retrain_assets.core.data.market_data import window_bounds
from retrain_assets.core.data.symbols import normalize_symbol
from retrain_assets.core.errors import DataSourceError, InvalidSymbolError, TransientError

T = TypeVar("T")
PAGE_LIMIT = 1000
MAX_CANDIDATES = 500
_MESSAGE_CHARS = 300
# Binance's load_markets also asks the futures hosts unless told to load spot markets only.
_SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}, "defaultType": "spot"}


def _host_of(urls: dict[str, str] | None) -> str | None:
    """`scheme://host:port` of the first overriding URL, without user info or path."""
    for url in (urls or {}).values():
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]  # never user:password@
        if host:
            return f"{parts.scheme}://{host}"
    return None


class ExchangeSource:
    """Fetches 1h candles from an exchange's public API via ccxt.

    Args:
        exchange_id: A ccxt exchange id, such as "binance".
        urls_override: Replaces entries of the exchange's `urls["api"]` (for a local fake).
        quote: The quote currency that symbols end with, such as "USDT".
        timeout_ms: The timeout of each HTTP request.
    """

    name = "exchange"

    def __init__(
        self,
        exchange_id: str = "binance",
        urls_override: dict[str, str] | None = None,
        quote: str = "USDT",
        timeout_ms: int = 10_000,
    ) -> None:
        if exchange_id not in ccxt.exchanges:
            raise DataSourceError(f"unknown ccxt exchange {exchange_id!r}")
        self.exchange_id = exchange_id
        self.quote = quote.upper()
        config: dict[str, Any] = {"enableRateLimit": True, "timeout": timeout_ms}
        if exchange_id.startswith("binance"):
            config["options"] = dict(_SPOT_ONLY)
        self.exchange = getattr(ccxt, exchange_id)(config)
        self._override_host = _host_of(urls_override)
        if urls_override:
            api = self.exchange.urls.get("api")
            if isinstance(api, dict):
                api.update(urls_override)
            else:
                self.exchange.urls["api"] = dict(urls_override)

    @property
    def identity(self) -> str:
        """`exchange <ccxt id>`, plus the quote when not USDT and the API host when overridden
        (scheme, host and port only: never a key, a path or credentials in a URL)."""
        text = f"exchange {self.exchange_id}"
        if self.quote != "USDT":
            text += f" quote {self.quote}"
        return f"{text} at {self._override_host}" if self._override_host else text

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """Runs a ccxt call, turning its errors into this project's errors."""
        try:
            return call()
        except ccxt.NetworkError as exc:
            detail = str(exc)[:_MESSAGE_CHARS]
            raise TransientError(
                f"{self.exchange_id}: {what} failed, network: {type(exc).__name__}: {detail}"
            ) from None
        except ccxt.BaseError as exc:
            detail = str(exc)[:_MESSAGE_CHARS]
            raise DataSourceError(
                f"{self.exchange_id}: {what} failed: {type(exc).__name__}: {detail}"
            ) from None

    def _markets(self) -> dict[str, dict[str, Any]]:
        return self._call("loading markets", self.exchange.load_markets)

    def candidates(self) -> list[str]:
        """Returns the active spot markets quoted in `quote`, normalised, sorted, capped."""
        symbols = set()
        for market in self._markets().values():
            if market.get("spot") and market.get("active") and market.get("quote") == self.quote:
                try:
                    symbols.add(normalize_symbol(f"{market['base']}{market['quote']}"))
                except InvalidSymbolError:
                    continue
        return sorted(symbols)[:MAX_CANDIDATES]

    def has_symbol(self, symbol: str) -> bool:
        """Whether `symbol` is an active spot market in the quote currency (as `candidates`).

        Raises:
            DataSourceError: The exchange rejected the request for its markets.
            TransientError: The exchange could not be reached.
        """
        try:
            market = self.market_symbol(symbol)
        except (DataSourceError, InvalidSymbolError):
            return False
        info = self._markets().get(market) or {}
        return bool(info.get("spot") and info.get("active"))

    def market_symbol(self, symbol: str) -> str:
        """Turns BTCUSDT into ccxt's "BTC/USDT" using the quote currency.

        Raises:
            DataSourceError: The symbol does not end with the quote currency.
        """
        symbol = normalize_symbol(symbol)
        base = symbol.removesuffix(self.quote)
        if base == symbol or not base:
            raise DataSourceError(f"{symbol}: not a {self.quote}-quoted symbol")
        return f"{base}/{self.quote}"

    def _fetch(self, market: str, start_ms: int, end_ms: int) -> list[list[float]]:
        rows: list[list[float]] = []
        since = start_ms
        while since < end_ms:
            page = self._call(
                f"fetching {market} candles",
                lambda since=since: self.exchange.fetch_ohlcv(market, "1h", since, PAGE_LIMIT),
            )
            if not page or page[-1][0] < since:
                break
            rows.extend(page)
            since = int(page[-1][0]) + 1
        return rows

    def load(
        self, symbol: str, end: pd.Timestamp, lookback: pd.Timedelta
    ) -> tuple[pd.DataFrame, BarsReport]:
        """Returns the bars with `end - lookback <= timestamp < end`; see `BarSource.load`.

        Raises:
            DataSourceError: The symbol is not listed, or the exchange rejected the request.
            TransientError: The exchange could not be reached.
        """
        symbol = normalize_symbol(symbol)
        market = self.market_symbol(symbol)
        if market not in self._markets():
            raise DataSourceError(f"{symbol}: {market} is not listed on {self.exchange_id}")
        start, stop = window_bounds(end, lookback)
        start_ms, end_ms = start.value // 1_000_000, stop.value // 1_000_000
        rows = [row[:6] for row in self._fetch(market, start_ms, end_ms) if row[0] < end_ms]
        frame = pd.DataFrame(rows, columns=BARS_COLUMNS)
        frame = frame[frame["timestamp"] >= start_ms]
        return validate_bars(frame, symbol)
