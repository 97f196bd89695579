"""Per-symbol-day assets: costs, features, model, metrics."""

from retrain_assets.defs.assets.costs import costs
from retrain_assets.defs.assets.features import features
from retrain_assets.defs.assets.metrics import metrics
from retrain_assets.defs.assets.model import model

symbol_day_assets = [costs, features, model, metrics]

__all__ = ["costs", "features", "metrics", "model", "symbol_day_assets"]
