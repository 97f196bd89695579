"""The CatBoost trainer: deterministic, tidy, checkpointed, and pluggable."""

import time
from pathlib import Path

import numpy as np
import pytest

from retrain_assets.core.errors import PermanentError, TrainingTimeout
from retrain_assets.core.model.features import FEATURE_NAMES, LabelSpec, build_features
from retrain_assets.core.model.splits import purged_split
from retrain_assets.core.model.training import (
    CatBoostTrainer,
    TrainingInput,
    TrainingParams,
    drop_checkpoint,
    load_trainer,
)


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


def test_a_training_stopped_midway_resumes_from_its_snapshot(synthetic_bars, tmp_path):
    job = _job(synthetic_bars, tmp_path / "ckpt", snapshot_interval_s=0)
    job = TrainingInput(
        **{
            **job.__dict__,
            "params": TrainingParams(
                iterations=3000, early_stopping_rounds=3000, snapshot_interval_s=0
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
    assert load_trainer("retrain_assets.core.model.training:CatBoostTrainer").name == "catboost"


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
