"""Trainers for tests, selected with RETRAIN_TRAINER like a desk's own trainer would be.

`SlowTrainer` trains the symbols named in $SLOW_SYMBOLS with a long CatBoost budget (so a test
can kill or time out a training midway) and the others normally. `SleepyTrainer` sleeps in
Python for the symbols in $SLOW_SYMBOLS, a trainer that never looks at the clock.
"""

import os
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from retrain_assets.adapters.catboost_trainer import CatBoostTrainer
from retrain_assets.core.model.training import TrainedModel, TrainingInput

LIVE_TREES = 100


def _slow(symbol: str) -> bool:
    return symbol in os.environ.get("SLOW_SYMBOLS", "").split(",")


class SlowTrainer(CatBoostTrainer):
    """CatBoost with thousands of iterations for the slow symbols' held-out fit.

    Their live refit (the job without a validation segment) keeps the product's rule, the
    held-out fit's tree count, but at most `LIVE_TREES`: the tests that kill, cancel or time
    out a training need one long fit, and a second one as long only doubles their wall time.
    """

    name = "slow-catboost"

    def train(self, job: TrainingInput) -> TrainedModel:
        if _slow(job.symbol) and "validation" not in job.segments:
            trees = min(job.params.iterations, LIVE_TREES)
            return super().train(replace(job, params=replace(job.params, iterations=trees)))
        if _slow(job.symbol):
            iterations = int(os.environ.get("SLOW_ITERATIONS", "4000"))
            params = replace(
                job.params,
                iterations=iterations,
                early_stopping_rounds=iterations,
                learning_rate=0.01,
                snapshot_interval_s=1,
            )
            job = replace(job, params=params)
        return super().train(job)


class SleepyTrainer(CatBoostTrainer):
    """Sleeps for the slow symbols (only the hard timeout can stop it)."""

    name = "sleepy"

    def train(self, job: TrainingInput) -> TrainedModel:
        if _slow(job.symbol):
            time.sleep(600)
        return super().train(job)


class NoopTrainer:
    """Returns at once: measures orchestration alone."""

    name = "noop"

    def train(self, job: TrainingInput) -> TrainedModel:
        return TrainedModel(b"noop", {"trainer": "noop"}, {"train_seconds": 0.0})

    def predict(self, model_bytes: bytes, features: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(features))


class MomentumTrainer(NoopTrainer):
    """Predicts the next 4 bars move as 4 times the last: no fit, its edge is the market's.

    On a crafted trending market (returns positively autocorrelated) it makes money after
    costs; on a mean-reverting one it loses. Its model bytes name the symbol and date, so a
    test can tell which model is live.
    """

    name = "momentum"

    def train(self, job: TrainingInput) -> TrainedModel:
        stamp = f"momentum:{job.symbol}:{job.as_of}".encode()
        return TrainedModel(stamp, {"trainer": "momentum"}, {"train_seconds": 0.0})

    def predict(self, model_bytes: bytes, features: pd.DataFrame) -> np.ndarray:
        return 4.0 * features["logret_1"].fillna(0.0).to_numpy()


class OneTreeTrainer(CatBoostTrainer):
    """CatBoost that grows one tree whatever it is asked: a desk's trainer that ignores the
    tree count, the live model the `tree_floor` check exists to name."""

    name = "one-tree"

    def train(self, job: TrainingInput) -> TrainedModel:
        one = replace(job.params, iterations=1, min_trees=1)
        return super().train(replace(job, params=one))
