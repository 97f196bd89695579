"""A code location of the stand-in symbol-day assets, for tests that need a workspace."""

import dagster as dg

from tests.fakes.symbol_days import dry_run_metrics, metrics

defs = dg.Definitions(assets=[metrics, dry_run_metrics])
