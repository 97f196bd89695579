"""The default trainer: CatBoost, checkpointed through snapshots in a per-partition work folder.

Training writes CatBoost snapshots (`snapshot.cbs`) and its `catboost_info` into the job's work
folder, so a killed run resumes where it was, and serialises the model through a temporary
file; `load_trainer` imports a desk's own trainer by path. What a trainer is given and returns
is the pure `core.model.training`.
"""

import importlib
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.errors import PermanentError, TrainingTimeout
from retrain_assets.core.model.chunked_fit import (
    CHECK_EVERY_S,
    PINNED_MAX_CTR_COMPLEXITY,
    grow_in_chunks,
)
from retrain_assets.core.model.model_health import IMPORTANCE_KEY, top_importances
from retrain_assets.core.model.training import (
    MODEL_BIN_VARIES_WITH,
    DeadlineCheck,
    TrainedModel,
    Trainer,
    TrainingInput,
    deadline_check_for,
    gpu_options,
    rows,
    tree_floor_of,
)

DEFAULT_TRAINER = "retrain_assets.adapters.catboost_trainer:CatBoostTrainer"
# Where the default trainer lived in earlier versions: a settings file or `RETRAIN_TRAINER`
# written then still names it, and still gets it.
FORMER_DEFAULT_TRAINERS = (
    "retrain_assets.core.training:CatBoostTrainer",
    "retrain_assets.core.model.training:CatBoostTrainer",
)


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
    """Load a trainer from `package.module:attribute` (a class is instantiated); a former
    path of the default trainer (`FORMER_DEFAULT_TRAINERS`) loads the default trainer.

    Raises:
        PermanentError: when the path does not name an object with `train` and `predict`.
    """
    if import_path in FORMER_DEFAULT_TRAINERS:
        return CatBoostTrainer()
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
