"""Dagster wiring: partitions, assets, jobs, schedules. Thin layers over `retrain_assets.core`."""
