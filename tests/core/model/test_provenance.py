"""Provenance: what made a symbol-day, and why a record made another way is stale."""

import pandas as pd
import pytest

from retrain_assets.core.model.provenance import (
    ASSET_SETTINGS,
    Current,
    Method,
    Provenance,
    bars_sha256,
    method_changes,
    stale_reason,
)


def _settings(**changes) -> dict:
    names = {n for names in ASSET_SETTINGS.values() for n in names}
    base = {n: 1 for n in names} | {"lookback_days": 180, "trainer": "pkg:Trainer"}
    return base | changes


def _current(source: str = "files /data", **changes) -> Current:
    return Current(source.split()[0], source, Method(_settings(**changes)))


def _bars() -> pd.DataFrame:
    stamps = pd.date_range("2021-01-01", periods=4, freq="h", tz="UTC")
    return pd.DataFrame(
        {"timestamp": stamps, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10}
    )


def test_the_bars_fingerprint_ignores_index_column_order_and_dtypes_but_not_values():
    bars = _bars()
    shuffled = bars[["volume", "close", "timestamp", "low", "high", "open"]].copy()
    shuffled.index = [7, 8, 9, 10]
    shuffled["volume"] = shuffled["volume"].astype("float32")
    assert bars_sha256(shuffled) == bars_sha256(bars)
    changed = bars.copy()
    changed.loc[2, "close"] = 1.5000001
    assert bars_sha256(changed) != bars_sha256(bars)


def test_a_cost_setting_changes_the_costs_method_but_not_the_features_or_the_model():
    before, after = Method(_settings()), Method(_settings(**{"cost.taker_fee_bps": 7.5}))
    assert before.digest_of("costs") != after.digest_of("costs")
    assert before.digest_of("walk_forward") != after.digest_of("walk_forward")
    assert before.digest_of("features") == after.digest_of("features")
    assert before.digest_of("model") == after.digest_of("model")


def test_a_method_without_a_setting_its_asset_needs_is_a_wiring_error():
    with pytest.raises(KeyError, match=r"cost\.venue"):
        Method({"lookback_days": 180}).of("costs")


def test_the_reason_names_each_changed_setting_with_its_old_and_new_value():
    text = method_changes({"lookback_days": 180, "depth": 6}, {"lookback_days": 120, "depth": 6})
    assert text == "lookback_days 180 -> 120"
    many = method_changes({f"s{i}": i for i in range(5)}, {f"s{i}": i + 1 for i in range(5)})
    assert many.endswith("(+2 more)")


def test_a_record_from_another_source_is_stale_and_says_which():
    made = _current("synthetic seed 7").provenance("features", bars="ab")
    why = stale_reason(made, _current("files /data"), "features")
    assert why == "data source synthetic seed 7 -> files /data"


def test_a_record_from_another_method_is_stale_and_names_the_setting():
    made = _current().provenance("features", bars="ab")
    assert stale_reason(made, _current(), "features") is None
    why = stale_reason(made, _current(lookback_days=120), "features")
    assert why == "method lookback_days 180 -> 120"


def test_a_record_without_provenance_is_stale():
    assert stale_reason(None, _current(), "model") == "made before provenance was recorded"
    assert Provenance.from_json_dict({"files": {}}) is None


def test_a_record_survives_its_json_round_trip():
    made = _current().provenance("model", bars="ab", trainer="pkg:Trainer")
    assert Provenance.from_json_dict(made.to_json_dict()) == made
    assert made.family == f"{made.method}@files"  # the kind: a renamed folder is one family


def test_the_code_version_changes_with_the_source_as_well_as_the_method():
    assert _current("files /data").code_version("model") != _current(
        "synthetic seed 7"
    ).code_version("model")
    assert _current().code_version("model") != _current(depth=4).code_version("model")
    assert _current().code_version("costs") == _current(depth=4).code_version("costs")
