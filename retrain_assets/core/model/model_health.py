"""A model's health in a few facts: its trees, its best iteration, the features it leans on.

A gradient-boosted model stopped early on a noisy validation segment can keep one or two trees
and predict almost nothing; one that leans on a single feature is fragile. The record kept with
each model (config.json's `model_health`, the `model` asset's metadata) is

    {"trees": int, "best_iteration": int | None,
     "feature_importance": [{"feature": str, "importance": float}, ...] | None}

with the top `TOP_FEATURES` features by importance, as a percentage of the model's total
importance (CatBoost's PredictionValuesChange already sums to 100). `feature_importance` is
None when the trainer reports none: a trainer of its own need not, and nothing is made up.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

HEALTH_KEY = "model_health"
# The training log's key under which a trainer reports its importances (`importance_record`).
IMPORTANCE_KEY = "feature_importance"
TOP_FEATURES = 10


def top_importances(
    names: Sequence[str], values: Sequence[float], top: int = TOP_FEATURES
) -> list[dict[str, Any]]:
    """The `top` features by importance, as percentages of the total, largest first.

    Features the model never used (importance 0) are left out, so a one-tree model lists only
    the few features it split on. Ties go by name, so the record is deterministic.

    Args:
        names: The feature names, in the model's column order.
        values: Their importances (any non-negative scale; CatBoost's sums to 100).
        top: How many to keep.

    Raises:
        ValueError: names and values of different lengths.
    """
    if len(names) != len(values):
        raise ValueError(f"{len(names)} feature names for {len(values)} importances")
    pairs = [(str(n), float(v)) for n, v in zip(names, values, strict=True)]
    pairs = [(n, v) for n, v in pairs if math.isfinite(v) and v > 0.0]
    total = sum(v for _, v in pairs)
    ranked = sorted(pairs, key=lambda p: (-p[1], p[0]))[:top]
    return [{"feature": n, "importance": round(100.0 * v / total, 4)} for n, v in ranked]


def reported_importance(training_log: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The importances a trainer reported in its training log, top `TOP_FEATURES`; None when
    it reported none (or something that is not a list of feature/importance records)."""
    reported = training_log.get(IMPORTANCE_KEY)
    if not isinstance(reported, list):
        return None
    try:
        names = [str(r["feature"]) for r in reported]
        values = [float(r["importance"]) for r in reported]
    except (KeyError, TypeError, ValueError):
        return None
    return top_importances(names, values)


def health_record(
    trees: int, best_iteration: int | None, importance: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """The `model_health` record of one model (see the module's docstring)."""
    return {
        "trees": int(trees),
        "best_iteration": None if best_iteration is None else int(best_iteration),
        "feature_importance": importance,
    }


def health_text(health: Mapping[str, Any] | None, top: int = 3) -> str:
    """One line for a report or the CLI.

    `312 trees (best iteration 311); top: rvol_168 23.1%, ret_24 12.0%, vol_24 8.4%`.

    Args:
        health: A `model_health` record; None for a model recorded without one.
        top: How many features to name.
    """
    if health is None:
        return "model health not recorded"
    best, trees = health.get("best_iteration"), health.get("trees")
    head = f"{trees} tree" if trees == 1 else f"{trees} trees"
    head += f" (best iteration {best})" if best is not None else ""
    return f"{head}; top: {top_text(health, top)}"


def top_text(health: Mapping[str, Any] | None, top: int = 3) -> str:
    """The `top` features as `name 23.1%, ...`; `not reported` when the trainer gave none,
    `none used` when the model split on no feature."""
    importance = None if health is None else health.get("feature_importance")
    if importance is None:
        return "not reported"
    if not importance:
        return "none used"
    return ", ".join(f"{r['feature']} {float(r['importance']):.1f}%" for r in importance[:top])
