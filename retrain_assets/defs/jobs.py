"""Jobs: one per kind of symbol-day run (real, dry run) and the date's summary."""

import dagster as dg

from retrain_assets.defs.assets import date_assets, dry_run_assets, symbol_day_assets
from retrain_assets.defs.partitions import DRY_RUN_JOB, RETRAIN_JOB, SUMMARY_JOB

retrain_job = dg.define_asset_job(
    RETRAIN_JOB,
    selection=dg.AssetSelection.assets(*symbol_day_assets),
    description="Retrain one symbol-day: costs, features, model, walk_forward, metrics.",
)

dry_run_job = dg.define_asset_job(
    DRY_RUN_JOB,
    selection=dg.AssetSelection.assets(*dry_run_assets),
    description="Smoke-test one symbol-day with a tiny training budget (dry_run/ assets).",
    tags={"retrain/dry_run": "true"},
)

summary_job = dg.define_asset_job(
    SUMMARY_JOB,
    selection=dg.AssetSelection.assets(*date_assets),
    description=(
        "Refresh one date's engine summary and walk-forward report from the instance's records."
    ),
)
