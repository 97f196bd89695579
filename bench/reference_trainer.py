"""CatBoost at the notes' reference size: 500 full iterations, no early stopping.

The default trainer early-stops after ~60 flat rounds, which on weakly predictable 1h returns
means well under a second per symbol; this trainer measures the engine where training is a few
seconds, the size ARCHITECTURE.md quotes. Select it with
`RETRAIN_TRAINER=bench.reference_trainer:ReferenceTrainer`.
"""

from dataclasses import replace

from retrain_assets.core.training import CatBoostTrainer, TrainedModel, TrainingInput

REFERENCE_ITERATIONS = 500


class ReferenceTrainer(CatBoostTrainer):
    """The default trainer, trained for exactly `REFERENCE_ITERATIONS` trees."""

    name = "catboost-reference"

    def train(self, job: TrainingInput) -> TrainedModel:
        """Train all iterations (early stopping patience = the whole budget)."""
        params = replace(
            job.params,
            iterations=REFERENCE_ITERATIONS,
            early_stopping_rounds=REFERENCE_ITERATIONS,
        )
        return super().train(replace(job, params=params))
