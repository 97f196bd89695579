"""A no-op trainer that holds each training until the test opens a gate (a file).

Select it with `RETRAIN_TRAINER=tests.fakes.gated_trainer:GatedTrainer` and set
`$TRAINER_GATE_DIR`: each training touches `<dir>/<SYMBOL>.training`, then waits until
`<dir>/<SYMBOL>.open` or `<dir>/open` exists (at most `MAX_WAIT_S`), so a test can act while
runs are mid-training (kill a webserver, say) and then let them finish one by one, without
guessing durations.
"""

import os
import time
from pathlib import Path

from bench.noop_trainer import NoopTrainer
from retrain_assets.core.model.training import TrainedModel, TrainingInput

MAX_WAIT_S = 300.0
GATE = "open"


class GatedTrainer(NoopTrainer):
    """The no-op trainer, each `train` waiting for its symbol's gate or the common one."""

    name = "gated-noop"

    def train(self, job: TrainingInput) -> TrainedModel:
        """Mark the symbol as training, wait for the gate, return the placeholder model."""
        folder = Path(os.environ["TRAINER_GATE_DIR"])
        (folder / f"{job.symbol}.training").touch()
        deadline = time.monotonic() + MAX_WAIT_S
        gates = (folder / GATE, folder / f"{job.symbol}.{GATE}")
        while not any(g.exists() for g in gates) and time.monotonic() < deadline:
            time.sleep(0.1)
        return super().train(job)
