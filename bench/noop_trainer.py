"""A trainer that does nothing, to measure what orchestration costs per symbol.

Select it with `RETRAIN_TRAINER=bench.noop_trainer:NoopTrainer` (run from the repo root, or
with the repo root on PYTHONPATH, so the engine's workers can import `bench`).
"""

import numpy as np
import pandas as pd

from retrain_assets.core.model.training import TrainedModel, TrainingInput


class NoopTrainer:
    """`train` returns a few bytes at once; `predict` returns zeros."""

    name = "noop"

    def train(self, job: TrainingInput) -> TrainedModel:
        """Return a placeholder model without looking at the data."""
        rows = {k: int(v[1] - v[0]) for k, v in job.segments.items()}
        return TrainedModel(
            b"noop",
            {"symbol": job.symbol, "as_of": job.as_of, "trainer": self.name},
            {"symbol": job.symbol, "rows": rows, "best_iteration": 0},
        )

    def predict(self, model_bytes: bytes, features: pd.DataFrame) -> np.ndarray:
        """Zeros: a flat strategy."""
        return np.zeros(len(features), dtype=float)
