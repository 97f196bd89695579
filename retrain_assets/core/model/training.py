"""Model training behind a small pluggable interface: what a trainer is given and returns.

A desk can plug in its own trainer (the spec's `train_func`) by import path; the scheduler
only needs `train` (bytes out) and `predict` (bytes in). The default trainer, CatBoost with
its snapshots in a per-partition work folder, is `adapters.catboost_trainer`; this module
holds the pure part every trainer shares: parameters, input, output and the protocol.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

# The per-symbol training timeout when nothing else is said (the spec's 45 minutes), and its
# bounds; its one home is `resources.deployment`.
DEFAULT_TIMEOUT_MINUTES = 45.0
MIN_TIMEOUT_MINUTES = 1.0
MAX_TIMEOUT_MINUTES = 24 * 60.0

Segment = tuple[int, int]

# What makes two `model.bin` of one job differ byte for byte, measured with CatBoost 1.2.10 by
# fitting twice and diffing the models' metadata: with the same folder and thread count only
# the first two (30 bytes); their predictions are bit-identical all the same, so compare
# models by `prediction_fingerprint`, not by the sha256 of `model.bin`.
MODEL_BIN_VARIES_WITH: dict[str, str] = {
    "model_guid": "a random id CatBoost draws for every fit",
    "train_finish_time": "the UTC time the fit ended, to the second",
    "params.flat_params.train_dir, params.flat_params.snapshot_file, output_options.train_dir": (
        "the checkpoint folder's path, which follows the artifact root"
    ),
    "params.flat_params.thread_count, params.system_options.thread_count": (
        "the thread count, which follows the machine and the concurrency"
    ),
}


@dataclass(frozen=True)
class TrainingParams:
    """Hyper-parameters and runtime knobs of one training."""

    iterations: int = 300
    learning_rate: float = 0.05
    depth: int = 6
    l2_leaf_reg: float = 3.0
    loss_function: str = "RMSE"
    early_stopping_rounds: int = 60
    random_seed: int = 42
    thread_count: int = 1
    task_type: Literal["CPU", "GPU"] = "CPU"
    snapshot_interval_s: int = 5
    gpu_ram_part: float = 0.95  # this training's share of the GPU's memory (CatBoost's default)
    min_trees: int = 50  # the floor of the tree count (`core.calibration`)
    calibration_max_slope: float = 5.0  # the calibration slope's upper bound
    calibrate: bool = True  # False: predictions meet the cost rule unscaled (slope 1)


def tree_floor_of(params: TrainingParams) -> int:
    """The fewest trees a chosen model keeps: `min_trees`, never above the `iterations` bound
    (a dry run's 10 iterations stay 10)."""
    return max(1, min(params.min_trees, params.iterations))


def gpu_options(params: TrainingParams) -> dict[str, Any]:
    """CatBoost's GPU-only options: the memory share, so trainings can share one GPU."""
    return {"gpu_ram_part": params.gpu_ram_part} if params.task_type == "GPU" else {}


@dataclass(frozen=True)
class TrainingInput:
    """Everything one training needs: the feature frame, its segments and where to checkpoint."""

    symbol: str
    as_of: str
    frame: pd.DataFrame
    feature_names: tuple[str, ...]
    segments: Mapping[str, Segment]
    label: Mapping[str, Any]
    params: TrainingParams
    work_dir: Path
    deadline_monotonic: float | None = None


@dataclass(frozen=True)
class TrainedModel:
    """A trained model as bytes, plus the two JSON documents that describe it."""

    model_bytes: bytes
    config: dict[str, Any]
    training_log: dict[str, Any] = field(default_factory=dict)


class Trainer(Protocol):
    """What the scheduler needs from a model: train to bytes, predict from bytes.

    `train` is called twice per symbol-day. First with `train` and `validation` segments: fit
    on train, early-stop on validation, keeping at least `tree_floor_of(params)` trees when
    it can (the held-out fit, calibrated on validation and evaluated on the test segment).
    Then with a `train` segment only, every labelled row through the date, and
    `params.iterations` set to the held-out fit's tree count: fit exactly that many, with no
    early stopping (the live fit, the model that trades the next day).

    A trainer may report in its training log `tree_count`, `best_iteration` and
    `feature_importance` (a list of `{"feature", "importance"}`); what it leaves out is
    recorded as not reported (`core.model_health`).
    """

    name: str

    def train(self, job: TrainingInput) -> TrainedModel:
        """Fit a model on the train segment, early-stopping on validation when there is one."""
        ...

    def predict(self, model_bytes: bytes, features: pd.DataFrame) -> np.ndarray:
        """Predict the label for each row of `features` (feature columns only)."""
        ...


def rows(frame: pd.DataFrame, segment: Segment, columns: Sequence[str]) -> pd.DataFrame:
    """The rows [start, end) of a segment, restricted to `columns`."""
    start, end = segment
    return frame.iloc[start:end][list(columns)]


DeadlineCheck = Literal["callback", "chunks"]


def deadline_check_for(task_type: Literal["CPU", "GPU"]) -> DeadlineCheck:
    """How a CatBoost fit reads its soft deadline: every iteration through a callback on CPU;
    on GPU, which refuses callbacks, between chunks of a fit grown from its snapshot
    (`core.chunked_fit`)."""
    return "callback" if task_type == "CPU" else "chunks"
