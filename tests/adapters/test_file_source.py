import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.data.bars import BARS_COLUMNS
from retrain_assets.core.data.market_data import BarSource, quote_volume_ranking
from retrain_assets.core.errors import DataSourceError

T0 = pd.Timestamp("2021-01-01", tz="UTC")
HOUR_MS = 3_600_000
T0_MS = T0.value // 1_000_000


def _real_data_dir() -> Path:
    override = os.environ.get("RETRAIN_TEST_DATA_DIR")
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "data" / "binance-spot-1h"


REAL_DIR = _real_data_dir()
needs_real_data = pytest.mark.skipif(
    not (REAL_DIR / "BTC_USDT-1h.json").is_file(), reason=f"no real candles at {REAL_DIR}"
)


def _rows(n: int, volume: float = 10.0) -> list[list[float]]:
    return [[T0_MS + i * HOUR_MS, 100.0, 101.0, 99.0, 100.5, volume] for i in range(n)]


def _frame(n: int, time_column: str = "date") -> pd.DataFrame:
    frame = pd.DataFrame(_rows(n), columns=BARS_COLUMNS)
    frame[time_column] = pd.to_datetime(frame.pop("timestamp"), unit="ms", utc=True)
    return frame


def _write(folder: Path, name: str, n: int = 48) -> None:
    path = folder / name
    if name.endswith(".json"):
        path.write_text(json.dumps(_rows(n)))
    elif name.endswith(".feather"):
        _frame(n).to_feather(path)
    elif name.endswith(".parquet"):
        _frame(n, "open_time").to_parquet(path)
    else:
        _frame(n, "timestamp").to_csv(path, index=False)


@pytest.mark.parametrize(
    ("file_name", "symbol"),
    [
        ("BTC_USDT-1h.json", "BTCUSDT"),
        ("ETH_USDT-1h.feather", "ETHUSDT"),
        ("SOL_USDT-1h.parquet", "SOLUSDT"),
        ("ADA_USDT-1h.csv", "ADAUSDT"),
        ("XRPUSDT.parquet", "XRPUSDT"),
        ("dogeusdt.csv", "DOGEUSDT"),
    ],
)
def test_each_supported_file_layout_loads_as_validated_bars(
    tmp_path: Path, file_name: str, symbol: str
) -> None:
    _write(tmp_path, file_name)
    source = FileSource(tmp_path)

    bars, report = source.load(symbol, T0 + pd.Timedelta("1D"), pd.Timedelta("1D"))

    assert source.candidates() == [symbol]
    assert list(bars.columns) == BARS_COLUMNS
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert len(bars) == 24
    assert report.first == T0
    assert report.last == T0 + pd.Timedelta("23h")


def test_other_timeframes_and_stray_files_are_not_candidates(tmp_path: Path) -> None:
    _write(tmp_path, "BTC_USDT-1h.json")
    _write(tmp_path, "BTC_USDT-5m.json")
    _write(tmp_path, "ETH_USDT-4h.json")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "x.csv.bak").write_text("hello")

    assert FileSource(tmp_path).candidates() == ["BTCUSDT"]
    assert FileSource(tmp_path, timeframe="4h").candidates() == ["ETHUSDT"]


def test_the_window_is_end_exclusive_and_utc(tmp_path: Path) -> None:
    _write(tmp_path, "BTC_USDT-1h.json")

    bars, _ = FileSource(tmp_path).load(
        "BTC/USDT", pd.Timestamp("2021-01-01 05:00"), pd.Timedelta("3h")
    )

    assert list(bars["timestamp"].dt.hour) == [2, 3, 4]


def test_a_window_without_bars_is_empty_not_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "BTC_USDT-1h.json")

    bars, report = FileSource(tmp_path).load("BTCUSDT", T0, pd.Timedelta("10D"))

    assert bars.empty
    assert report.rows == 0


def test_a_missing_folder_is_a_clear_data_source_error(tmp_path: Path) -> None:
    source = FileSource(tmp_path / "absent")

    with pytest.raises(DataSourceError, match="does not exist"):
        source.candidates()


def test_a_missing_symbol_names_the_folder_and_some_available_symbols(tmp_path: Path) -> None:
    _write(tmp_path, "BTC_USDT-1h.json")
    _write(tmp_path, "ETH_USDT-1h.json")

    with pytest.raises(DataSourceError, match=r"LTCUSDT.*2 symbols available, e\.g\. BTCUSDT"):
        FileSource(tmp_path).load("LTCUSDT", T0, pd.Timedelta("1D"))


def test_an_unreadable_file_is_a_data_source_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "BTC_USDT-1h.json").write_text("[[1, 2, ")

    with pytest.raises(DataSourceError, match=r"BTC_USDT-1h\.json"):
        FileSource(tmp_path).load("BTCUSDT", T0, pd.Timedelta("1D"))


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    _write(tmp_path, "BTC_USDT-1h.json", n=24)
    source = FileSource(tmp_path)
    end = T0 + pd.Timedelta("3D")
    first, _ = source.load("BTCUSDT", end, pd.Timedelta("3D"))

    _write(tmp_path, "BTC_USDT-1h.json", n=48)
    second, _ = source.load("BTCUSDT", end, pd.Timedelta("3D"))

    assert (len(first), len(second)) == (24, 48)


def test_ranking_skips_symbols_with_no_volume_in_the_window(tmp_path: Path) -> None:
    (tmp_path / "BTC_USDT-1h.json").write_text(json.dumps(_rows(24, volume=5.0)))
    (tmp_path / "ETH_USDT-1h.json").write_text(json.dumps(_rows(24, volume=5.0)))
    (tmp_path / "SOL_USDT-1h.json").write_text(json.dumps(_rows(24, volume=0.0)))

    ranking = quote_volume_ranking(FileSource(tmp_path), T0 + pd.Timedelta("1D"), 5)

    assert ranking == ["BTCUSDT", "ETHUSDT"]  # equal volume: ordered by name


@pytest.fixture(scope="module")
def real_source() -> FileSource:
    return FileSource(REAL_DIR)


@needs_real_data
def test_real_binance_folder_serves_btc_and_about_126_candidates(real_source: FileSource) -> None:
    bars, report = real_source.load("BTCUSDT", pd.Timestamp("2021-08-01"), pd.Timedelta(days=365))

    assert isinstance(real_source, BarSource)
    assert 120 <= len(real_source.candidates()) <= 130
    assert report.rows == 5482
    assert report.gaps == 11  # the six exchange outages of PROVENANCE.md
    assert report.first == pd.Timestamp("2020-12-01", tz="UTC")
    assert bars["close"].between(15_000, 70_000).all()


@needs_real_data
def test_real_top_n_changes_between_march_and_june(real_source: FileSource) -> None:
    march = quote_volume_ranking(real_source, pd.Timestamp("2021-03-01", tz="UTC"), 10)
    june = quote_volume_ranking(real_source, pd.Timestamp("2021-06-30", tz="UTC"), 10)

    assert march[:2] == ["BTCUSDT", "ETHUSDT"]
    assert len(march) == len(june) == 10
    assert march != june


@needs_real_data
def test_ranking_as_of_a_past_day_ignores_volume_from_its_future(tmp_path: Path) -> None:
    names = ["BTC_USDT-1h.json", "ETH_USDT-1h.json", "ADA_USDT-1h.json", "XRP_USDT-1h.json"]
    for name in names:
        shutil.copy(REAL_DIR / name, tmp_path / name)
    as_of = pd.Timestamp("2021-03-01", tz="UTC")
    before = quote_volume_ranking(FileSource(tmp_path), as_of, 4)

    # From as_of on, ADA trades a thousand times more than anything else.
    rows = json.loads((tmp_path / "ADA_USDT-1h.json").read_text())
    as_of_ms = as_of.value // 1_000_000
    boosted = [[*row[:5], row[5] * 1e9] if row[0] >= as_of_ms else row for row in rows]
    (tmp_path / "ADA_USDT-1h.json").write_text(json.dumps(boosted))
    source = FileSource(tmp_path)

    assert quote_volume_ranking(source, as_of, 4) == before
    assert quote_volume_ranking(source, as_of + pd.Timedelta("2D"), 4)[0] == "ADAUSDT"
