"""Predictions calibrated to returns, and the tree count's floor: models that can trade.

Gradient boosting shrinks: each tree adds `learning_rate` of a step, so a model with few trees
predicts a small fraction of the move it learned, and the cost rule (`fills`: long when the
prediction beats the round trip) never fires however real the edge. Two remedies, both fitted
on data the held-out model never trained on:

- a floor on the tree count (`min_trees`), so one noisy early stop cannot leave a one-tree
  model live;
- a calibration slope: the least-squares slope through the origin of the realized label on the
  held-out model's prediction over the validation segment, `b = sum(p y) / sum(p^2)`, clipped
  to `[0, max_slope]`. Every prediction is multiplied by `b` before the cost rule, in the
  test-window metrics and in the walk-forward ledger alike. A slope of 0 (no relation, or an
  inverse one) means no trades, which is the honest answer; a model without a recorded
  calibration (written before it existed) trades with slope 1, as it always did.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from retrain_assets.core.data.check_outcome import WARN, CheckOutcome

CALIBRATION_KEY = "calibration"
UNCALIBRATED_SLOPE = 1.0
TREE_FLOOR = "tree_floor"


@dataclass(frozen=True)
class Calibration:
    """The slope that maps a model's prediction to the expected label, and its evidence.

    Attributes:
        slope: The slope applied, `raw_slope` clipped to `[0, max_slope]`; 0 without evidence.
        raw_slope: The least-squares slope through the origin; None when undefined (no rows,
            or every prediction 0).
        rows: Validation rows with a finite prediction and label.
        max_slope: The clip's upper bound.
        window: The first and last validation bar (ISO), or None when not given.
    """

    slope: float
    raw_slope: float | None
    rows: int
    max_slope: float
    window: tuple[str, str] | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The record written under `calibration` in a model's config.json."""
        data = asdict(self)
        data["window"] = None if self.window is None else list(self.window)
        data["fitted_on"] = "validation segment, held-out model"
        return data


def fit_calibration(
    predictions: np.ndarray,
    labels: np.ndarray,
    max_slope: float,
    window: tuple[str, str] | None = None,
) -> Calibration:
    """The slope through the origin of `labels` on `predictions`, clipped to `[0, max_slope]`.

    Args:
        predictions: The held-out model's predictions on the validation rows.
        labels: The realized labels of those rows (NaN rows are left out).
        max_slope: Upper bound of the slope; a very large slope means a prediction so close to
            0 that its scale is noise.
        window: The validation segment's first and last bar, for the record.

    Raises:
        ValueError: predictions and labels of different lengths, or a negative `max_slope`.
    """
    p = np.asarray(predictions, dtype=float)
    y = np.asarray(labels, dtype=float)
    if p.shape != y.shape:
        raise ValueError(f"{p.size} predictions for {y.size} labels")
    if max_slope < 0:
        raise ValueError(f"max_slope {max_slope} must be >= 0")
    keep = np.isfinite(p) & np.isfinite(y)
    p, y = p[keep], y[keep]
    power = float(np.dot(p, p))
    raw = float(np.dot(p, y) / power) if power > 0.0 else None
    slope = 0.0 if raw is None else float(np.clip(raw, 0.0, max_slope))
    return Calibration(slope, raw, int(p.size), float(max_slope), window)


def calibration_slope(config: Mapping[str, Any]) -> float:
    """The slope a model's predictions are multiplied by before the cost rule.

    Args:
        config: The model's config.json.

    Returns:
        Its recorded calibration slope; 1.0 for a model without one (written before
        calibration existed), which trades as it always did.
    """
    recorded = config.get(CALIBRATION_KEY)
    if not isinstance(recorded, Mapping) or recorded.get("slope") is None:
        return UNCALIBRATED_SLOPE
    return float(recorded["slope"])


def tree_floor(
    model: str, trees: int, floor: int, best_iteration: int | None = None
) -> CheckOutcome:
    """WARN when a live model is under the tree floor: fewer trees than the floor (too shrunk
    to trade), or trees only because of the floor, validation's early stop having kept fewer
    (`best_iteration` + 1 trees: the model found little to learn).

    Args:
        model: Names the model (`BTCUSDT 2024-05-01`).
        trees: The live model's tree count.
        floor: The configured `min_trees`.
        best_iteration: Validation's best iteration (0-based), when the trainer reports one.
    """
    kept = None if best_iteration is None else best_iteration + 1
    if trees < floor:
        passed, text = False, f"has {trees} trees, below the floor of {floor}"
    elif kept is not None and kept < floor:
        passed = False
        text = (
            f"has {trees} trees only because of the floor of {floor}: validation's early "
            f"stop kept {kept} (best iteration {best_iteration}), it found little to learn"
        )
    else:
        passed, text = True, f"has {trees} trees, at or above the floor of {floor}"
    return CheckOutcome(
        name=TREE_FLOOR,
        passed=passed,
        severity=WARN,
        description=f"live model {model} {text}",
        metadata={
            "model": model,
            "trees": trees,
            "min_trees": floor,
            "best_iteration": best_iteration,
        },
    )
