"""The CatBoost trainer: deterministic, tidy, checkpointed, chunked on demand, and pluggable.

The chunked fit runs on CPU here (`CatBoostTrainer(deadline_check="chunks")`), where CatBoost's
snapshot resume is the same Python call as on a GPU; that the GPU build writes and resumes its
snapshot at each chunk's end is checked only by `bench/gpu_packing.py --deadline_check` on a GPU.
"""

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retrain_assets.adapters.catboost_trainer import (
    DEFAULT_TRAINER,
    CatBoostTrainer,
    drop_checkpoint,
    load_trainer,
)
from retrain_assets.core.errors import PermanentError, TrainingTimeout
from retrain_assets.core.model.features import FEATURE_NAMES, LabelSpec, build_features
from retrain_assets.core.model.model_health import IMPORTANCE_KEY
from retrain_assets.core.model.splits import purged_split
from retrain_assets.core.model.training import TrainingInput, TrainingParams

NAMES = ("signal", "noise_a", "noise_b", "noise_c")


def _job(bars, work_dir: Path, **params) -> TrainingInput:
    frame = build_features(bars, LabelSpec(horizon=4))
    splits = purged_split(
        frame["timestamp"], 4, labelled_rows=int(frame["label"].notna().sum()), symbol="BTCUSDT"
    )
    return TrainingInput(
        symbol="BTCUSDT",
        as_of="2025-05-31",
        frame=frame,
        feature_names=FEATURE_NAMES,
        segments=splits.row_ranges(),
        label={"column": "label", "horizon_bars": 4},
        params=TrainingParams(iterations=40, **params),
        work_dir=work_dir,
    )


def _predict(trained, job: TrainingInput) -> np.ndarray:
    start, end = job.segments["test"]
    test = job.frame.iloc[start:end][list(job.feature_names)]
    return CatBoostTrainer().predict(trained.model_bytes, test)


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


def test_same_data_and_config_give_the_same_predictions(synthetic_bars, tmp_path):
    first_job = _job(synthetic_bars, tmp_path / "a")
    first = CatBoostTrainer().train(first_job)
    second = CatBoostTrainer().train(_job(synthetic_bars, tmp_path / "b"))
    np.testing.assert_array_equal(_predict(first, first_job), _predict(second, first_job))
    assert first.config["seed"] == 42
    assert first.config["catboost_version"]
    assert len(first.training_log["learning_curves"]["learn"]["RMSE"]) > 0


def test_training_leaves_no_catboost_info_in_the_working_directory(
    synthetic_bars, tmp_path, monkeypatch
):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    CatBoostTrainer().train(_job(synthetic_bars, tmp_path / "ckpt"))
    assert list(workdir.iterdir()) == []
    # The trainer keeps its snapshot (a fit cut short by a signal may return normally); the
    # caller drops it once the model is accepted.
    job = _job(synthetic_bars, tmp_path / "ckpt")
    assert (tmp_path / "ckpt").exists()
    drop_checkpoint(job)
    assert not (tmp_path / "ckpt").exists()


@pytest.mark.slow(seconds=15)
def test_a_training_stopped_midway_resumes_from_its_snapshot(synthetic_bars, tmp_path):
    # ~10 ms a tree here: the deadline stops the fit about a tenth of the way.
    job = _job(synthetic_bars, tmp_path / "ckpt", snapshot_interval_s=0)
    job = TrainingInput(
        **{
            **job.__dict__,
            "params": TrainingParams(
                iterations=1000, early_stopping_rounds=1000, snapshot_interval_s=0
            ),
        }
    )
    stopped = TrainingInput(**{**job.__dict__, "deadline_monotonic": time.monotonic() + 1.0})
    with pytest.raises(TrainingTimeout):
        CatBoostTrainer().train(stopped)
    assert (job.work_dir / "snapshot.cbs").exists()

    resumed = CatBoostTrainer().train(job)

    assert resumed.training_log["resumed_from_snapshot"] is True
    assert resumed.training_log["first_iteration_this_attempt"] > 0


def test_a_passed_deadline_is_a_timeout(synthetic_bars, tmp_path):
    job = _job(synthetic_bars, tmp_path / "ckpt")
    late = TrainingInput(**{**job.__dict__, "deadline_monotonic": 0.0})
    with pytest.raises(TrainingTimeout):
        CatBoostTrainer().train(late)


@pytest.mark.parametrize(
    "path", ["nocolon", "no.such.module:Trainer", "retrain_assets.core.model.training:nothing_here"]
)
def test_a_bad_trainer_path_is_a_clear_permanent_error(path):
    with pytest.raises(PermanentError, match="trainer"):
        load_trainer(path)


def test_the_default_trainer_loads_by_import_path():
    assert DEFAULT_TRAINER == "retrain_assets.adapters.catboost_trainer:CatBoostTrainer"
    assert load_trainer(DEFAULT_TRAINER).name == "catboost"


@pytest.mark.parametrize(
    "path",
    [
        "retrain_assets.core.training:CatBoostTrainer",  # before core/ was split by concern
        "retrain_assets.core.model.training:CatBoostTrainer",  # before the trainer left core/
    ],
)
def test_a_former_path_of_the_default_trainer_still_loads_it(path):
    trainer = load_trainer(path)
    assert isinstance(trainer, CatBoostTrainer)
    assert trainer.name == "catboost"


@pytest.mark.parametrize(
    ("min_trees", "early_stopping_rounds"),
    [
        (1, 5),  # no floor: the early stop's own count
        (25, 5),  # a floor beyond the patience: waiting longer grows enough trees for it
    ],
)
def test_an_early_stopped_fit_keeps_its_best_count_or_the_floor(
    synthetic_bars, tmp_path, min_trees: int, early_stopping_rounds: int
):
    job = _job(
        synthetic_bars,
        tmp_path,
        min_trees=min_trees,
        early_stopping_rounds=early_stopping_rounds,
    )
    log = CatBoostTrainer().train(job).training_log
    assert log["tree_count"] == max(log["best_iteration"] + 1, min_trees)


@pytest.mark.parametrize("early_stopping_rounds", [60, 3000])
def test_a_chunked_catboost_fit_predicts_what_one_fit_does(
    synthetic_bars, tmp_path, early_stopping_rounds
):
    params = TrainingParams(iterations=250, early_stopping_rounds=early_stopping_rounds)
    one = _job(synthetic_bars, tmp_path / "one")
    one = replace(one, params=params)
    chunked = replace(one, work_dir=tmp_path / "chunked", deadline_monotonic=time.monotonic() + 600)

    whole = CatBoostTrainer().train(one)
    grown = CatBoostTrainer(deadline_check="chunks").train(chunked)

    assert grown.training_log["fit_chunks"] > 1
    assert whole.training_log["fit_chunks"] is None  # the CPU's callback
    assert grown.training_log["tree_count"] == whole.training_log["tree_count"]
    assert grown.training_log["best_iteration"] == whole.training_log["best_iteration"]
    np.testing.assert_array_equal(_predict(grown, one), _predict(whole, one))


def test_a_chunked_catboost_fit_stops_at_its_deadline_and_resumes_from_its_snapshot(
    synthetic_bars, tmp_path
):
    params = TrainingParams(iterations=20_000, early_stopping_rounds=20_000, snapshot_interval_s=0)
    job = replace(_job(synthetic_bars, tmp_path / "ckpt"), params=params)
    started = time.monotonic()
    with pytest.raises(TrainingTimeout):
        CatBoostTrainer(deadline_check="chunks").train(
            replace(job, deadline_monotonic=started + 2.0)
        )
    assert time.monotonic() - started < 2.0 + 5.0  # the soft deadline, inside the hard grace
    assert (job.work_dir / "snapshot.cbs").exists()

    # Fewer iterations, the same patience: CatBoost's snapshot check ignores `iterations` only.
    short = replace(job, params=replace(params, iterations=40))
    resumed = CatBoostTrainer(deadline_check="chunks").train(
        replace(short, deadline_monotonic=time.monotonic() + 600)
    )
    assert resumed.training_log["resumed_from_snapshot"] is True


def test_a_passed_deadline_is_a_timeout_before_any_chunk(synthetic_bars, tmp_path):
    job = replace(_job(synthetic_bars, tmp_path / "ckpt"), deadline_monotonic=0.0)
    with pytest.raises(TrainingTimeout):
        CatBoostTrainer(deadline_check="chunks").train(job)


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
