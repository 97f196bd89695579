import json

import pandas as pd
import pytest

from retrain_assets.core.errors import InsufficientHistoryError, PermanentError
from retrain_assets.core.model.splits import Splits, purged_split, rows_needed


def hourly(n: int) -> pd.Series:
    return pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))


@pytest.mark.parametrize(
    ("horizon", "purge", "labelled"),
    [
        (1, None, None),
        (4, None, 3000 - 4),  # build_features leaves the last h rows unlabelled
        (4, 24, 3000 - 4),  # a wider purge than the horizon is allowed
        (24, None, 3000 - 24),
    ],
)
def test_segments_are_ordered_disjoint_and_purged_by_at_least_the_horizon(horizon, purge, labelled):
    ts = hourly(3000)
    splits = purged_split(
        ts, horizon, test_bars=300, validation_bars=200, purge_bars=purge, labelled_rows=labelled
    )
    train, val, test = splits.train, splits.validation, splits.test
    assert splits.purge_bars >= horizon
    assert (train.start_row, train.rows, val.rows, test.rows) == (0, train.rows, 200, 300)
    assert val.start_row - train.end_row == splits.purge_bars
    assert test.start_row - val.end_row == splits.purge_bars
    # No label window of a segment reaches into the next one.
    assert train.end_row - 1 + horizon < val.start_row
    assert val.end_row - 1 + horizon < test.start_row
    # The test segment ends at the last labelled row; unlabelled rows belong to no segment.
    assert test.end_row == (labelled or 3000)
    assert test.end_ts == ts.iloc[test.end_row - 1]
    assert train.start_ts < train.end_ts < val.start_ts <= val.end_ts < test.start_ts


def test_purge_shorter_than_the_horizon_is_rejected():
    with pytest.raises(PermanentError, match="purge_bars"):
        purged_split(hourly(5000), horizon=4, purge_bars=2)


def test_too_short_a_history_is_insufficient_history_for_that_symbol():
    # 60 days train + 20 validation + 30 test + 2 purges of 4 rows are needed by default.
    with pytest.raises(InsufficientHistoryError, match="SOL/USDT") as info:
        purged_split(hourly(24 * 100), horizon=4, symbol="SOL/USDT")
    assert info.value.needed == 24 * 110 + 8 == rows_needed(horizon=4)
    assert "2,400 labelled feature rows found, 2,648 needed" in str(info.value)
    assert purged_split(hourly(24 * 110 + 8), horizon=4).train.rows == 24 * 60


def test_splits_round_trip_through_json_with_iso_timestamps():
    splits = purged_split(hourly(3000), 4, test_bars=300, validation_bars=200, min_train_bars=10)
    data = json.loads(json.dumps(splits.to_json_dict()))
    assert data["test"]["start_ts"] == splits.test.start_ts.isoformat()
    assert data["purge_bars"] == 4
    assert Splits.from_json_dict(data) == splits
    assert splits.row_ranges()["validation"] == (
        splits.validation.start_row,
        splits.validation.end_row,
    )


def test_segment_slices_select_the_segment_rows():
    frame = pd.DataFrame({"timestamp": hourly(3000), "x": range(3000)})
    splits = purged_split(frame["timestamp"], 4, test_bars=300, validation_bars=200)
    test_rows = frame.iloc[splits.test.start_row : splits.test.end_row]
    assert len(test_rows) == 300
    assert test_rows["timestamp"].iloc[0] == splits.test.start_ts
