"""A code location of the stand-in symbol-day assets, for tests that need a workspace."""

import dagster as dg

from tests.fakes.symbol_days import metrics

defs = dg.Definitions(assets=[metrics])
