"""Every bar source names the data it serves (`identity`) apart from its kind (`name`)."""

from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.adapters.exchange_source import ExchangeSource
from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.data.market_data import BarSource
from retrain_assets.core.data.synthetic import SyntheticSource


@pytest.mark.parametrize(
    ("source", "name", "identity"),
    [
        (SyntheticSource(), "synthetic", "synthetic seed 7"),
        (SyntheticSource(seed=11), "synthetic", "synthetic seed 11"),
        # Another origin shifts every bar, so it is part of what the data is.
        (
            SyntheticSource(origin=pd.Timestamp("2020-01-01", tz="UTC")),
            "synthetic",
            "synthetic seed 7 origin 2020-01-01T00:00:00+00:00",
        ),
        (ExchangeSource("binance"), "exchange", "exchange binance"),
        (ExchangeSource("kraken"), "exchange", "exchange kraken"),
        (ExchangeSource("binance", quote="BTC"), "exchange", "exchange binance quote BTC"),
    ],
)
def test_each_source_keeps_its_kind_as_name_and_names_its_data_as_identity(
    source: BarSource, name: str, identity: str
) -> None:
    assert isinstance(source, BarSource)
    assert source.name == name
    assert source.identity == identity


def test_the_files_identity_is_the_resolved_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "candles").mkdir()
    monkeypatch.chdir(tmp_path)

    source = FileSource(Path("candles"))

    assert source.identity == f"files {tmp_path.resolve() / 'candles'}"
    four_hours = FileSource(tmp_path, timeframe="4h")
    assert four_hours.identity == f"files {tmp_path.resolve()} timeframe 4h"


def test_the_files_identity_follows_a_symlink_to_the_real_folder(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)

    assert FileSource(tmp_path / "link").identity == f"files {real.resolve()}"


def test_an_overridden_exchange_api_is_named_by_host_only_never_by_credentials() -> None:
    override = {"public": "http://user:s3cret@127.0.0.1:8765/api/v3?key=abc"}

    identity = ExchangeSource("binance", urls_override=override).identity

    assert identity == "exchange binance at http://127.0.0.1:8765"
    assert "s3cret" not in identity and "user" not in identity and "abc" not in identity
