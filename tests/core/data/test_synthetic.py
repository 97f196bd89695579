import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.data import synthetic
from retrain_assets.core.data.bars import BARS_COLUMNS
from retrain_assets.core.data.market_data import BarSource, quote_volume_ranking
from retrain_assets.core.data.synthetic import SyntheticSource

END = pd.Timestamp("2021-06-01", tz="UTC")
YEAR = pd.Timedelta(days=365)


@pytest.fixture(scope="module")
def source() -> SyntheticSource:
    return SyntheticSource()


@pytest.fixture(scope="module")
def btc_year(source: SyntheticSource) -> pd.DataFrame:
    bars, _ = source.load("BTCUSDT", END, YEAR)
    return bars


def _abs_returns(bars: pd.DataFrame) -> np.ndarray:
    return np.abs(np.diff(np.log(bars["close"].to_numpy())))


def test_synthetic_source_is_a_bar_source(source: SyntheticSource) -> None:
    assert isinstance(source, BarSource)
    assert source.name == "synthetic"


def test_load_returns_exactly_the_hours_of_the_window_end_exclusive(
    source: SyntheticSource,
) -> None:
    bars, report = source.load("ETHUSDT", pd.Timestamp("2021-01-02 00:00"), pd.Timedelta("1D"))

    assert list(bars.columns) == BARS_COLUMNS
    assert len(bars) == 24
    assert bars["timestamp"].iloc[0] == pd.Timestamp("2021-01-01", tz="UTC")
    assert bars["timestamp"].iloc[-1] == pd.Timestamp("2021-01-01 23:00", tz="UTC")
    assert (report.dropped_invalid, report.dropped_duplicates, report.gaps) == (0, 0, 0)


def test_nothing_exists_before_the_origin(source: SyntheticSource) -> None:
    bars, _ = source.load("BTCUSDT", pd.Timestamp("2019-01-02", tz="UTC"), pd.Timedelta("3D"))
    before, _ = source.load("BTCUSDT", pd.Timestamp("2018-12-01", tz="UTC"), pd.Timedelta("3D"))

    assert len(bars) == 24
    assert before.empty


def test_same_symbol_and_seed_give_identical_bars_in_a_fresh_source(
    btc_year: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synthetic, "_SERIES", {})  # a fresh process: walked from the origin
    again, _ = SyntheticSource().load("BTCUSDT", END, YEAR)

    pd.testing.assert_frame_equal(btc_year, again)


def test_different_symbols_and_seeds_give_different_bars(btc_year: pd.DataFrame) -> None:
    eth, _ = SyntheticSource().load("ETHUSDT", END, YEAR)
    other_seed, _ = SyntheticSource(seed=8).load("BTCUSDT", END, YEAR)

    assert not np.allclose(btc_year["close"], eth["close"])
    assert not np.allclose(btc_year["close"], other_seed["close"])


@pytest.mark.parametrize(
    ("end", "lookback"),
    [
        ("2020-06-01 13:00", "3D"),  # a window inside the year, starting mid-chunk
        ("2021-06-01", "30D"),  # the tail of the year
        ("2021-09-01", "200D"),  # reaching past the year's end
    ],
)
def test_a_bar_is_the_same_whatever_window_was_requested(
    btc_year: pd.DataFrame, end: str, lookback: str
) -> None:
    fresh = SyntheticSource()  # nothing cached: the window alone decides what is generated
    window, _ = fresh.load("btc/usdt", pd.Timestamp(end, tz="UTC"), pd.Timedelta(lookback))

    shared = btc_year.merge(window, on="timestamp", suffixes=("_year", "_window"))
    assert len(shared) > 0
    for column in BARS_COLUMNS[1:]:
        np.testing.assert_array_equal(shared[f"{column}_year"], shared[f"{column}_window"])


def test_unknown_symbols_get_their_own_deterministic_series(source: SyntheticSource) -> None:
    first, _ = source.load("MYCOINUSDT", END, pd.Timedelta("10D"))
    second, _ = SyntheticSource().load("MYCOINUSDT", END, pd.Timedelta("10D"))

    assert len(first) == 240
    pd.testing.assert_frame_equal(first, second)


def test_bars_are_internally_consistent(btc_year: pd.DataFrame) -> None:
    bars = btc_year
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["volume"] > 0).all()
    np.testing.assert_allclose(bars["open"].iloc[1:], bars["close"].iloc[:-1])


def test_returns_have_fat_tails(btc_year: pd.DataFrame) -> None:
    returns = np.diff(np.log(btc_year["close"].to_numpy()))
    standardised = (returns - returns.mean()) / returns.std()

    assert np.mean(standardised**4) > 3


def test_volatility_clusters_for_a_day(btc_year: pd.DataFrame) -> None:
    moves = _abs_returns(btc_year)

    autocorrelations = [np.corrcoef(moves[:-lag], moves[lag:])[0, 1] for lag in range(1, 25)]

    assert min(autocorrelations) > 0.02
    assert autocorrelations[0] > 0.1


def test_volatility_and_volume_depend_on_the_hour_of_day(btc_year: pd.DataFrame) -> None:
    hours = btc_year["timestamp"].dt.hour.to_numpy()
    by_hour = pd.Series(_abs_returns(btc_year)).groupby(hours[1:]).mean()
    volume_by_hour = btc_year.groupby(hours)["volume"].median()

    assert by_hour.max() / by_hour.min() > 1.5
    assert volume_by_hour.max() / volume_by_hour.min() > 1.5


def test_volume_rises_with_the_size_of_the_move(btc_year: pd.DataFrame) -> None:
    volume = btc_year["volume"].to_numpy()[1:]

    assert np.corrcoef(volume, _abs_returns(btc_year))[0, 1] > 0.2


def test_candidates_are_well_known_usdt_pairs(source: SyntheticSource) -> None:
    candidates = source.candidates()

    assert 35 <= len(candidates) <= 50
    assert {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"} <= set(candidates)
    assert all(symbol.endswith("USDT") for symbol in candidates)


def test_btc_and_eth_rank_highest_and_the_ranking_drifts_slowly(source: SyntheticSource) -> None:
    today = quote_volume_ranking(source, END, 15)
    tomorrow = quote_volume_ranking(source, END + pd.Timedelta("1D"), 15)
    next_year = quote_volume_ranking(source, END + YEAR, 15)

    assert set(today[:2]) == {"BTCUSDT", "ETHUSDT"}
    assert len(set(today) & set(tomorrow)) >= 13
    assert today != next_year


def test_loading_about_400_days_is_fast_once_the_symbol_is_cached(
    source: SyntheticSource,
) -> None:
    source.load("SOLUSDT", END, pd.Timedelta(days=400))

    started = time.perf_counter()
    bars, _ = source.load("SOLUSDT", END, pd.Timedelta(days=400))
    elapsed = time.perf_counter() - started

    assert len(bars) == 400 * 24
    assert elapsed < 0.25  # ~10 ms here; the margin is for slow CI machines


def test_concurrent_first_loads_of_a_symbol_agree_with_a_serial_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(synthetic, "_SERIES", {})
    shared = SyntheticSource()
    end = pd.Timestamp("2022-01-01", tz="UTC")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: shared.load("ADAUSDT", end, YEAR)[0], range(8)))

    monkeypatch.setattr(synthetic, "_SERIES", {})
    serial, _ = SyntheticSource().load("ADAUSDT", end, YEAR)
    for bars in results:
        pd.testing.assert_frame_equal(bars, serial)


def test_a_second_source_in_the_process_does_not_walk_the_symbol_from_the_origin_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(synthetic, "_SERIES", {})
    generated: list[int] = []
    walk = synthetic._SymbolSeries._generate
    monkeypatch.setattr(
        synthetic._SymbolSeries,
        "_generate",
        lambda series, state, index: generated.append(index) or walk(series, state, index),
    )
    end, window = pd.Timestamp("2025-05-02", tz="UTC"), pd.Timedelta(days=20)
    first, _ = SyntheticSource().load("DOTUSDT", end, window)
    walked = len(generated)
    generated.clear()

    again, _ = SyntheticSource().load("DOTUSDT", end, window)

    assert walked > 50  # every chunk since 2019 once, for the carried state
    assert len(generated) <= 2  # the window's own chunks: 20 days span at most two
    pd.testing.assert_frame_equal(first, again)


def _load_and_exit(symbol: str) -> None:
    SyntheticSource().load(symbol, pd.Timestamp("2025-05-02", tz="UTC"), pd.Timedelta(days=5))


def test_a_process_forked_while_a_thread_walks_a_symbol_can_load_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(synthetic, "_SERIES", {})
    walking = threading.Event()
    walk = synthetic._SymbolSeries._generate

    def slow_walk(series, state, index):
        walking.set()
        time.sleep(0.002)
        return walk(series, state, index)

    monkeypatch.setattr(synthetic._SymbolSeries, "_generate", slow_walk)
    thread = threading.Thread(target=_load_and_exit, args=("LINKUSDT",))
    thread.start()
    assert walking.wait(10)
    child = multiprocessing.get_context("fork").Process(target=_load_and_exit, args=("LINKUSDT",))
    child.start()  # forked mid-walk: the child must not inherit anything held
    child.join(30)
    thread.join(30)
    if child.exitcode is None:  # hung: do not leave it behind
        child.kill()
    assert child.exitcode == 0
