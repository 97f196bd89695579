"""The promotion gate's thresholds, as a resource the UI launchpad can edit."""

from dataclasses import fields

import dagster as dg
from pydantic import Field

from retrain_assets.core.lifecycle.gate import GatePolicy

_DEFAULT = GatePolicy()


class PromotionResource(dg.ConfigurableResource):
    """When a symbol's newest model goes to production, and when production goes flat
    (`core.gate`; the rule, its error rate and its power are in docs/lifecycle.md)."""

    alpha: float = Field(
        default=_DEFAULT.alpha,
        gt=0.0,
        lt=1.0,
        description="Chance, over all days and symbols, of promoting a method with no edge.",
    )
    planned_days: int = Field(
        default=_DEFAULT.planned_days,
        ge=1,
        description="Days at which the always-valid interval is tightest (valid at any length).",
    )
    method_window_days: int = Field(
        default=_DEFAULT.method_window_days,
        ge=1,
        description="Most days of the method's pooled record (every symbol) the gate reads.",
    )
    min_method_days: int = Field(
        default=_DEFAULT.min_method_days,
        ge=1,
        description="Fewest pooled days before the method test may pass.",
    )
    window_days: int = Field(
        default=_DEFAULT.window_days,
        ge=1,
        description="Days of the symbol's own record its guard reads, ending at the date.",
    )
    min_trades: int = Field(
        default=_DEFAULT.min_trades,
        ge=1,
        description="Fewest trades of the symbol's own in its window to promote.",
    )
    symbol_min_t: float = Field(
        default=_DEFAULT.symbol_min_t,
        description="Standard errors the symbol's own daily mean must clear zero by.",
    )
    demote_window_days: int = Field(
        default=_DEFAULT.demote_window_days,
        ge=1,
        description="Live days of the champion's own record the demotion reads.",
    )
    demote_level: float = Field(
        default=_DEFAULT.demote_level,
        gt=0.5,
        lt=1.0,
        description="One-sided confidence that the champion's own record is negative.",
    )
    demote_after_failed_days: int = Field(
        default=_DEFAULT.demote_after_failed_days,
        ge=1,
        description="Consecutive dates of a failing gate after which production goes flat.",
    )

    def policy(self) -> GatePolicy:
        """The gate's policy."""
        return GatePolicy(**{f.name: getattr(self, f.name) for f in fields(GatePolicy)})
