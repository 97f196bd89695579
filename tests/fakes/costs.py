"""A cost model for tests: only a taker (and maker) fee; no spread, no slippage."""

from retrain_assets.core.trading.costs import CostItem, Costs


def fee_only_costs(fee_bps: float, as_of: str = "2024-01-01T00:00:00+00:00") -> Costs:
    """Costs of `fee_bps` per side, nothing else, so expected returns are easy to work out."""
    fee = CostItem(fee_bps, "config", "test")
    return Costs(
        taker_fee_bps=fee,
        maker_fee_bps=fee,
        median_spread_bps=CostItem(0.0, "estimated", "test"),
        slippage_bps_per_sigma=CostItem(0.0, "config", "test"),
        spread_estimator="corwin_schultz",
        raw_spread_bps=0.0,
        window_days=30,
        as_of=as_of,
    )
