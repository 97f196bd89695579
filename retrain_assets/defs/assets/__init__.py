"""Per-symbol-day assets (costs, features, model, walk_forward, metrics, champion) and the
per-date summary, walk-forward report and desk report.

A dry run materializes these same assets, on an instance and artifact root of its own
(`launcher/environment.py`), so a smoke test never reaches the real history.
"""

from retrain_assets.defs.assets.champion import champion
from retrain_assets.defs.assets.costs import costs
from retrain_assets.defs.assets.desk import desk_report
from retrain_assets.defs.assets.features import features
from retrain_assets.defs.assets.metrics import metrics
from retrain_assets.defs.assets.model import model
from retrain_assets.defs.assets.report import walk_forward_report
from retrain_assets.defs.assets.summary import engine_summary
from retrain_assets.defs.assets.walk_forward import walk_forward

symbol_day_assets = [costs, features, model, walk_forward, metrics, champion]
date_assets = [engine_summary, walk_forward_report, desk_report]

__all__ = [
    "champion",
    "costs",
    "date_assets",
    "desk_report",
    "engine_summary",
    "features",
    "metrics",
    "model",
    "symbol_day_assets",
    "walk_forward",
    "walk_forward_report",
]
