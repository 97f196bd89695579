import pandas as pd
import pytest

from retrain_assets.core.data.bars import validate_bars
from retrain_assets.core.data.gaps import Gap, GapPolicy, assess_bars, find_gaps
from retrain_assets.core.errors import DataSourceError

T0 = pd.Timestamp("2021-01-01", tz="UTC")
END = T0 + pd.Timedelta(days=30)  # the window's exclusive end: bars up to END - 1h
HOURS = 30 * 24


def _bars(missing: list[int] = (), repeats: pd.DataFrame | None = None, hours: int = HOURS):
    raw = pd.DataFrame(
        {
            "timestamp": pd.date_range(T0, periods=hours, freq="h"),
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.5,
            "volume": 10.0,
        }
    ).drop(index=list(missing))
    if repeats is not None:
        raw = pd.concat([raw, repeats], ignore_index=True)
    return validate_bars(raw, "ETHUSDT")


def _hours_before_end(start: int, length: int) -> list[int]:
    return list(range(HOURS - start, HOURS - start + length))


def test_gaps_are_runs_of_missing_bars_and_a_trailing_run_before_the_end():
    bars, _ = _bars(missing=[10, 11, 12, 50], hours=100)
    end = T0 + pd.Timedelta(hours=103)  # bars 100..102 never came
    assert find_gaps(bars["timestamp"], end=end) == (
        Gap(T0 + pd.Timedelta(hours=10), 3),
        Gap(T0 + pd.Timedelta(hours=50), 1),
        Gap(T0 + pd.Timedelta(hours=100), 3),
    )
    assert find_gaps(bars["timestamp"]) == find_gaps(bars["timestamp"], end=end)[:2]


def test_clean_bars_and_short_outages_raise_no_warning():
    bars, report = _bars(missing=[100, *_hours_before_end(48, 5)])
    quality = assess_bars(bars, report, END)
    assert quality.warnings == ()
    assert quality.to_json_dict()["missing_bars"] == 6
    assert quality.to_json_dict()["longest_gap"]["bars"] == 5


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        (_hours_before_end(100, 6), "gap of 6 h from 2021-01-26 20:00 UTC near the date"),
        (list(range(100, 130)), "gap of 30 h from 2021-01-05 04:00 UTC"),  # far from the date
    ],
)
def test_a_long_gap_near_the_date_or_a_day_long_gap_anywhere_is_a_warning(missing, expected):
    bars, report = _bars(missing=missing)
    assert assess_bars(bars, report, END).warnings == (f"ETHUSDT: {expected}",)


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param(_hours_before_end(100, 24), id="a-day-long-gap-in-the-last-week"),
        pytest.param(_hours_before_end(30, 30), id="bars-stop-a-day-before-the-date"),
    ],
)
def test_a_day_without_bars_near_the_date_fails_the_symbol(missing):
    bars, report = _bars(missing=missing)
    with pytest.raises(DataSourceError, match=r"ETHUSDT: no bars for \d+ h from .* of the date"):
        assess_bars(bars, report, END)


def test_conflicting_duplicates_warn_and_fail_past_the_share_the_policy_allows():
    bars_a, _ = _bars()
    few = bars_a.iloc[:3].assign(close=100.9)
    bars, report = _bars(repeats=few)
    quality = assess_bars(bars, report, END)
    assert quality.conflicting_duplicates == 3
    assert quality.warnings == (
        "ETHUSDT: 3 timestamps had conflicting duplicate bars (the last kept)",
    )
    with pytest.raises(DataSourceError, match="3 timestamps have conflicting duplicate bars"):
        assess_bars(bars, report, END, GapPolicy(fail_conflict_share=0.001))
