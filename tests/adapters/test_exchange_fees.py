from collections.abc import Iterator

import pytest

from retrain_assets.adapters.exchange_fees import fetch_exchange_fees, market_symbol, safe_message
from retrain_assets.core.errors import DataSourceError, TransientError
from tests.fakes.fake_binance import (
    FakeBinanceState,
    fake_binance,
    fee_state,
    forbid_outside_connections,
    local_api_urls,
)

KEY = "test-key-0123456789abcdef"
SECRET = "test-secret-fedcba9876543210"


@pytest.fixture(autouse=True)
def only_local_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any test that makes ccxt open a connection beyond 127.0.0.1."""
    forbid_outside_connections(monkeypatch)


@pytest.fixture
def state() -> FakeBinanceState:
    return fee_state(KEY)


@pytest.fixture
def urls(state: FakeBinanceState) -> Iterator[dict[str, str]]:
    with fake_binance(state) as base_url:
        yield local_api_urls(base_url)


def _fetch(urls: dict[str, str], symbol: str = "BTCUSDT", key: str = KEY) -> tuple[float, float]:
    return fetch_exchange_fees("binance", symbol, key, SECRET, urls_override=urls, timeout_ms=3000)


def test_fees_of_the_symbol_come_back_in_bps(urls: dict[str, str]) -> None:
    assert _fetch(urls) == (10.0, 8.0)


def test_a_symbol_without_its_own_fee_gets_the_account_default(urls: dict[str, str]) -> None:
    assert _fetch(urls, "ETHUSDT") == (10.0, 10.0)


def test_the_request_is_signed_and_carries_the_key_in_a_header(
    urls: dict[str, str], state: FakeBinanceState
) -> None:
    _fetch(urls)

    fee_requests = [r for r in state.requests if r.startswith("/sapi/v1/asset/tradeFee")]
    assert len(fee_requests) == 1
    assert "signature=" in fee_requests[0] and "timestamp=" in fee_requests[0]
    assert KEY not in fee_requests[0] and SECRET not in fee_requests[0]
    assert state.api_keys_seen == [KEY]


def test_a_rejected_key_is_a_clear_error_without_the_key_or_the_secret(
    urls: dict[str, str],
) -> None:
    with pytest.raises(DataSourceError) as raised:
        _fetch(urls, key="wrong-key-0123456789")

    message = str(raised.value)
    assert "Invalid API-key" in message and "AuthenticationError" in message
    assert "wrong-key-0123456789" not in message and SECRET not in message
    assert "signature" not in message
    assert raised.value.__cause__ is None


def test_an_unlisted_symbol_is_a_data_source_error(urls: dict[str, str]) -> None:
    with pytest.raises(DataSourceError, match="SOL/USDT"):
        _fetch(urls, "SOLUSDT")


def test_an_unreachable_exchange_is_transient(urls: dict[str, str]) -> None:
    dead = {name: "http://127.0.0.1:9" + url[url.index("/", 8) :] for name, url in urls.items()}

    with pytest.raises(TransientError) as raised:
        _fetch(dead)

    assert KEY not in str(raised.value) and SECRET not in str(raised.value)


def test_missing_credentials_fail_before_any_request(state: FakeBinanceState) -> None:
    with pytest.raises(DataSourceError, match="API key"):
        fetch_exchange_fees("binance", "BTCUSDT", "", SECRET)

    assert state.requests == []


@pytest.mark.parametrize(
    ("symbol", "quote", "market"),
    [("BTCUSDT", "USDT", "BTC/USDT"), ("ethbtc", "btc", "ETH/BTC")],
)
def test_symbols_map_to_ccxt_markets_through_the_quote(
    symbol: str, quote: str, market: str
) -> None:
    assert market_symbol(symbol, quote) == market


def test_messages_lose_query_strings_and_secrets() -> None:
    exc = RuntimeError(f"GET http://x/sapi?timestamp=1&signature=abc {KEY} {SECRET}")

    message = safe_message(exc, [KEY, SECRET])

    assert message == "RuntimeError: GET http://x/sapi?… *** ***"
