"""CatBoost at the notes' reference size: 500 full iterations, no early stopping.

The default trainer early-stops after ~60 flat rounds, which on weakly predictable 1h returns
means well under a second per symbol; this trainer measures the engine where training is a few
seconds, the size ARCHITECTURE.md quotes. Select it with
`RETRAIN_TRAINER=bench.reference_trainer:ReferenceTrainer`.
"""

from dataclasses import replace

from retrain_assets.adapters.catboost_trainer import CatBoostTrainer
from retrain_assets.core.model.training import TrainedModel, TrainingInput

REFERENCE_ITERATIONS = 500
# About ten seconds on one thread here: the training time ARCHITECTURE.md quotes for
# 8,760 rows x 40 features x 500 iterations (our default window has fewer rows).
NOTES_SIZE_ITERATIONS = 2000


class ReferenceTrainer(CatBoostTrainer):
    """The default trainer, trained for exactly `REFERENCE_ITERATIONS` trees."""

    name = "catboost-reference"

    iterations = REFERENCE_ITERATIONS

    def train(self, job: TrainingInput) -> TrainedModel:
        """Train all iterations (early stopping patience = the whole budget)."""
        params = replace(
            job.params, iterations=self.iterations, early_stopping_rounds=self.iterations
        )
        return super().train(replace(job, params=params))


class NotesSizeTrainer(ReferenceTrainer):
    """The reference trainer at `NOTES_SIZE_ITERATIONS` trees: ~10 s per symbol here."""

    name = "catboost-notes-size"
    iterations = NOTES_SIZE_ITERATIONS
