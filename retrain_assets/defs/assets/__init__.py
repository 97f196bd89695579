"""Per-symbol-day assets: costs, features, model, metrics."""

from retrain_assets.defs.assets.costs import costs
from retrain_assets.defs.assets.features import features
from retrain_assets.defs.assets.metrics import metrics
from retrain_assets.defs.assets.model import model
from retrain_assets.defs.assets.summary import engine_summary

symbol_day_assets = [costs, features, model, metrics]
date_assets = [engine_summary]

__all__ = [
    "costs",
    "date_assets",
    "engine_summary",
    "features",
    "metrics",
    "model",
    "symbol_day_assets",
]
