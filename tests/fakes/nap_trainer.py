"""A trainer that naps: the symbols in $SLOW_SYMBOLS take $NAP_SECONDS (default 6) to train.

Stands in for a real fit when a test needs trainings in flight (to kill a worker, or to run
two launchers side by side) without CatBoost's CPU load on a 2-core machine.
"""

import os
import time

from bench.noop_trainer import NoopTrainer
from retrain_assets.core.model.training import TrainedModel, TrainingInput


class NapTrainer(NoopTrainer):
    """The no-op trainer, after a nap for the slow symbols."""

    name = "nap"

    def train(self, job: TrainingInput) -> TrainedModel:
        """Sleep for the slow symbols, then return the no-op model."""
        if job.symbol in os.environ.get("SLOW_SYMBOLS", "").split(","):
            time.sleep(float(os.environ.get("NAP_SECONDS", "6")))
        return super().train(job)
