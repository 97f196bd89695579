"""The command line's runtime over Dagster: plan a date, run its symbol-days, report.

Imported only by `retrain_assets.cli` and `retrain_assets.api`; assets, resources and sensors
never import it.
"""
