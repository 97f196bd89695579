"""A symbol-day's key is built and read in one place, and agrees with Dagster's own key."""

import dagster as dg
import pytest

from retrain_assets.defs.partitions import SYMBOLS, symbol_day_partitions
from retrain_assets.vocabulary.keys import (
    is_symbol_day_key,
    key_file_stem,
    partition_key,
    partition_tags,
    run_key,
    split_partition_key,
    symbol_day_key,
)
from retrain_assets.vocabulary.tags import DATE_TAG, PARTITION_TAG, SYMBOL_TAG

CASES = [
    ("2026-01-31", "BTCUSDT"),
    ("2024-02-29", "000USDT"),  # sorts before the date, yet comes second: dimension names order
]


@pytest.mark.parametrize(("date", "symbol"), CASES)
def test_the_plain_key_is_the_string_dagster_makes_of_the_multi_partition_key(date, symbol):
    key = symbol_day_key(date, symbol)
    assert key == str(partition_key(date, symbol))
    assert type(key) is str


@pytest.mark.parametrize(("date", "symbol"), CASES)
def test_a_key_splits_back_into_its_date_and_symbol_whichever_form_it_takes(date, symbol):
    assert split_partition_key(symbol_day_key(date, symbol)) == (date, symbol)
    assert split_partition_key(partition_key(date, symbol)) == (date, symbol)


def test_a_key_dagster_hands_an_asset_splits_like_the_one_built_here():
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(SYMBOLS, ["ETHUSDT"])
        keys = symbol_day_partitions.get_partition_keys(dynamic_partitions_store=instance)
    key = next(k for k in keys if k.keys_by_dimension["date"] == "2026-01-31")
    assert split_partition_key(key) == ("2026-01-31", "ETHUSDT")
    assert split_partition_key(str(key)) == ("2026-01-31", "ETHUSDT")


def test_a_date_key_is_not_a_symbol_days():
    assert is_symbol_day_key(symbol_day_key("2026-01-31", "BTCUSDT"))
    assert not is_symbol_day_key("2026-01-31")


def test_a_key_names_a_file_without_its_separator():
    assert key_file_stem(partition_key("2026-01-31", "BTCUSDT")) == "2026-01-31_BTCUSDT"


def test_run_keys_keep_the_form_existing_instances_recorded():
    # A changed run key would let an upgraded schedule or sensor request a run again.
    tick = "2026-02-01T02:00:00+00:00"
    assert run_key(symbol_day_key("2026-01-31", "BTCUSDT"), tick) == f"2026-01-31|BTCUSDT|{tick}"
    assert run_key("summary", "backfill:abc", "2026-01-31") == "summary|backfill:abc|2026-01-31"


def test_a_runs_partition_tags_are_the_ones_dagster_writes():
    assert partition_tags("2026-01-31", "BTCUSDT") == {
        PARTITION_TAG: "2026-01-31|BTCUSDT",
        DATE_TAG: "2026-01-31",
        SYMBOL_TAG: "BTCUSDT",
    }
