import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pandas as pd
import pytest

from retrain_assets.adapters.exchange_source import ExchangeSource
from retrain_assets.core.data.bars import BARS_COLUMNS
from retrain_assets.core.data.market_data import BarSource, quote_volume_ranking
from retrain_assets.core.errors import DataSourceError, PermanentError, TransientError
from tests.fakes.fake_binance import (
    FakeBinanceState,
    fake_binance,
    forbid_outside_connections,
    local_api_urls,
)

FIRST = pd.Timestamp("2021-01-01", tz="UTC")
LAST = pd.Timestamp("2021-03-01", tz="UTC")


@pytest.fixture(autouse=True)
def only_local_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any test that makes ccxt open a connection beyond 127.0.0.1."""
    forbid_outside_connections(monkeypatch)


@pytest.fixture
def state() -> FakeBinanceState:
    return FakeBinanceState(
        listed={
            "BTCUSDT": ("BTC", "USDT"),
            "ETHUSDT": ("ETH", "USDT"),
            "LUNAUSDT": ("LUNA", "USDT"),
            "ETHBTC": ("ETH", "BTC"),
        },
        delisted={"LUNAUSDT"},
        first_ms=FIRST.value // 1_000_000,
        last_ms=LAST.value // 1_000_000,
    )


@pytest.fixture
def base_url(state: FakeBinanceState) -> Iterator[str]:
    with fake_binance(state) as url:
        yield url


@pytest.fixture
def source(base_url: str) -> ExchangeSource:
    return ExchangeSource(urls_override=local_api_urls(base_url), timeout_ms=3000)


def test_every_ccxt_api_url_points_at_the_local_fake(source: ExchangeSource) -> None:
    hosts = {urlsplit(url).hostname for url in source.exchange.urls["api"].values()}

    assert hosts == {"127.0.0.1"}


def test_exchange_source_is_a_bar_source(source: ExchangeSource) -> None:
    assert isinstance(source, BarSource)


def test_candidates_are_the_active_spot_markets_in_the_quote_currency(
    source: ExchangeSource, state: FakeBinanceState
) -> None:
    assert source.candidates() == ["BTCUSDT", "ETHUSDT"]
    assert all(path.startswith("/api/v3/") for path in state.requests)


@pytest.mark.parametrize(("symbol", "market"), [("BTCUSDT", "BTC/USDT"), ("eth_usdt", "ETH/USDT")])
def test_symbols_map_to_ccxt_markets_through_the_quote(
    source: ExchangeSource, symbol: str, market: str
) -> None:
    assert source.market_symbol(symbol) == market


def test_a_symbol_in_another_quote_is_a_data_source_error(source: ExchangeSource) -> None:
    with pytest.raises(DataSourceError, match="not a USDT-quoted symbol"):
        source.market_symbol("ETHBTC")


def test_load_pages_through_klines_and_keeps_only_the_window(
    source: ExchangeSource, state: FakeBinanceState
) -> None:
    end = pd.Timestamp("2021-02-15", tz="UTC")

    bars, report = source.load("BTCUSDT", end, pd.Timedelta(days=60))

    klines = [path for path in state.requests if path.startswith("/api/v3/klines")]
    assert len(klines) == 2  # 1,080 hours in pages of at most 1,000
    assert list(bars.columns) == BARS_COLUMNS
    assert report.first == FIRST  # the fake's history starts after end - lookback
    assert report.last == end - pd.Timedelta("1h")
    assert report.rows == 45 * 24
    assert report.gaps == 0


def test_load_stops_where_the_exchange_history_ends(source: ExchangeSource) -> None:
    bars, _ = source.load("ETHUSDT", pd.Timestamp("2021-04-01"), pd.Timedelta(days=2))

    assert bars.empty


def test_an_unlisted_symbol_is_a_data_source_error(source: ExchangeSource) -> None:
    with pytest.raises(DataSourceError, match="XRPUSDT: XRP/USDT is not listed on binance"):
        source.load("XRPUSDT", LAST, pd.Timedelta("1D"))


def test_an_unavailable_exchange_is_a_transient_error_without_the_raw_traceback(
    source: ExchangeSource, state: FakeBinanceState
) -> None:
    state.fail_with_status = 503

    with pytest.raises(TransientError, match="loading markets failed") as caught:
        source.candidates()

    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_an_unreachable_host_is_a_transient_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = ExchangeSource(
        urls_override=local_api_urls(f"http://127.0.0.1:{port}"), timeout_ms=1000
    )

    with pytest.raises(TransientError, match="network"):
        source.load("BTCUSDT", LAST, pd.Timedelta("1D"))


def test_a_rejected_request_is_a_permanent_data_source_error(
    source: ExchangeSource, state: FakeBinanceState
) -> None:
    source.load("BTCUSDT", LAST, pd.Timedelta("1D"))  # markets loaded while the fake is healthy
    state.listed.pop("BTCUSDT")  # now klines answers -1121 "Invalid symbol."

    with pytest.raises(DataSourceError, match="BadSymbol") as caught:
        source.load("BTCUSDT", LAST, pd.Timedelta("1D"))

    assert isinstance(caught.value, PermanentError)


def test_an_unknown_exchange_id_is_a_data_source_error() -> None:
    with pytest.raises(DataSourceError, match="unknown ccxt exchange 'nosuchex'"):
        ExchangeSource("nosuchex")


def test_ranking_works_against_the_exchange(source: ExchangeSource) -> None:
    assert quote_volume_ranking(source, LAST, 5, window_days=2) == ["BTCUSDT", "ETHUSDT"]
