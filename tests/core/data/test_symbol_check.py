"""Symbols are checked against the bar source before anything is registered or run."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.adapters.exchange_source import ExchangeSource
from retrain_assets.adapters.file_source import FileSource
from retrain_assets.adapters.symbol_files import read_symbol_file
from retrain_assets.core.data.market_data import BarSource
from retrain_assets.core.data.symbols import (
    SymbolCheck,
    check_symbols,
    describe_source,
    parse_selection,
    require_symbols,
    resolve_selection,
    unknown_symbols_message,
)
from retrain_assets.core.data.synthetic import SYNTHETIC_SYMBOLS, SyntheticSource
from retrain_assets.core.errors import DataSourceError, InvalidSymbolError
from tests.fakes.fake_binance import (
    FakeBinanceState,
    fake_binance,
    forbid_outside_connections,
    local_api_urls,
)

HOUR_MS = 3_600_000


@pytest.fixture
def exchange(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExchangeSource]:
    """Binance's API on 127.0.0.1: BTC and ETH in USDT, LUNA delisted, ETH in BTC."""
    forbid_outside_connections(monkeypatch)
    state = FakeBinanceState(
        listed={
            "BTCUSDT": ("BTC", "USDT"),
            "ETHUSDT": ("ETH", "USDT"),
            "LUNAUSDT": ("LUNA", "USDT"),
            "ETHBTC": ("ETH", "BTC"),
        },
        delisted={"LUNAUSDT"},
        first_ms=0,
        last_ms=0,
    )
    with fake_binance(state) as url:
        yield ExchangeSource(urls_override=local_api_urls(url), timeout_ms=3000)


def _candles(folder: Path, name: str, hours: int = 24) -> Path:
    rows = [[i * HOUR_MS, 1.0, 1.1, 0.9, 1.0, 5.0] for i in range(hours)]
    path = folder / name
    path.write_text(json.dumps(rows))
    return path


@pytest.mark.parametrize(
    ("symbol", "known"),
    [
        ("BTCUSDT", True),
        ("ETHUSDT", True),
        ("ZECUSDT", True),  # the least traded listed pair
        ("S0001USDT", True),  # numbered pairs, for scale benchmarks
        ("S9999USDT", True),
        ("FOOBAR", False),
        ("MYCOINUSDT", False),
        ("S001USDT", False),  # three digits: not a numbered pair
        ("BTCUSD", False),
    ],
)
def test_the_synthetic_universe_is_fixed(symbol: str, known: bool) -> None:
    assert SyntheticSource().has_symbol(symbol) is known


def test_the_synthetic_candidates_are_its_listed_pairs_which_top_n_ranks_from() -> None:
    source = SyntheticSource()
    top = resolve_selection(
        parse_selection("top40", read_symbol_file), source, pd.Timestamp("2025-05-02", tz="UTC")
    )

    assert source.candidates() == sorted(SYNTHETIC_SYMBOLS)
    assert len(SYNTHETIC_SYMBOLS) == 40 and SYNTHETIC_SYMBOLS[:2] == ("BTCUSDT", "ETHUSDT")
    assert sorted(top) == sorted(SYNTHETIC_SYMBOLS)
    assert all(source.has_symbol(s) for s in top)


def test_the_files_source_has_a_symbol_only_with_a_candle_file(tmp_path: Path) -> None:
    _candles(tmp_path, "BTC_USDT-1h.json")
    _candles(tmp_path, "ETH_USDT-4h.json")  # another timeframe
    source = FileSource(tmp_path)

    assert source.has_symbol("BTCUSDT")
    assert not source.has_symbol("ETHUSDT")
    assert not source.has_symbol("FOOBAR")


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("BTC_USDT-1h.json", b"not json", "cannot read candles: Expecting value"),
        ("BTCUSDT.parquet", b"PAR1 not a parquet file", "cannot read candles"),
        ("BTCUSDT.csv", b"a,b\n1,2\n", "no timestamp column"),
    ],
)
def test_a_candle_file_that_does_not_read_as_its_format_is_a_data_source_error(
    tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    (tmp_path / name).write_bytes(content)

    with pytest.raises(DataSourceError, match=why) as raised:
        FileSource(tmp_path).has_symbol("BTCUSDT")
    assert name in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_candle_file_without_read_permission_is_a_data_source_error(tmp_path: Path) -> None:
    path = _candles(tmp_path, "BTC_USDT-1h.json")
    path.chmod(0)

    with pytest.raises(DataSourceError, match="Permission denied"):
        FileSource(tmp_path).has_symbol("BTCUSDT")


def test_a_candle_file_the_reader_is_denied_is_a_data_source_error_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root (CI containers) chmod cannot deny a read, so the denial is simulated.
    path = _candles(tmp_path, "BTC_USDT-1h.json")

    def denied(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)

    with pytest.raises(DataSourceError) as raised:
        FileSource(tmp_path).has_symbol("BTCUSDT")
    assert str(raised.value) == f"{path}: cannot read candles: Permission denied"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: _candles(p, "BTC_USDT-1h.json"), "is not a folder"),
    ],
)
def test_a_files_folder_that_is_missing_or_not_a_folder_is_one_line(
    tmp_path: Path, make, why: str
) -> None:
    with pytest.raises(DataSourceError, match=why):
        FileSource(make(tmp_path)).candidates()


@pytest.mark.parametrize(
    ("symbol", "known"),
    [
        ("BTCUSDT", True),
        ("ETHUSDT", True),
        ("LUNAUSDT", False),  # listed but not trading
        ("ETHBTC", False),  # another quote currency
        ("FOOBAR", False),
        ("FOOUSDT", False),
    ],
)
def test_the_exchange_source_has_its_active_spot_markets_in_the_quote(
    exchange: ExchangeSource, symbol: str, known: bool
) -> None:
    assert exchange.has_symbol(symbol) is known


def test_check_symbols_sorts_known_unknown_and_unreadable(tmp_path: Path) -> None:
    _candles(tmp_path, "BTC_USDT-1h.json")
    (tmp_path / "ETH_USDT-1h.json").write_text("{broken")

    checked = check_symbols(["BTCUSDT", "FOOBAR", "ETHUSDT"], FileSource(tmp_path))

    assert checked.known == ("BTCUSDT",)
    assert checked.unknown == ("FOOBAR",)
    assert list(checked.unreadable) == ["ETHUSDT"]
    assert checked.refused == ("FOOBAR", "ETHUSDT")


def test_known_symbols_pass() -> None:
    require_symbols(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"], SyntheticSource())
    assert check_symbols(["BTCUSDT"], SyntheticSource()) == SymbolCheck(("BTCUSDT",))


def test_an_unknown_symbol_is_one_line_naming_it_the_source_and_some_known_ones() -> None:
    with pytest.raises(InvalidSymbolError) as raised:
        require_symbols(["BTCUSDT", "FOOBAR"], SyntheticSource())

    assert str(raised.value) == (
        "FOOBAR is not a symbol of the synthetic source (seed 7); "
        "known: AAVEUSDT, ADAUSDT, ALGOUSDT, APTUSDT, ARBUSDT and 35 more"
    )


def test_a_near_miss_is_answered_with_the_symbol_meant() -> None:
    message = unknown_symbols_message(["BTCUSD", "ETHUSTD"], SyntheticSource())

    assert message.startswith("BTCUSD, ETHUSTD are not symbols of the synthetic source")
    assert message.endswith("; did you mean BTCUSDT, ETHUSDT?")


def test_many_unknown_symbols_are_counted_not_all_listed() -> None:
    unknown = [f"X{i:02d}USDT" for i in range(25)]

    message = unknown_symbols_message(unknown, SyntheticSource())

    assert "X09USDT and 15 more are not symbols" in message and "X10USDT" not in message


def test_an_unreadable_file_fails_the_check_naming_the_symbol_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "BTC_USDT-1h.json").write_text("[[1, 2")

    with pytest.raises(DataSourceError, match=r"^BTCUSDT: .*BTC_USDT-1h\.json: cannot read"):
        require_symbols(["BTCUSDT"], FileSource(tmp_path))


def test_the_exchange_check_names_the_exchange(exchange: ExchangeSource) -> None:
    with pytest.raises(InvalidSymbolError) as raised:
        require_symbols(["FOOBAR"], exchange)

    message = str(raised.value)
    assert message.startswith("FOOBAR is not a symbol of the exchange source (binance at http://")
    assert message.endswith("known: BTCUSDT, ETHUSDT")


@pytest.mark.parametrize(
    ("source", "described"),
    [
        (SyntheticSource(), "the synthetic source (seed 7)"),
        (FileSource(Path("/data/candles")), "the files source (/data/candles)"),
        (ExchangeSource("kraken"), "the exchange source (kraken)"),
    ],
)
def test_a_source_is_described_by_its_kind_and_identity(source: BarSource, described: str) -> None:
    assert describe_source(source) == described
