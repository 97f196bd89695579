from pathlib import Path

import pytest

from retrain_assets.adapters.data_config import source_from_settings
from retrain_assets.adapters.exchange_source import ExchangeSource
from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.data.synthetic import SyntheticSource
from retrain_assets.core.errors import DataSourceError, PermanentError


@pytest.mark.parametrize(
    ("kind", "data_dir", "exchange_id", "expected"),
    [
        ("synthetic", None, None, SyntheticSource),
        (" Synthetic ", "/ignored", "ignored", SyntheticSource),
        ("files", "/some/folder", None, FileSource),
        ("exchange", None, None, ExchangeSource),
        ("exchange", None, "kraken", ExchangeSource),
    ],
)
def test_settings_pick_the_matching_source(
    kind: str, data_dir: str | None, exchange_id: str | None, expected: type
) -> None:
    assert isinstance(source_from_settings(kind, data_dir, exchange_id), expected)


def test_files_source_reads_the_given_folder() -> None:
    source = source_from_settings("files", "/some/folder", None)

    assert isinstance(source, FileSource)
    assert source.root == Path("/some/folder")


def test_exchange_defaults_to_binance() -> None:
    source = source_from_settings("exchange", None, None)

    assert isinstance(source, ExchangeSource)
    assert source.exchange_id == "binance"


@pytest.mark.parametrize("data_dir", [None, "", "   "])
def test_files_without_a_folder_is_a_data_source_error(data_dir: str | None) -> None:
    with pytest.raises(DataSourceError, match="needs a data folder"):
        source_from_settings("files", data_dir, None)


@pytest.mark.parametrize("kind", ["", "csv", "live"])
def test_an_unknown_kind_is_a_permanent_error_listing_the_choices(kind: str) -> None:
    with pytest.raises(PermanentError, match="synthetic, files, exchange"):
        source_from_settings(kind, None, None)


def test_an_unknown_exchange_id_is_a_data_source_error() -> None:
    with pytest.raises(DataSourceError, match="nosuchex"):
        source_from_settings("exchange", None, "nosuchex")


def test_a_loopback_api_url_points_every_exchange_url_at_it() -> None:
    source = source_from_settings("exchange", None, "binance", "http://127.0.0.1:8765")

    assert isinstance(source, ExchangeSource)
    assert {url.split("/")[2] for url in source.exchange.urls["api"].values()} == {"127.0.0.1:8765"}
    assert source.identity == "exchange binance at http://127.0.0.1:8765"


@pytest.mark.parametrize("url", ["https://api.binance.com", "http://example.com:80"])
def test_an_api_url_off_this_machine_is_refused(url: str) -> None:
    with pytest.raises(DataSourceError, match=r"127\.0\.0\.1"):
        source_from_settings("exchange", None, "binance", url)
