"""Jobs: one partitioned job that materializes every asset of one symbol-day."""

import dagster as dg

from retrain_assets.defs.assets import symbol_day_assets

RETRAIN_JOB = "retrain_symbol_day"

retrain_job = dg.define_asset_job(
    RETRAIN_JOB,
    selection=dg.AssetSelection.assets(*symbol_day_assets),
    description="Retrain one symbol-day: costs, features, model, metrics.",
)
