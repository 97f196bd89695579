"""Jobs: the symbol-day run (real runs and dry runs alike) and the date's summary."""

import dagster as dg

from retrain_assets.defs.assets import date_assets, symbol_day_assets
from retrain_assets.defs.partitions import RETRAIN_JOB, SUMMARY_JOB

retrain_job = dg.define_asset_job(
    RETRAIN_JOB,
    selection=dg.AssetSelection.assets(*symbol_day_assets),
    description="Retrain one symbol-day: costs, features, model, walk_forward, metrics.",
)

summary_job = dg.define_asset_job(
    SUMMARY_JOB,
    selection=dg.AssetSelection.assets(*date_assets),
    description=(
        "Refresh one date's engine summary, walk-forward report and desk report from the "
        "instance's records."
    ),
)
