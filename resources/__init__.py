"""Dagster resources: the only seam between the assets and the outside world."""
