"""Data checks of one symbol's bars: freshness, gaps, duplicates, rows, zero volume, prices."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.data.bars import validate_bars
from retrain_assets.core.data.data_checks import (
    DATA_CHECK_NAMES,
    ERROR,
    WARN,
    CheckOutcome,
    DataCheckPolicy,
    bar_checks,
    data_freshness,
    failed_errors,
    gaps_and_duplicates,
    price_sanity,
    usable_rows,
    zero_volume_share,
)
from retrain_assets.core.data.synthetic import SyntheticSource

END = pd.Timestamp("2021-06-02", tz="UTC")  # the close of 2021-06-01
POLICY = DataCheckPolicy()


def _bars(days: int = 30) -> tuple[pd.DataFrame, object]:
    """Thirty days of clean synthetic bars up to the 23:00 bar of 2021-06-01."""
    return SyntheticSource().load("BTCUSDT", END, pd.Timedelta(days=days))


def _without(bars: pd.DataFrame, start: str, hours: int) -> pd.DataFrame:
    """The bars with `hours` bars missing from `start`, revalidated."""
    ts = bars["timestamp"]
    first = pd.Timestamp(start, tz="UTC")
    kept = bars.loc[(ts < first) | (ts >= first + pd.Timedelta(hours=hours))]
    return kept.reset_index(drop=True)


def _state(outcome: CheckOutcome) -> str:
    return "pass" if outcome.passed else outcome.severity


def test_clean_synthetic_bars_pass_every_bar_check_in_the_fixed_order():
    bars, report = _bars()
    outcomes = bar_checks(bars, report, END)
    assert [o.name for o in outcomes] == [n for n in DATA_CHECK_NAMES if n != "usable_rows"]
    assert [_state(o) for o in outcomes] == ["pass"] * 4
    assert failed_errors(outcomes) == ()


@pytest.mark.parametrize(
    ("stops_hours_before", "expected"),
    [(0, "pass"), (2, WARN), (4, ERROR), (5, ERROR)],
)
def test_freshness_warns_from_one_hour_and_fails_from_four(stops_hours_before, expected):
    bars, _ = _bars()
    bars = bars.iloc[: len(bars) - stops_hours_before]
    outcome = data_freshness(bars, END, POLICY)
    assert _state(outcome) == expected
    assert outcome.metadata["stale_hours"] == stops_hours_before


def test_a_feed_that_stops_five_hours_before_the_close_fails_freshness_naming_the_hours():
    bars, _ = _bars()
    outcome = data_freshness(bars.iloc[:-5], END, POLICY)
    assert outcome.description == "last bar 2021-06-01 18:00 UTC, 5 h before the close (limit 4 h)"


def test_no_bars_at_all_fail_freshness_and_gaps():
    bars, report = _bars()
    empty = bars.iloc[:0]
    assert _state(data_freshness(empty, END, POLICY)) == ERROR
    assert _state(gaps_and_duplicates(empty, report, END, POLICY)) == ERROR


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        ("2021-05-30 02:00", 30, ERROR),
        ("2021-05-30 02:00", 8, WARN),
        ("2021-05-30 02:00", 3, "pass"),
        # Deep in the window, far from the date: only the newest rows read the last week.
        ("2021-05-10 02:00", 30, "pass"),
    ],
)
def test_a_long_gap_near_the_date_fails_and_a_shorter_one_warns(start, hours, expected):
    bars, report = _bars()
    outcome = gaps_and_duplicates(_without(bars, start, hours), report, END, POLICY)
    assert _state(outcome) == expected
    if expected != "pass":
        assert outcome.metadata["longest_recent_gap_hours"] == hours
        assert f"{hours} h from {start} UTC" in outcome.description


def test_no_recent_gap_leaves_the_longest_recent_gap_undefined_not_zero():
    bars, report = _bars()
    outcome = gaps_and_duplicates(bars, report, END, POLICY)
    assert outcome.metadata["longest_recent_gap_hours"] is None
    assert outcome.metadata["recent_gaps"] == 0


def _with_duplicates(conflicting: int, exact: int) -> tuple[pd.DataFrame, object]:
    """Validated bars whose source repeated some rows, `conflicting` of them with new closes."""
    bars, _ = _bars()
    changed = bars.iloc[:conflicting].assign(close=bars["close"].iloc[:conflicting] * 1.001)
    raw = pd.concat([bars, changed, bars.iloc[100 : 100 + exact]], ignore_index=True)
    return validate_bars(raw, "BTCUSDT")


@pytest.mark.parametrize(
    ("conflicting", "exact", "expected"),
    [(0, 0, "pass"), (0, 3, WARN), (1, 0, WARN), (20, 0, ERROR)],
)
def test_conflicting_duplicates_above_one_percent_fail_and_any_duplicate_warns(
    conflicting, exact, expected
):
    bars, report = _with_duplicates(conflicting, exact)
    assert report.conflicting_duplicates == conflicting  # 20 of 720 bars is 2.8%
    outcome = gaps_and_duplicates(bars, report, END, POLICY)
    assert _state(outcome) == expected
    assert outcome.metadata["dropped_duplicates"] == conflicting + exact


@pytest.mark.parametrize(("found", "expected"), [(1_999, ERROR), (2_000, "pass")])
def test_fewer_usable_rows_than_the_split_needs_fail(found, expected):
    outcome = usable_rows(found, 2_000)
    assert _state(outcome) == expected
    assert outcome.metadata == {"found": found, "needed": 2_000}
    assert f"{found:,} labelled feature rows, 2,000 needed" == outcome.description


@pytest.mark.parametrize(
    ("zero_bars", "expected"),
    # Of the 168 recent bars: 8 is 4.8% (under 5%), 9 is 5.4%, 85 is 50.6%.
    [(0, "pass"), (8, "pass"), (9, WARN), (84, WARN), (85, ERROR)],
)
def test_zero_volume_warns_above_five_percent_of_the_week_and_fails_above_half(zero_bars, expected):
    bars, _ = _bars()
    bars.loc[bars.index[len(bars) - zero_bars :], "volume"] = 0.0
    outcome = zero_volume_share(bars, END, POLICY)
    assert _state(outcome) == expected
    assert outcome.metadata["zero_volume_bars"] == zero_bars
    assert outcome.metadata["recent_bars"] == 168


def test_zero_volume_outside_the_recent_week_is_not_counted():
    bars, _ = _bars()
    bars.loc[bars.index[:200], "volume"] = 0.0
    assert zero_volume_share(bars, END, POLICY).passed


def test_a_bar_with_its_high_below_its_close_fails_price_sanity():
    bars, report = _bars()
    # Validation keeps it (its high is still above its low), so the check must catch it.
    i = bars.index[-10]
    bars.loc[i, "high"] = bars.loc[i, "close"] * 0.999
    bars.loc[i, "low"] = bars.loc[i, "high"] * 0.99
    outcome = price_sanity(bars, report, END, POLICY)
    assert _state(outcome) == ERROR
    assert outcome.metadata["high_below_body"] == 1
    assert "1 bars with high below body" in outcome.description


def test_a_non_positive_price_fails_price_sanity():
    bars, report = _bars()
    bars.loc[bars.index[5], "low"] = 0.0
    outcome = price_sanity(bars, report, END, POLICY)
    assert _state(outcome) == ERROR
    assert outcome.metadata["non_positive_prices"] == 1


def test_a_seventy_percent_jump_near_the_date_warns_naming_its_bar():
    bars, report = _bars()
    after = bars["timestamp"] >= pd.Timestamp("2021-05-31 14:00", tz="UTC")
    bars.loc[after, ["open", "high", "low", "close"]] *= 1.7
    outcome = price_sanity(bars, report, END, POLICY)
    assert _state(outcome) == WARN
    assert outcome.metadata["max_abs_log_return"] == pytest.approx(np.log(1.7), abs=0.05)
    assert "2021-05-31 14:00 UTC" in outcome.description


def _with_nan_prices(start: str, hours: int) -> tuple[pd.DataFrame, object]:
    """Clean bars whose source sent `hours` bars from `start` with NaN open and close."""
    raw, _ = _bars()
    ts = raw["timestamp"]
    first = pd.Timestamp(start, tz="UTC")
    raw.loc[(ts >= first) & (ts < first + pd.Timedelta(hours=hours)), ["open", "close"]] = np.nan
    return validate_bars(raw, "BTCUSDT")


def test_six_hours_of_nan_prices_near_the_date_fail_price_sanity_naming_them():
    bars, report = _with_nan_prices("2021-06-01 03:00", 6)
    # Dropped by validation, they are only a 6 h gap (a warning) to the gap check.
    assert _state(gaps_and_duplicates(bars, report, END, POLICY)) == WARN
    outcome = price_sanity(bars, report, END, POLICY)
    assert _state(outcome) == ERROR
    assert outcome.description.startswith(
        "6 bars with NaN open/close from 2021-06-01 03:00 to 08:00 UTC, within 168 h of the close"
    )
    assert outcome.metadata["recent_broken_price_bars"] == 6
    assert [o.name for o in failed_errors(bar_checks(bars, report, END))] == ["price_sanity"]


def test_one_broken_bar_is_named_by_its_hour_and_a_span_across_midnight_by_both_dates():
    bars, report = _with_nan_prices("2021-05-31 23:00", 1)
    assert "1 bar with NaN open/close at 2021-05-31 23:00 UTC," in (
        price_sanity(bars, report, END, POLICY).description
    )
    bars, report = _with_nan_prices("2021-05-31 22:00", 3)
    assert "from 2021-05-31 22:00 to 2021-06-01 00:00 UTC" in (
        price_sanity(bars, report, END, POLICY).description
    )


def test_nan_prices_older_than_the_recent_week_are_only_invalid_rows():
    # Like a gap that far back, they cost only the rows that read them.
    bars, report = _with_nan_prices("2021-05-10 03:00", 6)
    outcome = price_sanity(bars, report, END, POLICY)
    assert _state(outcome) == WARN
    assert outcome.metadata["recent_broken_price_bars"] == 0
    assert "6 invalid rows dropped" in outcome.description


@pytest.mark.parametrize(("dropped", "expected"), [(0, "pass"), (1, WARN), (20, ERROR)])
def test_rows_dropped_as_invalid_warn_and_fail_above_one_percent(dropped, expected):
    bars, report = _bars()
    outcome = price_sanity(bars, replace(report, dropped_invalid=dropped), END, POLICY)
    assert _state(outcome) == expected
    assert outcome.metadata["dropped_invalid"] == dropped


def test_failed_errors_keep_only_the_error_failures():
    bars, report = _bars()
    stale = bars.iloc[:-8].copy()  # stale (ERROR) and its trailing gap of 8 h (WARN)
    outcomes = (*bar_checks(stale, report, END), usable_rows(10, 5))
    assert [_state(o) for o in outcomes] == [ERROR, WARN, "pass", "pass", "pass"]
    assert [o.name for o in failed_errors(outcomes)] == ["data_freshness"]


def test_an_outcome_is_json_ready():
    bars, report = _bars()
    outcomes = bar_checks(bars.iloc[:-2], report, END)
    text = json.dumps([o.to_json_dict() for o in outcomes], allow_nan=False)
    assert json.loads(text)[0]["name"] == "data_freshness"
