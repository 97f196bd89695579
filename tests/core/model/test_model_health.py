"""A model's health: its trees, best iteration and CatBoost's feature importance, in words."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.model.model_health import (
    IMPORTANCE_KEY,
    health_record,
    health_text,
    reported_importance,
    top_importances,
)
from retrain_assets.core.model.training import CatBoostTrainer, TrainingInput, TrainingParams

NAMES = ("signal", "noise_a", "noise_b", "noise_c")


def _planted_job(work_dir: Path, **params) -> TrainingInput:
    """A frame whose label is the `signal` column plus a little noise: the model must see it."""
    rng = np.random.default_rng(7)
    n = 600
    frame = pd.DataFrame({name: rng.normal(size=n) for name in NAMES})
    frame["label"] = 0.01 * frame["signal"] + 0.001 * rng.normal(size=n)
    frame["timestamp"] = pd.date_range("2025-01-01", periods=n, freq="h", tz="UTC")
    return TrainingInput(
        symbol="BTCUSDT",
        as_of="2025-01-25",
        frame=frame,
        feature_names=NAMES,
        segments={"train": (0, 450), "validation": (450, 600)},
        label={"column": "label"},
        params=TrainingParams(**{"iterations": 40, "min_trees": 1, **params}),
        work_dir=work_dir,
    )


def test_a_catboost_fit_records_its_top_features_by_importance(tmp_path):
    trained = CatBoostTrainer().train(_planted_job(tmp_path))
    importance = trained.training_log[IMPORTANCE_KEY]
    assert importance[0]["feature"] == "signal"
    assert importance[0]["importance"] > 80.0  # the planted feature carries the model
    values = [r["importance"] for r in importance]
    assert values == sorted(values, reverse=True)
    assert sum(values) == pytest.approx(100.0, abs=0.01)


def test_a_one_tree_model_lists_only_the_features_it_split_on(tmp_path):
    trained = CatBoostTrainer().train(_planted_job(tmp_path, iterations=1, depth=1))
    assert trained.training_log["tree_count"] == 1
    assert [r["feature"] for r in trained.training_log[IMPORTANCE_KEY]] == ["signal"]
    assert trained.training_log[IMPORTANCE_KEY][0]["importance"] == pytest.approx(100.0)


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
