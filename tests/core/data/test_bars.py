import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.data.bars import (
    BARS_COLUMNS,
    BarsReport,
    BrokenPriceBar,
    validate_bars,
)
from retrain_assets.core.errors import DataSourceError

T0 = pd.Timestamp("2021-01-01", tz="UTC")
T0_MS = T0.value // 1_000_000
HOUR_MS = 3_600_000


def _raw(n: int = 5, **overrides: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "timestamp": [T0_MS + i * HOUR_MS for i in range(n)],
            "open": [100.0] * n,
            "high": [101.0] * n,
            "low": [99.0] * n,
            "close": [100.5] * n,
            "volume": [10.0] * n,
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_clean_bars_come_back_with_exact_columns_dtypes_and_a_range_index() -> None:
    bars, report = validate_bars(_raw(), "BTCUSDT")

    assert list(bars.columns) == BARS_COLUMNS
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert all(bars[c].dtype == np.float64 for c in BARS_COLUMNS[1:])
    assert isinstance(bars.index, pd.RangeIndex)
    assert bars["timestamp"].iloc[0] == T0
    assert report == BarsReport("BTCUSDT", 5, 0, 0, 0, T0, T0 + pd.Timedelta("4h"))


@pytest.mark.parametrize(
    "timestamps",
    [
        pytest.param([T0_MS + i * HOUR_MS for i in range(3)], id="epoch-milliseconds"),
        pytest.param([T0_MS // 1000 + i * 3600 for i in range(3)], id="epoch-seconds"),
        pytest.param(list(pd.date_range("2021-01-01", periods=3, freq="h")), id="naive-as-utc"),
        pytest.param(
            list(pd.date_range("2021-01-01 01:00", periods=3, freq="h", tz="Europe/Paris")),
            id="aware-other-zone",
        ),
        pytest.param(["2021-01-01T00:00:00Z", "2021-01-01T01:00:00Z", "2021-01-01T02:00:00Z"]),
    ],
)
def test_timestamps_in_any_common_form_become_the_same_utc_instants(
    timestamps: list[object],
) -> None:
    bars, _ = validate_bars(_raw(3, timestamp=timestamps), "BTCUSDT")

    expected = pd.date_range(T0, periods=3, freq="h").astype("datetime64[ns, UTC]")
    assert list(bars["timestamp"]) == list(expected)


@pytest.mark.parametrize(
    ("column", "bad_value"),
    [
        ("close", np.nan),
        ("open", np.inf),
        ("high", -np.inf),
        ("low", 0.0),
        ("close", -1.0),
        ("volume", -0.5),
        ("volume", np.nan),
        ("volume", np.inf),
        ("high", 98.0),  # high below low
        ("timestamp", None),  # unreadable timestamp
    ],
)
def test_a_row_with_an_invalid_value_is_dropped_and_counted(column: str, bad_value: object) -> None:
    raw = _raw().astype({column: "object"})
    raw.loc[2, column] = bad_value

    bars, report = validate_bars(raw, "BTCUSDT")

    assert report.rows == 4
    assert report.dropped_invalid == 1
    assert len(bars) == 4


def test_zero_volume_is_a_valid_bar() -> None:
    _, report = validate_bars(_raw(volume=[0.0] * 5), "BTCUSDT")

    assert report.dropped_invalid == 0


def test_duplicate_timestamps_keep_the_last_row_and_are_counted() -> None:
    raw = _raw(3)
    duplicate = raw.iloc[[1]].assign(close=123.0)
    repeated = raw.iloc[[2]]
    raw = pd.concat([raw, duplicate, repeated], ignore_index=True)

    bars, report = validate_bars(raw, "BTCUSDT")

    assert report.dropped_duplicates == 2
    assert len(bars) == 3
    assert bars.loc[1, "close"] == 123.0


def test_only_duplicates_that_disagree_are_counted_as_conflicting() -> None:
    raw = _raw(4)
    # Bar 1 repeated exactly (harmless), bar 2 with another close and bar 3 with another
    # volume: two conflicting timestamps.
    extra = pd.concat(
        [raw.iloc[[1]], raw.iloc[[2]].assign(close=100.7), raw.iloc[[3]].assign(volume=11.0)]
    )
    _, report = validate_bars(pd.concat([raw, extra], ignore_index=True), "BTCUSDT")

    assert (report.dropped_duplicates, report.conflicting_duplicates) == (3, 2)


def test_the_longest_gap_is_the_most_missing_bars_in_a_row() -> None:
    _, report = validate_bars(_raw(12).drop(index=[2, 5, 6, 7]), "BTCUSDT")

    assert (report.gaps, report.longest_gap) == (4, 3)


def test_unsorted_input_comes_back_sorted() -> None:
    raw = _raw(4).iloc[[3, 0, 2, 1]]

    bars, _ = validate_bars(raw, "BTCUSDT")

    assert bars["timestamp"].is_monotonic_increasing
    assert list(bars.index) == [0, 1, 2, 3]


def test_gaps_count_the_missing_bar_slots_between_first_and_last() -> None:
    raw = _raw(10).drop(index=[2, 3, 7])

    _, report = validate_bars(raw, "BTCUSDT")

    assert report.gaps == 3
    assert report.rows == 7


def test_column_names_are_matched_without_regard_to_case() -> None:
    raw = _raw().rename(columns=str.upper).assign(EXTRA=1)

    bars, _ = validate_bars(raw, "BTCUSDT")

    assert list(bars.columns) == BARS_COLUMNS


@pytest.mark.parametrize("missing", BARS_COLUMNS)
def test_a_missing_column_raises_a_data_source_error_naming_symbol_and_column(
    missing: str,
) -> None:
    with pytest.raises(DataSourceError, match=rf"ETHUSDT.*'{missing}'"):
        validate_bars(_raw().drop(columns=[missing]), "ETHUSDT")


def test_empty_input_gives_an_empty_frame_and_a_report_without_bounds() -> None:
    bars, report = validate_bars(_raw(0), "BTCUSDT")

    assert list(bars.columns) == BARS_COLUMNS
    assert report.rows == 0
    assert report.first is None
    assert report.last is None


@pytest.mark.parametrize(
    ("values", "fault"),
    [
        ({"open": np.nan, "close": np.nan}, "NaN open/close"),
        ({"high": np.inf}, "infinite high"),
        ({"low": 0.0}, "non-positive low"),
        ({"low": -np.inf, "close": np.nan}, "NaN close, infinite low"),
    ],
)
def test_a_bar_dropped_for_an_impossible_price_is_named_with_its_fault(
    values: dict[str, float], fault: str
) -> None:
    raw = _raw()
    for column, value in values.items():
        raw.loc[2, column] = value

    bars, report = validate_bars(raw, "BTCUSDT")

    assert len(bars) == 4
    assert report.broken_price_bars == (BrokenPriceBar(T0 + pd.Timedelta("2h"), fault),)


def test_an_impossible_price_superseded_by_a_valid_bar_or_without_a_time_is_not_broken() -> None:
    raw = _raw(3).astype({"timestamp": "object"})
    raw.loc[1, "close"] = np.nan  # then a valid row for the same hour
    raw.loc[2, ["timestamp", "open"]] = [None, np.nan]  # no hour to lose
    raw = pd.concat([raw, _raw(3).iloc[[1]]], ignore_index=True)

    _, report = validate_bars(raw, "BTCUSDT")

    assert report.broken_price_bars == ()
    assert report.dropped_invalid == 2


def test_a_bad_volume_is_invalid_but_not_a_broken_price() -> None:
    _, report = validate_bars(_raw(volume=[10.0, np.nan, 10.0, 10.0, 10.0]), "BTCUSDT")

    assert (report.dropped_invalid, report.broken_price_bars) == (1, ())
