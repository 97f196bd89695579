"""Model training behind a small pluggable interface, with CatBoost as the default.

A desk can plug in its own trainer (the spec's `train_func`) by import path; the scheduler
only needs `train` (bytes out) and `predict` (bytes in). Training is checkpointed through
CatBoost snapshots kept in a per-partition work folder, so a killed run resumes where it was.
"""

import importlib
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from retrain_assets.core.errors import PermanentError, TrainingTimeout
from retrain_assets.core.model.chunked_fit import (
    CHECK_EVERY_S,
    PINNED_MAX_CTR_COMPLEXITY,
    grow_in_chunks,
)
from retrain_assets.core.model.model_health import IMPORTANCE_KEY, top_importances

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


class _Deadline:
    """CatBoost `after_iteration` callback: stops at the deadline and remembers the first step.

    A chunked fit records its outcome here too (`timed_out`, `chunks`).
    """

    def __init__(self, deadline_monotonic: float | None) -> None:
        self.deadline = deadline_monotonic
        self.first_iteration: int | None = None
        self.timed_out = False
        self.chunks: int | None = None  # set by a chunked fit

    def after_iteration(self, info: Any) -> bool:
        if self.first_iteration is None:
            self.first_iteration = int(info.iteration)
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
            return False
        return True


class CatBoostTrainer:
    """The default trainer: a CatBoost regressor of the forward return."""

    name = "catboost"

    def __init__(
        self, deadline_check: DeadlineCheck | None = None, check_every_s: float = CHECK_EVERY_S
    ) -> None:
        """`deadline_check` overrides `deadline_check_for` the task type (tests run the
        GPU's chunked fit on CPU); `check_every_s` is a chunked fit's longest chunk."""
        self.deadline_check = deadline_check
        self.check_every_s = check_every_s

    def train(self, job: TrainingInput) -> TrainedModel:
        """Train with snapshots in `job.work_dir`, resuming from one left by a killed run."""
        from catboost import CatBoostError

        job.work_dir.mkdir(parents=True, exist_ok=True)
        snapshot = job.work_dir / "snapshot.cbs"
        resumed = snapshot.exists()
        started = time.perf_counter()
        try:
            model, deadline = self._fit(job, snapshot)
        except CatBoostError as exc:
            if not resumed or "snapshot" not in str(exc).lower():
                raise PermanentError(f"{job.symbol}: CatBoost refused the data: {exc}") from exc
            snapshot.unlink(missing_ok=True)  # written by other parameters: start afresh
            resumed = False
            model, deadline = self._fit(job, snapshot)
        fit_s = time.perf_counter() - started
        if deadline.timed_out:
            raise TrainingTimeout(f"{job.symbol}: training passed its deadline")
        best = _keep_best_or_floor(model, job)
        model_bytes = _model_to_bytes(model, job.work_dir)
        log = _training_log(job, model, fit_s, resumed, deadline.first_iteration)
        log["fit_chunks"] = deadline.chunks
        log["best_iteration"] = best
        log[IMPORTANCE_KEY] = _importance(model, job)
        # The snapshot stays: a fit cut short by a signal can return normally, and only the
        # caller knows whether the model is accepted (then it calls `drop_checkpoint`).
        return TrainedModel(model_bytes, _config(job, model), log)

    def _fit(self, job: TrainingInput, snapshot: Path) -> tuple[Any, _Deadline]:
        deadline = _Deadline(job.deadline_monotonic)
        check = self.deadline_check or deadline_check_for(job.params.task_type)
        if check == "chunks" and job.deadline_monotonic is not None:
            return self._fit_in_chunks(job, snapshot, deadline)
        model = _model(job, snapshot, job.params.iterations)
        _fit_model(model, job, [deadline] if check == "callback" else None)
        return model, deadline

    def _fit_in_chunks(
        self, job: TrainingInput, snapshot: Path, deadline: _Deadline
    ) -> tuple[Any, _Deadline]:
        """Grow the fit from its snapshot in chunks, reading the deadline between them."""
        fitted: list[Any] = []

        def fit_to(end: int) -> int:
            model = _model(job, snapshot, end, max_ctr_complexity=PINNED_MAX_CTR_COMPLEXITY)
            _fit_model(model, job, None)
            fitted[:] = [model]
            return int(model.tree_count_)

        outcome = grow_in_chunks(
            fit_to, job.params.iterations, job.deadline_monotonic, check_every_s=self.check_every_s
        )
        deadline.timed_out, deadline.chunks = outcome.timed_out, outcome.chunks
        return (fitted[0] if fitted else None), deadline

    def predict(self, model_bytes: bytes, features: pd.DataFrame) -> np.ndarray:
        """Load a native `.cbm` model from bytes and predict."""
        from catboost import CatBoostRegressor

        model = CatBoostRegressor()
        model.load_model(blob=model_bytes)
        return np.asarray(model.predict(features), dtype=float)


def _model(job: TrainingInput, snapshot: Path, iterations: int, **pinned: Any) -> Any:
    """The CatBoost regressor of a job, growing at most `iterations` trees from `snapshot`."""
    from catboost import CatBoostRegressor

    p = job.params
    # Without a validation segment (the live fit) exactly `iterations` trees are grown.
    # With one, the trees past the best iteration are kept and cut after the fit
    # (`_keep_best_or_floor`); waiting at least the floor's count grows enough of them for
    # the floor, so the held-out and live models have the same count and no second fit.
    patience = max(p.early_stopping_rounds, tree_floor_of(p))
    stopping = (
        {"od_type": "Iter", "od_wait": patience, "use_best_model": False}
        if "validation" in job.segments
        else {}
    )
    return CatBoostRegressor(
        iterations=iterations,
        learning_rate=p.learning_rate,
        depth=p.depth,
        l2_leaf_reg=p.l2_leaf_reg,
        loss_function=p.loss_function,
        random_seed=p.random_seed,
        thread_count=p.thread_count,
        task_type=p.task_type,
        **gpu_options(p),
        **stopping,
        **pinned,
        train_dir=str(job.work_dir / "catboost_info"),
        save_snapshot=True,
        snapshot_file=str(snapshot),
        snapshot_interval=p.snapshot_interval_s,
        verbose=False,
    )


def _fit_model(model: Any, job: TrainingInput, callbacks: list[Any] | None) -> None:
    """Fit on the train segment, evaluating on validation when the job has one."""
    names = job.feature_names
    validation = job.segments.get("validation")
    model.fit(
        rows(job.frame, job.segments["train"], names),
        job.frame["label"].iloc[slice(*job.segments["train"])],
        eval_set=None
        if validation is None
        else (rows(job.frame, validation, names), job.frame["label"].iloc[slice(*validation)]),
        callbacks=callbacks,
    )


def _keep_best_or_floor(model: Any, job: TrainingInput) -> int:
    """Cut an early-stopped fit to its best iteration + 1 trees, or to the floor when that
    is more (as many as were grown at most); returns the best iteration."""
    best = int(model.get_best_iteration() or 0)
    if "validation" in job.segments:
        keep = min(int(model.tree_count_), max(best + 1, tree_floor_of(job.params)))
        if keep < int(model.tree_count_):
            model.shrink(keep)
    return best


def _importance(model: Any, job: TrainingInput) -> list[dict[str, Any]]:
    """The kept model's top features by CatBoost's PredictionValuesChange (the change of
    the prediction a feature's splits make, summing to 100; needs no data)."""
    values = model.get_feature_importance(type="PredictionValuesChange")
    return top_importances(list(job.feature_names), [float(v) for v in values])


def _model_to_bytes(model: Any, work_dir: Path) -> bytes:
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        path = Path(tmp) / "model.cbm"
        model.save_model(str(path), format="cbm")
        return path.read_bytes()


def _config(job: TrainingInput, model: Any) -> dict[str, Any]:
    import catboost

    frame = job.frame
    return {
        "symbol": job.symbol,
        "as_of": job.as_of,
        "trainer": "catboost",
        "catboost_version": catboost.__version__,
        "params": asdict(job.params),
        "catboost_params": _jsonable(model.get_all_params()),
        "seed": job.params.random_seed,
        "thread_count": job.params.thread_count,
        "task_type": job.params.task_type,
        "feature_names": list(job.feature_names),
        "label": dict(job.label),
        "segments": {k: list(v) for k, v in job.segments.items()},
        "model_bin": {
            "bytes_reproducible": False,
            "bytes_vary_with": MODEL_BIN_VARIES_WITH,
            "compare_models_by": "prediction_fingerprint",
        },
        "data_window": {
            "first_bar": frame["timestamp"].iloc[0].isoformat(),
            "last_bar": frame["timestamp"].iloc[-1].isoformat(),
            "rows": len(frame),
        },
    }


def _training_log(
    job: TrainingInput, model: Any, fit_s: float, resumed: bool, first_iteration: int | None
) -> dict[str, Any]:
    curves = model.get_evals_result()
    return {
        "symbol": job.symbol,
        "as_of": job.as_of,
        "fit_seconds": round(fit_s, 3),
        "best_iteration": int(model.get_best_iteration() or 0),
        "tree_count": int(model.tree_count_),
        "rows": {k: int(v[1] - v[0]) for k, v in job.segments.items()},
        "resumed_from_snapshot": resumed,
        "first_iteration_this_attempt": first_iteration,
        "learning_curves": _jsonable(curves),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def drop_checkpoint(job: TrainingInput) -> None:
    """Remove a job's snapshots once its model is accepted, so a forced retrain starts afresh."""
    shutil.rmtree(job.work_dir, ignore_errors=True)


def load_trainer(import_path: str) -> Trainer:
    """Load a trainer from `package.module:attribute` (a class is instantiated).

    Raises:
        PermanentError: when the path does not name an object with `train` and `predict`.
    """
    module_name, _, attr = import_path.partition(":")
    if not module_name or not attr:
        raise PermanentError(f"trainer {import_path!r}: expected 'package.module:attribute'")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise PermanentError(f"trainer {import_path!r} cannot be imported: {exc}") from exc
    trainer = obj() if isinstance(obj, type) else obj
    if not (
        callable(getattr(trainer, "train", None)) and callable(getattr(trainer, "predict", None))
    ):
        raise PermanentError(f"trainer {import_path!r} has no train() and predict()")
    return trainer
