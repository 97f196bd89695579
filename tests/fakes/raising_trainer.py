"""A desk trainer that fails for chosen symbols and is a no-op for the others.

$FAIL_SYMBOLS crash with an ordinary exception (a multi-line message and a deep stack, as a
real trainer's would have); $TIMEOUT_SYMBOLS raise the per-symbol timeout at once, the error a
training stopped at its deadline ends with, so a test sees a timed-out symbol-day's output
without waiting out the one-minute minimum.
"""

import os

from retrain_assets.core.errors import TrainingTimeout
from retrain_assets.core.model.training import TrainedModel, TrainingInput
from tests.fakes.trainers import NoopTrainer


def _named(variable: str, symbol: str) -> bool:
    return symbol in os.environ.get(variable, "").split(",")


def _crash(symbol: str, depth: int) -> None:
    if depth:
        _crash(symbol, depth - 1)
        return
    raise RuntimeError(f"{symbol}: the desk trainer crashed\nsecond line of the error\nthird line")


class RaisingTrainer(NoopTrainer):
    """Raises for the symbols in $FAIL_SYMBOLS and $TIMEOUT_SYMBOLS; trains nothing otherwise."""

    name = "raising"

    def train(self, job: TrainingInput) -> TrainedModel:
        if _named("FAIL_SYMBOLS", job.symbol):
            _crash(job.symbol, depth=5)
        if _named("TIMEOUT_SYMBOLS", job.symbol):
            raise TrainingTimeout(f"{job.symbol}: no result after 60 s")
        return super().train(job)
