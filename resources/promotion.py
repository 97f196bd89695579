"""The promotion gate's thresholds, as a resource the UI launchpad can edit."""

import dagster as dg
from pydantic import Field

from retrain_assets.core.gate import GatePolicy


class PromotionResource(dg.ConfigurableResource):
    """When a symbol's newest model may replace its champion (see `core.gate`)."""

    window_days: int = Field(
        default=30, ge=1, description="Walk-forward days the gate reads, ending at the date."
    )
    min_trades: int = Field(
        default=30, ge=1, description="Fewest walk-forward trades in the window to promote."
    )
    require_interval_above_zero: bool = Field(
        default=True,
        description="The net-per-trade interval's low end must clear zero, not only its mean.",
    )
    beat_buy_and_hold: bool = Field(
        default=True, description="The window's net must also beat buy-and-hold's."
    )

    def policy(self) -> GatePolicy:
        """The gate's policy."""
        return GatePolicy(
            window_days=self.window_days,
            min_trades=self.min_trades,
            require_interval_above_zero=self.require_interval_above_zero,
            beat_buy_and_hold=self.beat_buy_and_hold,
        )
