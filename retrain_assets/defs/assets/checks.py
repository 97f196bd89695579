"""Asset checks of the symbol-day assets: their specs, and results from the core's outcomes.

The checks run inside the step of the asset they check (declared as its `check_specs`), so a
check costs no step of its own and always sees exactly the data the step produced. Every spec
is partitioned like its asset, so the Checks tab shows each symbol-day's own verdict.
"""

import warnings

import dagster as dg

from retrain_assets.core.data.check_outcome import ERROR, CheckOutcome
from retrain_assets.core.model.drift import DriftPolicy
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.vocabulary.figures import unplotted

_DRIFT = DriftPolicy()
_DESCRIPTIONS = {
    "data_freshness": "The last bar reaches the date's close (WARN 1 h stale, ERROR 4 h).",
    "gaps_and_duplicates": (
        "No long gap within a week of the date (WARN from 6 h, ERROR from 24 h) and no "
        "conflicting duplicate bars (ERROR above 1% of bars)."
    ),
    "usable_rows": "Enough labelled feature rows for the train/validation/test split.",
    "zero_volume": "Share of zero-volume bars in the last week (WARN above 5%, ERROR above 50%).",
    "price_sanity": (
        "Positive, consistent OHLC and no NaN, infinite or non-positive price within a week "
        "of the date (ERROR); invalid rows dropped or a 1 h move of 50%+ (WARN)."
    ),
    "feature_drift": (
        "Population stability index of each feature, the latest week vs the training rows "
        "(deciles plus below-min and above-max bins). A feature's limits are multiples of its "
        "typical training week's PSI (the median of each training week against the rest): "
        f"ERROR when any feature is above {_DRIFT.fail_ratio:g}x (and at least "
        f"{_DRIFT.fail_psi:g}), WARN above {_DRIFT.warn_ratio:g}x (and at least "
        f"{_DRIFT.warn_psi:g}). The description and `worst_feature` name the same feature, "
        "PSI and limits."
    ),
    "tree_floor": (
        "The live model has at least `min_trees` trees (WARN below: its predictions are too "
        "shrunk to clear the cost threshold); names the model, its trees and the floor."
    ),
    "live_ic": (
        "Rank correlation of the live model's predictions with the realized forward return "
        "over the walk-forward ledger (ERROR: reliably negative; WARN: not positive)."
    ),
}


def check_spec(name: str, asset: str, *, blocking: bool = False) -> dg.AssetCheckSpec:
    """A partitioned check spec of `asset`, described for the UI."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks: preview
        return dg.AssetCheckSpec(
            name,
            asset=asset,
            blocking=blocking,
            partitions_def=symbol_day_partitions,
            description=_DESCRIPTIONS[name],
        )


def check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    """The Dagster result of a core check outcome; undefined figures are left out, the others
    recorded as text (a check's numbers are plotted across every symbol's partitions)."""
    # A passed check keeps Dagster's default severity: the UI colours a result by it.
    warn = not outcome.passed and outcome.severity != ERROR
    severity = dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR
    metadata = unplotted({k: v for k, v in outcome.metadata.items() if v is not None})
    return dg.AssetCheckResult(
        check_name=outcome.name,
        passed=outcome.passed,
        severity=severity,
        description=outcome.description[:1000],
        metadata=metadata,
    )
