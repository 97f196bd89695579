"""A model's health: its trees, best iteration and CatBoost's feature importance, in words."""

import pytest

from retrain_assets.core.model.model_health import (
    IMPORTANCE_KEY,
    health_record,
    health_text,
    reported_importance,
    top_importances,
)

NAMES = ("signal", "noise_a", "noise_b", "noise_c")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0, 1.0, 0.0, 0.0], [("signal", 75.0), ("noise_a", 25.0)]),  # unused features left out
        ([1.0, 1.0, 2.0, 0.0], [("noise_b", 50.0), ("noise_a", 25.0), ("signal", 25.0)]),  # ties
        ([0.0, 0.0, 0.0, 0.0], []),  # a model that split on nothing
        ([float("nan"), 1.0, 0.0, 0.0], [("noise_a", 100.0)]),
    ],
)
def test_importances_are_shares_of_the_total_largest_first(values, expected):
    got = [(r["feature"], r["importance"]) for r in top_importances(NAMES, values)]
    assert got == expected


def test_only_the_top_ten_are_kept():
    names = [f"f{i:02d}" for i in range(25)]
    kept = top_importances(names, [float(i) for i in range(25)])
    assert [r["feature"] for r in kept] == [f"f{i:02d}" for i in range(24, 14, -1)]


def test_mismatched_names_and_importances_are_refused():
    with pytest.raises(ValueError, match="4 feature names for 3 importances"):
        top_importances(NAMES, [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "log",
    [
        {},  # a trainer that reports no importance
        {IMPORTANCE_KEY: None},
        {IMPORTANCE_KEY: "rvol_168"},
        {IMPORTANCE_KEY: [{"feature": "rvol_168"}]},  # no value: not an importance
    ],
)
def test_a_trainer_without_importances_has_none_never_a_made_up_one(log):
    assert reported_importance(log) is None


def test_the_health_text_names_trees_best_iteration_and_top_features():
    importance = top_importances(["rvol_168", "ret_24", "vol_24", "z"], [46.2, 24.0, 16.8, 13.0])
    health = health_record(312, 311, importance)
    assert health_text(health) == (
        "312 trees (best iteration 311); top: rvol_168 46.2%, ret_24 24.0%, vol_24 16.8%"
    )
    assert health_text(health_record(2, None, None)) == "2 trees; top: not reported"
    assert health_text(health_record(1, 0, [])) == "1 tree (best iteration 0); top: none used"
    assert health_text(None) == "model health not recorded"
