"""Per-symbol-day assets (costs, features, model, walk_forward, metrics, champion), real and
dry-run (all but the champion: a smoke test never touches the production pointer), and the
per-date summary and report.

Dry runs materialize a copy of the four assets under the `dry_run` key prefix (and group), so a
smoke test never becomes the latest materialization of a real asset: not in the UI, the resume
ledger, status.json or the summary.
"""

import dagster as dg

from retrain_assets.core.artifacts import DRY_RUN_PREFIX
from retrain_assets.defs.assets import costs as _costs
from retrain_assets.defs.assets import features as _features
from retrain_assets.defs.assets import metrics as _metrics
from retrain_assets.defs.assets import model as _model
from retrain_assets.defs.assets import walk_forward as _walk_forward
from retrain_assets.defs.assets.champion import champion
from retrain_assets.defs.assets.costs import costs
from retrain_assets.defs.assets.features import features
from retrain_assets.defs.assets.metrics import metrics
from retrain_assets.defs.assets.model import model
from retrain_assets.defs.assets.report import walk_forward_report
from retrain_assets.defs.assets.summary import engine_summary
from retrain_assets.defs.assets.walk_forward import walk_forward

symbol_day_assets = [costs, features, model, walk_forward, metrics, champion]
dry_run_assets = dg.map_asset_specs(
    lambda spec: spec.replace_attributes(group_name=DRY_RUN_PREFIX),
    [
        a
        for a in dg.load_assets_from_modules(
            [_costs, _features, _model, _walk_forward, _metrics], key_prefix=DRY_RUN_PREFIX
        )
        if isinstance(a, dg.AssetsDefinition)
    ],
)
date_assets = [engine_summary, walk_forward_report]

__all__ = [
    "DRY_RUN_PREFIX",
    "champion",
    "costs",
    "date_assets",
    "dry_run_assets",
    "engine_summary",
    "features",
    "metrics",
    "model",
    "symbol_day_assets",
    "walk_forward",
    "walk_forward_report",
]
