"""The method in force: every number-changing setting of the resources, flat, as `core.provenance`
reads them. The assets record it, the launcher and the schedule compare with it, and the
definitions derive each asset's `code_version` from it.
"""

import functools
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from resources.market_data import MarketDataResource
from resources.promotion import PromotionResource
from resources.training import CostModelResource, TrainingResource
from retrain_assets.core.model.features import FEATURE_NAMES
from retrain_assets.core.model.provenance import (
    COST_FIELDS,
    GATE_FIELDS,
    TRAINING_FIELDS,
    Current,
    Method,
)

PACKAGE = "retrain-assets"


@functools.cache
def product_version() -> str:
    """This package's installed version (`0+unknown` when run from an uninstalled tree)."""
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "0+unknown"


def _training(training: TrainingResource) -> dict[str, Any]:
    return {
        **{name: getattr(training, name) for name in TRAINING_FIELDS},
        "trainer": training.trainer_path(),
        "features": list(FEATURE_NAMES),
        "product_version": product_version(),
    }


def _costs(cost_model: CostModelResource) -> dict[str, Any]:
    return {f"cost.{name}": getattr(cost_model, name) for name in COST_FIELDS}


def _gate(promotion: PromotionResource) -> dict[str, Any]:
    return {f"gate.{name}": getattr(promotion, name) for name in GATE_FIELDS}


def method_of(
    training: TrainingResource,
    cost_model: CostModelResource | None = None,
    promotion: PromotionResource | None = None,
) -> Method:
    """The method of these resources; an asset passes the resources its method depends on."""
    settings = _training(training)
    if cost_model is not None:
        settings |= _costs(cost_model)
    if promotion is not None:
        settings |= _gate(promotion)
    return Method(settings)


def current_of(
    market_data: MarketDataResource,
    training: TrainingResource,
    cost_model: CostModelResource | None = None,
    promotion: PromotionResource | None = None,
) -> Current:
    """The configuration in force: the source's kind and identity, and the method."""
    source = market_data.bar_source()
    return Current(source.name, source.identity, method_of(training, cost_model, promotion))
