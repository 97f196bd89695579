"""`python -m retrain_assets`."""

from retrain_assets.cli import run

run()
