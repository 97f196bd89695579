"""The prediction fingerprint: stable across refits and thread counts, moved by new inputs."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.noop_trainer import NoopTrainer as BenchNoopTrainer
from retrain_assets.adapters.catboost_trainer import CatBoostTrainer
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.lifecycle.pipeline import (
    feature_set,
    train_symbol_day,
    training_input,
    with_fingerprint,
)
from retrain_assets.core.model.fingerprint import (
    PROBE_ROWS,
    fingerprint_predictions,
    probe,
    probe_positions,
)
from retrain_assets.core.model.splits import Splits
from retrain_assets.core.model.training import (
    MODEL_BIN_VARIES_WITH,
    TrainingInput,
    TrainingParams,
)
from tests.fakes.trainers import NoopTrainer


@pytest.fixture(scope="module")
def job_frame() -> tuple[pd.DataFrame, Splits]:
    """Synthetic features with a learnable label, so CatBoost grows ~300 trees, not 2."""
    from retrain_assets.core.data.synthetic import SyntheticSource

    bars, _ = SyntheticSource().load(
        "BTCUSDT", pd.Timestamp("2025-06-01", tz="UTC"), pd.Timedelta(days=200)
    )
    frame, splits = feature_set(bars, "BTCUSDT", horizon=4, test_days=30, validation_days=20)
    noise = np.random.default_rng(0).normal(0.0, 0.002, len(frame))
    signal = 0.01 * np.tanh(3.0 * frame["rsi_14"]) + 0.5 * frame["logret_4"]
    return frame.assign(label=(signal + noise).where(frame["label"].notna())), splits


def _job(job_frame, work_dir: Path, threads: int = 1, frame=None) -> TrainingInput:
    base, splits = job_frame
    params = TrainingParams(iterations=300, thread_count=threads)
    return training_input(
        "BTCUSDT",
        "2025-05-31",
        base if frame is None else frame,
        splits,
        params,
        work_dir,
        dry_run=False,
    )


def _fit(job: TrainingInput):
    """The live model, fingerprinted, as the `model` asset makes it (held-out fit, refit)."""
    trainer = CatBoostTrainer()
    fits = train_symbol_day(trainer, job)
    return with_fingerprint(trainer, fits.live, fits.live_job)


def test_probe_rows_are_spread_over_the_whole_frame_first_and_last_included():
    assert list(probe_positions(5, k=3)) == [0, 2, 4]
    assert list(probe_positions(3)) == [0, 1, 2]
    assert len(probe_positions(10_000)) == PROBE_ROWS
    assert probe_positions(10_000)[[0, -1]].tolist() == [0, 9_999]
    assert len(probe_positions(0)) == 0


@pytest.mark.slow(seconds=6)
def test_refits_give_the_same_fingerprint_at_one_and_two_threads(job_frame, tmp_path):
    # Measured: CatBoost 1.2.10 on CPU predicts bit-identically at 1 and 2 threads, so the
    # fingerprint hashes exact float64 bytes, no tolerance.
    runs = [
        _fit(_job(job_frame, tmp_path / f"run{i}", threads)) for i, threads in enumerate((1, 1, 2))
    ]
    (one, fp_one), (again, fp_again), (_, fp_two) = runs
    assert one.training_log["tree_count"] > 200
    assert fp_one == fp_again == fp_two
    assert fp_one.precision == "exact float64"
    assert one.model_bytes != again.model_bytes  # a fresh guid and time in every model.bin
    assert one.config["prediction_fingerprint"]["sha256"] == fp_one.sha256
    assert (
        json.dumps(one.config)
        and one.training_log["prediction_fingerprint"] == (one.config["prediction_fingerprint"])
    )


def test_other_inputs_change_the_fingerprint(job_frame, tmp_path):
    frame, _ = job_frame
    _, base = _fit(_job(job_frame, tmp_path / "base"))
    relabelled = frame.assign(label=frame["label"] * 1.5)
    _, other = _fit(_job(job_frame, tmp_path / "other", frame=relabelled))
    assert other.sha256 != base.sha256
    assert other.probe_sha256 == base.probe_sha256  # same probe, another model


def test_the_probe_digest_follows_the_probe_features():
    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.ones(10)})
    zero = lambda x: np.zeros(len(x))  # noqa: E731
    base = fingerprint_predictions(zero, frame, ["a", "b"])
    moved = fingerprint_predictions(zero, frame.assign(a=frame["a"] + 1e-12), ["a", "b"])
    assert (moved.sha256, moved.probe_rows) == (base.sha256, 10)
    assert moved.probe_sha256 != base.probe_sha256


def test_rounding_absorbs_differences_below_the_stated_precision():
    frame = pd.DataFrame({"a": np.linspace(0.0, 1.0, 50)})
    exact = fingerprint_predictions(lambda x: x["a"].to_numpy(), frame, ["a"], decimals=9)
    jitter = fingerprint_predictions(lambda x: x["a"].to_numpy() + 1e-13, frame, ["a"], decimals=9)
    assert exact.sha256 == jitter.sha256
    assert exact.precision == "rounded to 9 decimals"
    assert fingerprint_predictions(lambda x: x["a"].to_numpy() + 1e-13, frame, ["a"]).sha256 != (
        fingerprint_predictions(lambda x: x["a"].to_numpy(), frame, ["a"]).sha256
    )


@pytest.mark.parametrize("trainer", [NoopTrainer(), BenchNoopTrainer()], ids=["tests", "bench"])
def test_custom_trainers_are_fingerprinted_through_their_own_predict(trainer, job_frame, tmp_path):
    job = _job(job_frame, tmp_path / "noop")
    trained, fingerprint = with_fingerprint(trainer, trainer.train(job), job)
    zeros = fingerprint_predictions(lambda x: np.zeros(len(x)), job.frame, job.feature_names)
    assert fingerprint == zeros
    assert trained.config["prediction_fingerprint"] == fingerprint.to_json_dict()
    assert trained.model_bytes == b"noop"


def test_a_predict_that_returns_the_wrong_shape_is_a_permanent_error():
    frame = pd.DataFrame({"a": np.arange(5.0)})
    with pytest.raises(PermanentError, match="shape"):
        fingerprint_predictions(lambda x: np.zeros((len(x), 2)), frame, ["a"])


def test_model_bin_bytes_differ_only_in_the_fields_config_json_names(job_frame, tmp_path):
    from catboost import CatBoostRegressor

    def metadata(model_bytes: bytes) -> dict[str, str]:
        model = CatBoostRegressor()
        model.load_model(blob=model_bytes)
        return dict(model.get_metadata())

    job = replace(_job(job_frame, tmp_path / "same"), params=TrainingParams(iterations=20))
    first, second = (CatBoostTrainer().train(job) for _ in range(2))
    a, b = metadata(first.model_bytes), metadata(second.model_bytes)
    differ = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    # The finish time is to the second: two quick fits may share it.
    assert "model_guid" in differ
    assert differ <= {"model_guid", "train_finish_time"}
    assert {"model_guid", "train_finish_time"} <= MODEL_BIN_VARIES_WITH.keys()
    assert first.config["model_bin"]["bytes_vary_with"] == MODEL_BIN_VARIES_WITH
    probe_rows = probe(job.frame, job.feature_names)
    np.testing.assert_array_equal(
        CatBoostTrainer().predict(first.model_bytes, probe_rows),
        CatBoostTrainer().predict(second.model_bytes, probe_rows),
    )
