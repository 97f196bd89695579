"""A symbol's own trading fees, read from the exchange's signed API through ccxt.

Needs an API key; read-only permissions suffice (Binance spot answers from
`GET /sapi/v1/asset/tradeFee`). Error messages never carry the key, the secret or the signed
query string: ccxt puts request URLs into its exceptions, so those are cut and redacted here.
"""

import re
from typing import Any
from urllib.parse import urlsplit

import ccxt

from retrain_assets.core.data.symbols import normalize_symbol
from retrain_assets.core.errors import DataSourceError, TransientError
from retrain_assets.core.redaction import redact

_MESSAGE_CHARS = 300
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# The signed query (timestamp, recvWindow, signature) says nothing useful in a message.
_QUERY = re.compile(r"\?\S*")
# Binance's load_markets also asks the futures hosts unless told to load spot markets only, and
# with credentials it would also ask the private currencies and margin-pairs endpoints, which
# fees do not need and which a read-only key may not be allowed to call.
_BINANCE_OPTIONS = {
    "fetchMarkets": {"types": ["spot"]},
    "defaultType": "spot",
    "fetchCurrencies": False,
    "fetchMargins": False,
}


def _exchange(
    exchange_id: str,
    api_key: str,
    secret: str,
    urls_override: dict[str, str] | None,
    timeout_ms: int,
) -> ccxt.Exchange:
    if exchange_id not in ccxt.exchanges:
        raise DataSourceError(f"unknown ccxt exchange {exchange_id!r}")
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": timeout_ms,
        "apiKey": api_key,
        "secret": secret,
    }
    if exchange_id.startswith("binance"):
        config["options"] = dict(_BINANCE_OPTIONS)
    exchange = getattr(ccxt, exchange_id)(config)
    if urls_override:
        api = exchange.urls.get("api")
        if isinstance(api, dict):
            api.update(urls_override)
        else:
            exchange.urls["api"] = dict(urls_override)
    return exchange


def safe_message(exc: BaseException, secrets: list[str]) -> str:
    """`Type: message` of an exception, without query strings or secrets, at most 300 chars.

    Args:
        exc: The exception to describe.
        secrets: Values that must not appear (API key, secret).

    Returns:
        A short message fit for logs and metadata.
    """
    text = redact(_QUERY.sub("?…", str(exc)), secrets)
    return redact(f"{type(exc).__name__}: {text}"[:_MESSAGE_CHARS], secrets)


def loopback_api_urls(exchange_id: str, api_url: str) -> dict[str, str]:
    """Maps every entry of the exchange's ccxt `urls["api"]` onto `api_url`, keeping the paths.

    For tests against a local fake: all entries move, so that no signed request can leave.

    Raises:
        DataSourceError: `api_url` is not `http://` on a loopback address (keys would travel).
    """
    parts = urlsplit(api_url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise DataSourceError("exchange API override must be http://127.0.0.1:PORT (tests only)")
    if exchange_id not in ccxt.exchanges:
        raise DataSourceError(f"unknown ccxt exchange {exchange_id!r}")
    api = getattr(ccxt, exchange_id)().urls.get("api")
    entries = api.items() if isinstance(api, dict) else [("public", str(api))]
    base = f"http://{parts.netloc}"
    return {key: base + urlsplit(url).path for key, url in entries if isinstance(url, str)}


def market_symbol(symbol: str, quote: str) -> str:
    """Turns BTCUSDT into ccxt's "BTC/USDT" using the quote currency.

    Raises:
        DataSourceError: The symbol does not end with the quote currency.
    """
    symbol, quote = normalize_symbol(symbol), quote.upper()
    base = symbol.removesuffix(quote)
    if base == symbol or not base:
        raise DataSourceError(f"{symbol}: not a {quote}-quoted symbol")
    return f"{base}/{quote}"


def fetch_exchange_fees(
    exchange_id: str,
    symbol: str,
    api_key: str,
    secret: str,
    quote: str = "USDT",
    urls_override: dict[str, str] | None = None,
    timeout_ms: int = 10_000,
) -> tuple[float, float]:
    """Fetches the account's `(taker_bps, maker_bps)` for one spot symbol.

    Args:
        exchange_id: A ccxt exchange id, such as "binance".
        symbol: The symbol, such as "BTCUSDT" (normalised like everywhere else).
        api_key: The exchange API key (read-only permissions suffice).
        secret: The API secret.
        quote: The quote currency that symbols end with.
        urls_override: Replaces entries of the exchange's `urls["api"]` (for a local fake).
        timeout_ms: The timeout of each HTTP request.

    Returns:
        The taker and maker fees in basis points.

    Raises:
        DataSourceError: Bad credentials, an unlisted symbol or an unusable answer.
        TransientError: The exchange could not be reached.
    """
    if not api_key or not secret:
        raise DataSourceError(f"{exchange_id}: fetching fees needs an API key and secret")
    secrets = [api_key, secret]
    market = market_symbol(symbol, quote)
    exchange = _exchange(exchange_id, api_key, secret, urls_override, timeout_ms)
    try:
        fee = exchange.fetch_trading_fee(market)
    except ccxt.NetworkError as exc:
        raise TransientError(
            f"{exchange_id}: fetching {market} fees failed, network: {safe_message(exc, secrets)}"
        ) from None
    except ccxt.BaseError as exc:
        raise DataSourceError(
            f"{exchange_id}: fetching {market} fees failed: {safe_message(exc, secrets)}"
        ) from None
    taker, maker = fee.get("taker"), fee.get("maker")
    if not isinstance(taker, int | float) or not isinstance(maker, int | float):
        raise DataSourceError(f"{exchange_id}: no {market} fee rates in the answer")
    return round(float(taker) * 1e4, 6), round(float(maker) * 1e4, 6)
