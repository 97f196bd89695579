"""Models that can trade what they learned: the tree floor and the calibration slope."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.planted_models import summary, walk
from retrain_assets.core.data.data_checks import WARN
from retrain_assets.core.lifecycle.pipeline import chosen_iterations
from retrain_assets.core.model.calibration import (
    UNCALIBRATED_SLOPE,
    calibration_slope,
    fit_calibration,
    tree_floor,
)
from retrain_assets.core.model.training import TrainedModel, TrainingParams
from retrain_assets.core.trading.evaluation import evaluate
from retrain_assets.core.trading.walk_forward import day_rows, trade_day
from tests.fakes.costs import fee_only_costs

DAY = "2024-03-02"


def test_the_slope_recovers_how_much_of_the_prediction_is_realized():
    rng = np.random.default_rng(0)
    p = rng.standard_normal(5000) * 1e-3
    y = 0.4 * p + rng.standard_normal(5000) * 1e-3
    fitted = fit_calibration(p, y, max_slope=5.0, window=("a", "b"))
    assert fitted.slope == pytest.approx(0.4, abs=0.05)
    assert fitted.rows == 5000
    assert fitted.to_json_dict()["window"] == ["a", "b"]


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        (-1.0, 0.0),  # an inverse relation: trading it would be a bet the fit never made
        (50.0, 5.0),  # a prediction shrunk 50-fold: capped, its scale is mostly noise
    ],
)
def test_the_slope_is_clipped_to_zero_and_the_cap(scale: float, expected: float):
    p = np.linspace(-1e-3, 1e-3, 101)
    fitted = fit_calibration(p, scale * p, max_slope=5.0)
    assert fitted.raw_slope == pytest.approx(scale)
    assert fitted.slope == expected


def test_a_model_that_always_predicts_zero_has_no_slope_and_nan_rows_are_left_out():
    fitted = fit_calibration(np.zeros(3), np.array([0.1, np.nan, -0.1]), max_slope=5.0)
    assert fitted.raw_slope is None
    assert fitted.slope == 0.0
    assert fitted.rows == 2


def test_a_model_without_a_recorded_calibration_trades_its_raw_prediction():
    assert calibration_slope({"symbol": "BTCUSDT"}) == UNCALIBRATED_SLOPE
    assert calibration_slope({"calibration": {"slope": 0.0}}) == 0.0


@pytest.mark.parametrize(
    ("tree_count", "params", "expected"),
    [
        (1, TrainingParams(min_trees=50), 50),  # one noisy early stop: the floor
        (120, TrainingParams(min_trees=50), 120),
        (1, TrainingParams(iterations=10, min_trees=50), 10),  # a dry run's budget caps it
    ],
)
def test_the_chosen_tree_count_never_goes_below_the_floor(
    tree_count: int, params: TrainingParams, expected: int
):
    held_out = TrainedModel(b"", {}, {"tree_count": tree_count})
    assert chosen_iterations(held_out, params) == expected


def test_a_live_model_below_the_tree_floor_is_a_warning_that_names_it():
    outcome = tree_floor("BTCUSDT 2024-03-01", trees=1, floor=50)
    assert not outcome.passed
    assert outcome.severity == WARN
    assert "BTCUSDT 2024-03-01" in outcome.description
    assert "1 trees" in outcome.description and "50" in outcome.description
    assert tree_floor("BTCUSDT 2024-03-01", trees=50, floor=50).passed


def test_a_model_lifted_to_the_floor_by_an_early_stop_at_iteration_one_is_a_warning():
    outcome = tree_floor("BTCUSDT 2024-03-01", trees=50, floor=50, best_iteration=1)
    assert not outcome.passed and outcome.severity == WARN
    assert "only because of the floor of 50" in outcome.description
    assert "best iteration 1" in outcome.description
    assert tree_floor("BTCUSDT 2024-03-01", trees=300, floor=50, best_iteration=299).passed
    assert tree_floor("BTCUSDT 2024-03-01", trees=50, floor=50, best_iteration=49).passed


def _rows() -> pd.DataFrame:
    """One day of flat hourly bars with a known label, for the cost rule alone."""
    stamps = pd.date_range(DAY, periods=24, freq="h", tz="UTC")
    return pd.DataFrame(
        {"timestamp": stamps, "close": 100.0, "open": 100.0, "sigma": 0.01, "label": 0.0}
    )


@pytest.mark.parametrize(("slope", "trades"), [(0.0, 0), (1.0, 0), (3.0, 1)])
def test_the_ledger_and_the_test_window_apply_the_slope_before_the_cost_rule(
    slope: float, trades: int
):
    prediction = np.zeros(24)
    prediction[3] = 5e-4  # 5 bps: below a 10 bps round trip unless the slope scales it up
    rows = day_rows(_rows(), DAY)
    costs = fee_only_costs(5.0)
    ledger = trade_day(
        "BTCUSDT", DAY, "x", rows, prediction, costs, costs_as_of=DAY, horizon=4, slope=slope
    )
    metrics = evaluate(_rows(), prediction, costs, horizon=4, slope=slope)
    assert len(ledger.trades) == trades
    assert metrics.strategy.trades == trades
    assert ledger.prediction[3] == pytest.approx(5e-4)  # the ledger records the raw prediction


def test_calibrated_live_models_trade_a_planted_edge_and_not_a_random_walk(tmp_path: Path):
    params = TrainingParams(thread_count=2)
    edge = summary(walk(0.5, symbols=2, days=3, params=params, work=tmp_path / "edge"))
    null = summary(walk(0.0, symbols=2, days=2, params=params, work=tmp_path / "null"))
    assert edge["trees_min"] >= params.min_trees
    assert edge["slope_median"] > 0.5
    assert edge["trades"] >= 10
    assert edge["net_bps_total"] > 0.0
    assert null["slope_median"] < 0.5
    assert null["trades"] <= 2


def test_with_calibration_off_the_slope_is_one_and_nothing_is_fitted():
    from dataclasses import replace as with_params
    from types import SimpleNamespace

    from retrain_assets.core.lifecycle.pipeline import calibrate as calibrate_job
    from retrain_assets.core.model.training import TrainingParams

    job = SimpleNamespace(
        params=with_params(TrainingParams(), calibrate=False), segments={"validation": (0, 1)}
    )
    found = calibrate_job(None, None, job)  # type: ignore[arg-type]
    assert found.slope == 1.0 and found.raw_slope is None and found.rows == 0
