"""`--dates FIRST..LAST`: the days of a range, checked whole."""

from datetime import UTC, datetime

import pytest

from retrain_assets.core.data.dates import MAX_DATES, date_range
from retrain_assets.core.errors import PermanentError

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def test_a_range_is_every_day_from_first_to_last_oldest_first():
    assert date_range("2025-05-29..2025-05-31", "2025-01-01", NOW) == [
        "2025-05-29",
        "2025-05-30",
        "2025-05-31",
    ]
    assert date_range("2025-05-01..2025-05-01", "2025-01-01", NOW) == ["2025-05-01"]


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("2025-05-01", "expected FIRST..LAST"),
        ("2025-05-02..2025-05-01", "the last day is before the first"),
        ("2025-05-01..2025-06-01", "not a complete UTC day yet"),
        ("2024-12-31..2025-01-02", "before the first partition"),
        ("2025-5-x..2025-05-02", "expected YYYY-MM-DD"),
    ],
)
def test_a_bad_range_says_what_is_wrong(spec, says):
    with pytest.raises(PermanentError, match=says):
        date_range(spec, "2025-01-01", NOW)


def test_a_range_has_a_ceiling():
    with pytest.raises(PermanentError, match=f"at most {MAX_DATES}"):
        date_range("2010-01-01..2025-05-01", "2000-01-01", NOW)
