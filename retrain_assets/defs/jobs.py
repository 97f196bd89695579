"""Jobs: one partitioned job that materializes every asset of one symbol-day."""

import dagster as dg

from retrain_assets.defs.assets import engine_summary, symbol_day_assets
from retrain_assets.defs.partitions import RETRAIN_JOB, SUMMARY_JOB

retrain_job = dg.define_asset_job(
    RETRAIN_JOB,
    selection=dg.AssetSelection.assets(*symbol_day_assets),
    description="Retrain one symbol-day: costs, features, model, metrics.",
)


summary_job = dg.define_asset_job(
    SUMMARY_JOB,
    selection=dg.AssetSelection.assets(engine_summary),
    description="Refresh one date's engine summary from the instance's records.",
)
