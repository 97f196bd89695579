"""The market-data source is checked up front like every other input, one line per failure."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrain_assets.adapters.symbol_files import read_symbol_file
from retrain_assets.core.data.symbols import parse_selection
from retrain_assets.core.errors import DataSourceError, InvalidSymbolError, PermanentError
from retrain_assets.launcher.market_check import check_market_data
from tests.fakes.fake_binance import FakeBinanceState, fake_binance, forbid_outside_connections


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RETRAIN_DATA_SOURCE", "RETRAIN_DATA_DIR", "RETRAIN_EXCHANGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RETRAIN_EXCHANGE_API_URL", raising=False)
    monkeypatch.delenv("RETRAIN_SETTINGS", raising=False)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A candle folder with BTC/USDT only, as the files source's folder."""
    rows = [[i * 3_600_000, 1.0, 1.1, 0.9, 1.0, 5.0] for i in range(24)]
    (tmp_path / "BTC_USDT-1h.json").write_text(json.dumps(rows))
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def exchange(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBinanceState]:
    """The exchange source on a local fake listing BTC/USDT and ETH/USDT."""
    forbid_outside_connections(monkeypatch)
    state = FakeBinanceState(
        listed={"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT")}, first_ms=0, last_ms=0
    )
    with fake_binance(state) as url:
        monkeypatch.setenv("RETRAIN_DATA_SOURCE", "exchange")
        monkeypatch.setenv("RETRAIN_EXCHANGE_API_URL", url)
        yield state


def _check(spec: str) -> None:
    check_market_data(parse_selection(spec, read_symbol_file))


@pytest.mark.parametrize("spec", ["BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT", "top20", "S0001USDT"])
def test_symbols_the_synthetic_source_has_pass(spec: str) -> None:
    _check(spec)


def test_an_unknown_synthetic_symbol_names_the_flag_the_symbol_and_the_source() -> None:
    with pytest.raises(InvalidSymbolError, match=r"^--symbols: FOOBAR is not a symbol of the "):
        _check("BTCUSDT,FOOBAR")


def test_the_files_source_passes_a_symbol_with_a_candle_file(files: Path) -> None:
    _check("BTCUSDT")


def test_the_files_source_refuses_a_symbol_without_one(files: Path) -> None:
    with pytest.raises(
        InvalidSymbolError, match=f"FOOBAR is not a symbol of the files source \\({files}"
    ):
        _check("FOOBAR")


def test_an_unreadable_candle_file_of_a_listed_symbol_is_one_line(files: Path) -> None:
    (files / "BTC_USDT-1h.json").write_text("not json")

    with pytest.raises(DataSourceError, match=r"^--symbols: BTCUSDT: .*cannot read candles"):
        _check("BTCUSDT")


def test_the_exchange_source_checks_its_market_list(exchange: FakeBinanceState) -> None:
    _check("BTCUSDT,ETHUSDT")
    with pytest.raises(InvalidSymbolError, match="FOOBAR is not a symbol of the exchange source"):
        _check("FOOBAR")
    assert all(r.startswith("/api/v3/exchangeInfo") for r in exchange.requests)


@pytest.mark.parametrize(
    ("env", "error", "message"),
    [
        ({"RETRAIN_DATA_SOURCE": "bogus"}, PermanentError, "RETRAIN_DATA_SOURCE: unknown"),
        ({"RETRAIN_DATA_SOURCE": "files"}, DataSourceError, "RETRAIN_DATA_DIR: .*none was set"),
        (
            {"RETRAIN_DATA_SOURCE": "files", "RETRAIN_DATA_DIR": "/nonexistent"},
            DataSourceError,
            "RETRAIN_DATA_DIR: market-data folder '/nonexistent' does not exist",
        ),
        (
            {"RETRAIN_DATA_SOURCE": "exchange", "RETRAIN_EXCHANGE": "nosuchex"},
            DataSourceError,
            "RETRAIN_EXCHANGE: unknown ccxt exchange 'nosuchex'",
        ),
    ],
)
def test_a_bad_source_setting_is_one_line_naming_its_variable_for_any_selection(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], error: type, message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for spec in ("BTCUSDT", "top5"):
        with pytest.raises(error, match=f"^{message}"):
            _check(spec)


def test_a_data_folder_that_is_a_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "candles").write_text("")
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(tmp_path / "candles"))

    with pytest.raises(DataSourceError, match=r"RETRAIN_DATA_DIR: .* is not a folder"):
        _check("BTCUSDT")


def test_a_folder_set_in_the_settings_file_is_checked_and_named_as_its_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("market_data:\n  source: files\n  data_dir: /nonexistent\n")
    monkeypatch.setenv("RETRAIN_SETTINGS", str(settings))

    with pytest.raises(DataSourceError) as raised:
        _check("BTCUSDT")
    assert str(raised.value) == (
        "RETRAIN_SETTINGS market_data.data_dir: market-data folder '/nonexistent' does not exist"
    )
