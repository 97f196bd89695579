"""A local stand-in for Binance's spot API: ccxt's load_markets, klines and the signed
trade-fee endpoint."""

import json
import math
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import ccxt
import pytest
import urllib3

HOUR_MS = 3_600_000
MAX_LIMIT = 1000


@dataclass
class FakeBinanceState:
    """What the fake serves and what it was asked."""

    listed: dict[str, tuple[str, str]]  # market id -> (base, quote)
    first_ms: int
    last_ms: int  # open time of the last candle served (inclusive)
    delisted: set[str] = field(default_factory=set)
    fail_with_status: int | None = None
    requests: list[str] = field(default_factory=list)
    # Signed endpoints: the API key they accept and each market's (taker, maker) fee fractions.
    api_key: str | None = None
    fees: dict[str, tuple[str, str]] = field(default_factory=dict)
    default_fee: tuple[str, str] = ("0.001", "0.001")
    api_keys_seen: list[str] = field(default_factory=list)


def candle(market_id: str, open_ms: int) -> list[object]:
    """Returns the deterministic Binance kline row for a market and hour."""
    level = 100.0 + 10 * (len(market_id) % 5)
    price = level * (1 + 0.01 * math.sin(open_ms / HOUR_MS / 7))
    volume = 1000.0 if market_id.startswith("BTC") else 10.0
    return [
        open_ms, f"{price:.4f}", f"{price * 1.01:.4f}", f"{price * 0.99:.4f}", f"{price:.4f}",
        f"{volume:.2f}", open_ms + HOUR_MS - 1, "0", 1, "0", "0", "0",
    ]  # fmt: skip


def _exchange_info(state: FakeBinanceState) -> dict[str, object]:
    symbols = [
        {
            "symbol": market_id,
            "status": "BREAK" if market_id in state.delisted else "TRADING",
            "baseAsset": base,
            "quoteAsset": quote,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET"],
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [],
            "permissions": ["SPOT"],
        }
        for market_id, (base, quote) in state.listed.items()
    ]
    return {"timezone": "UTC", "serverTime": state.last_ms, "rateLimits": [], "symbols": symbols}


def _klines(state: FakeBinanceState, query: dict[str, list[str]]) -> tuple[int, object]:
    market_id = query.get("symbol", [""])[0]
    if market_id not in state.listed:
        return 400, {"code": -1121, "msg": "Invalid symbol."}
    limit = min(int(query.get("limit", ["500"])[0]), MAX_LIMIT)
    start = int(query.get("startTime", [str(state.first_ms)])[0])
    start = max(state.first_ms, -(-start // HOUR_MS) * HOUR_MS)
    end = int(query.get("endTime", [str(state.last_ms)])[0])
    stop = min(end, state.last_ms)
    opens = range(start, stop + 1, HOUR_MS)[:limit]
    return 200, [candle(market_id, open_ms) for open_ms in opens]


INVALID_KEY = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}


def _trade_fee(
    state: FakeBinanceState, query: dict[str, list[str]], api_key: str | None
) -> tuple[int, object]:
    """Binance's `/sapi/v1/asset/tradeFee`: signed, keyed by `X-MBX-APIKEY`."""
    state.api_keys_seen.append(api_key or "")
    signed = "timestamp" in query and "signature" in query
    if not signed or state.api_key is None or api_key != state.api_key:
        return 401, INVALID_KEY
    wanted = query.get("symbol", [None])[0]
    markets = [wanted] if wanted else list(state.listed)
    if any(m not in state.listed for m in markets):
        return 400, {"code": -1121, "msg": "Invalid symbol."}
    rows = []
    for market_id in markets:
        taker, maker = state.fees.get(market_id, state.default_fee)
        rows.append({"symbol": market_id, "makerCommission": maker, "takerCommission": taker})
    return 200, rows


def _handler(state: FakeBinanceState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            state.requests.append(self.path)
            if state.fail_with_status is not None:
                status, body = state.fail_with_status, {"msg": "unavailable"}
            elif url.path == "/api/v3/exchangeInfo":
                status, body = 200, _exchange_info(state)
            elif url.path == "/api/v3/klines":
                status, body = _klines(state, parse_qs(url.query))
            elif url.path == "/sapi/v1/asset/tradeFee":
                key = self.headers.get("X-MBX-APIKEY")
                status, body = _trade_fee(state, parse_qs(url.query), key)
            else:
                status, body = 404, {"code": -1, "msg": f"no route {url.path}"}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def local_api_urls(base_url: str) -> dict[str, str]:
    """Maps every entry of ccxt binance's `urls["api"]` onto `base_url`, keeping the paths.

    Overriding all of them, not only the spot ones, guarantees that nothing leaves 127.0.0.1.
    """
    api = ccxt.binance().urls["api"]
    return {key: base_url + urlsplit(url).path for key, url in api.items() if isinstance(url, str)}


@contextmanager
def fake_binance(state: FakeBinanceState) -> Iterator[str]:
    """Serves `state` on 127.0.0.1 (a free port) and yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def forbid_outside_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any connection beyond 127.0.0.1 (through urllib3, which ccxt uses) fail the test."""
    connect = urllib3.util.connection.create_connection

    def guarded(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        assert address[0] == "127.0.0.1", f"outside connection attempted: {address}"
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", guarded)


def fee_state(api_key: str) -> FakeBinanceState:
    """Two listed pairs and a BTCUSDT fee of 10 bps taker / 8 bps maker for `api_key`."""
    return FakeBinanceState(
        listed={"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT")},
        first_ms=0,
        last_ms=0,
        api_key=api_key,
        fees={"BTCUSDT": ("0.001", "0.0008")},
    )
