"""A checkable identity for a trained model: the sha256 of its predictions on a fixed probe.

`model.bin`'s own sha256 cannot say "same model": CatBoost writes a random guid and the fit's
end time into it (see `training.MODEL_BIN_VARIES_WITH`). Two fits that predict the same are
the same model for every use, so the fingerprint hashes predictions instead. Measured with
CatBoost 1.2.10 on CPU: refits of one job predict bit-identically, at 1 or 2 threads alike,
so the default hashes the exact float64 bytes; `decimals` rounds first, for a trainer that is
only reproducible to a tolerance.

The probe is `PROBE_ROWS` rows spread evenly over the whole feature frame (first and last
included), so it covers train, validation, test and the unlabelled tail, and it depends on
the frame alone, not on the segments or the trainer.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.errors import PermanentError

PROBE_ROWS = 256


@dataclass(frozen=True)
class PredictionFingerprint:
    """The sha256 of a model's predictions on the probe, and what was hashed.

    Attributes:
        sha256: Hex digest of the predictions (little-endian float64, rounded per `precision`).
        probe_rows: Rows in the probe.
        probe_sha256: Hex digest of the probe's feature names and values, so a changed one can
            be told apart: new inputs (this changes too) or a new model (only `sha256` does).
        precision: `"exact float64"` or `"rounded to N decimals"`.
    """

    sha256: str
    probe_rows: int
    probe_sha256: str
    precision: str

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the selection rule spelled out."""
        return {
            "sha256": self.sha256,
            "probe_rows": self.probe_rows,
            "probe_sha256": self.probe_sha256,
            "probe": f"{self.probe_rows} rows evenly spaced over the feature frame",
            "precision": self.precision,
        }


def probe_positions(n_rows: int, k: int = PROBE_ROWS) -> np.ndarray:
    """`min(k, n_rows)` row positions evenly spaced over `[0, n_rows)`, first and last included."""
    if n_rows <= 0:
        return np.zeros(0, dtype="int64")
    return np.unique(np.linspace(0, n_rows - 1, min(k, n_rows)).round().astype("int64"))


def probe(frame: pd.DataFrame, feature_names: Sequence[str], k: int = PROBE_ROWS) -> pd.DataFrame:
    """The probe's feature columns (RangeIndex), as a trainer's `predict` receives them."""
    rows = frame.iloc[probe_positions(len(frame), k)]
    return rows[list(feature_names)].reset_index(drop=True)


def _digest(values: np.ndarray, header: str = "") -> str:
    canonical = np.where(np.isnan(values), np.nan, values + 0.0)  # one NaN, no -0.0
    digest = hashlib.sha256(header.encode())
    digest.update(np.ascontiguousarray(canonical, dtype="<f8").tobytes())
    return digest.hexdigest()


def fingerprint_predictions(
    predict: Callable[[pd.DataFrame], np.ndarray],
    frame: pd.DataFrame,
    feature_names: Sequence[str],
    *,
    decimals: int | None = None,
    k: int = PROBE_ROWS,
) -> PredictionFingerprint:
    """Fingerprints a model by its predictions on the probe of `frame`.

    Args:
        predict: The model's predict function, such as `partial(trainer.predict, model_bytes)`.
        frame: The feature frame the model was trained from.
        feature_names: The feature columns the model reads.
        decimals: Round predictions to this many decimals first; None hashes exact bytes.
        k: Rows in the probe.

    Returns:
        The fingerprint.

    Raises:
        PermanentError: `predict` returned other than one number per probe row.
    """
    rows = probe(frame, feature_names, k)
    predictions = np.asarray(predict(rows), dtype="float64")
    if predictions.shape not in ((len(rows),), (len(rows), 1)):
        raise PermanentError(
            f"predict returned shape {predictions.shape} for {len(rows)} probe rows"
        )
    predictions = predictions.reshape(-1)
    if decimals is not None:
        predictions = np.round(predictions, decimals)
    precision = "exact float64" if decimals is None else f"rounded to {decimals} decimals"
    return PredictionFingerprint(
        sha256=_digest(predictions),
        probe_rows=len(rows),
        probe_sha256=_digest(rows.to_numpy(dtype="float64"), ",".join(feature_names)),
        precision=precision,
    )
