"""Per-side trading costs: fees, a calibrated spread and square-root impact, point in time.

Every figure is stored in basis points and converted to a fraction (/1e4) only where a cost
is applied. Costs that evaluate a window come only from bars before it starts: the estimate
reads the bars of `[as_of - window_days, as_of)` and nothing else (`evaluation_cost_as_of`
gives the `as_of` of a window from its first bar).

Spread: a per-symbol quoted spread from config when given, else the median of daily EDGE
estimates clamped into the spread range of the symbol's liquidity tier. The tier is chosen by
the symbol's own median daily quote volume over the same pre-window bars against absolute
thresholds (`cost_settings.DEFAULT_TIERS`, with the basis of each range), never by its rank
among the selected symbols. OHLC estimators on 1h bars read several to tens of bps on pairs
whose true spread is under 1 bp, so the tier's range, not the estimator, decides on liquid pairs.

Slippage: square-root impact (Toth et al. 2011), per side, as a fraction:
`impact = k * sigma_daily * sqrt(order_notional / ADV)`. `per_side_cost` reads `sigma_daily` of
each bar as `sqrt(24) * sigma_bar` (the bar's trailing 1h volatility, known at the decision),
so `slippage_bps_per_sigma.bps = 1e4 * k * sqrt(24) * sqrt(order_notional / ADV)`.

The record the estimate returns (`Costs`, `CostItem`, `CostBasis`) is in `cost_records`.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from retrain_assets.core.data.spreads import (
    BARS_PER_DAY,
    ESTIMATORS,
    MIN_BARS_PER_DAY,
    abdi_ranaldo_spread,
    average_daily_quote_volume,
    corwin_schultz_spread,
    daily_spreads,
    daily_volatility,
    edge_spread,
    median_daily_quote_volume,
)
from retrain_assets.core.data.symbols import normalize_symbol
from retrain_assets.core.errors import (
    InsufficientHistoryError,
    InvalidSymbolError,
    PermanentError,
)
from retrain_assets.core.trading.cost_records import CostBasis, CostItem, Costs
from retrain_assets.core.trading.cost_settings import (
    DEFAULT_TIERS,
    LIQUIDITY_MEASURES,
    CostSettings,
    LiquidityTier,
    tier_for,
    tiers_from_config,
)


@dataclass(frozen=True)
class FeeSchedule:
    """Fees per side in bps: a venue default plus per-symbol `(taker, maker)` overrides.

    `source` is "exchange" when the figures were fetched with credentials, else "config".
    Symbols are looked up exactly as given (e.g. "BTC/USDT").
    """

    default_taker_bps: float = 10.0
    default_maker_bps: float = 10.0
    per_symbol: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    venue: str = "binance"
    source: Literal["config", "exchange"] = "config"

    def fees_for(self, symbol: str) -> tuple[CostItem, CostItem]:
        """Return `(taker, maker)` fee items for `symbol`."""
        if symbol in self.per_symbol:
            taker, maker = self.per_symbol[symbol]
            detail = f"{self.venue} fee for {symbol}"
        else:
            taker, maker = self.default_taker_bps, self.default_maker_bps
            detail = f"{self.venue} default fee"
        return (
            CostItem(float(taker), self.source, f"{detail} (taker)"),
            CostItem(float(maker), self.source, f"{detail} (maker)"),
        )


def sqrt_impact_bps(sigma_daily: float, order_notional: float, adv: float, k: float) -> float:
    """Square-root market impact of one order, in bps: `1e4 k sigma_daily sqrt(Q / ADV)`.

    Args:
        sigma_daily: daily volatility of log returns, as a fraction.
        order_notional: order size Q, in the quote currency.
        adv: average daily volume, in the quote currency; must be > 0.
        k: the square-root law's prefactor (about 0.5-1).
    """
    if adv <= 0:
        raise PermanentError(f"average daily volume must be > 0 for impact, got {adv}")
    return 1e4 * k * sigma_daily * math.sqrt(order_notional / adv)


def evaluation_cost_as_of(window_start: pd.Timestamp) -> pd.Timestamp:
    """When the costs that evaluate a window are estimated: the UTC midnight at or before it.

    Pass the first bar of the window, e.g. `Splits.test.start_ts`; the estimate then reads only
    whole days of bars strictly before the window. Read the start from the split itself, not
    from `date - test_days`: each missing bar, and each feature row a gap blanks, moves the
    test segment's start earlier.
    """
    return pd.Timestamp(window_start).floor("D")


def estimate_costs(
    bars: pd.DataFrame,
    symbol: str,
    fees: FeeSchedule,
    as_of: pd.Timestamp,
    settings: CostSettings | None = None,
) -> Costs:
    """Build the cost model from fees and the bars of `[as_of - window_days, as_of)` only.

    Raw spread: the median of daily (24-bar) estimates over the window: one estimate per day
    keeps the estimator's pairs local, and the median shrugs off the odd wild day. Used spread:
    the symbol's quoted spread from `settings` when given, else the raw spread clamped to the
    range of its liquidity tier, chosen by the window's median (or mean: `liquidity_measure`)
    daily quote volume. Slippage: square-root impact (module docstring) with ADV (the mean)
    and `sigma_daily` from the same window.

    Args:
        bars: 1h bars of `symbol`; rows outside the window are ignored.
        symbol: the pair, any spelling `normalize_symbol` accepts.
        fees: the fees in force.
        as_of: exclusive end of the window; nothing at or after it is read.
        settings: estimator, tiers, quoted spreads and impact inputs; default `CostSettings()`.

    Raises:
        InsufficientHistoryError: the window holds no day with enough bars to estimate.
        PermanentError: the window's bars carry no traded volume.
    """
    s = settings or CostSettings()
    end = pd.Timestamp(as_of)
    start = end - pd.Timedelta(days=s.window_days)
    window = bars.loc[(bars["timestamp"] >= start) & (bars["timestamp"] < end)]
    window = window.reset_index(drop=True)
    daily, sigma_daily, adv = _window_measures(window, symbol, s, (start, end))
    raw_bps = float(daily.median() * 1e4)
    volume, volume_days = _liquidity(window, adv, s)
    tier = tier_for(volume, s.tiers)
    chosen_by = f"{s.liquidity_measure} daily quote volume {volume:.4g} over {volume_days} days"
    spread = _spread_item(raw_bps, len(daily), tier, symbol, s, (start, end), chosen_by)
    taker, maker = fees.fees_for(symbol)
    return Costs(
        taker_fee_bps=taker,
        maker_fee_bps=maker,
        median_spread_bps=spread,
        slippage_bps_per_sigma=_slippage_item(adv, s),
        spread_estimator=s.estimator,
        raw_spread_bps=raw_bps,
        window_days=s.window_days,
        as_of=end.isoformat(),
        basis=_cost_basis(
            window,
            (start, end),
            spread,
            tier,
            s,
            adv=adv,
            sigma_daily=sigma_daily,
            liquidity=(volume, volume_days),
        ),
    )


def _window_measures(
    window: pd.DataFrame,
    symbol: str,
    s: CostSettings,
    span: tuple[pd.Timestamp, pd.Timestamp],
) -> tuple[pd.Series, float, float]:
    """The window's daily spread estimates, daily volatility and average daily quote volume.

    Raises here, before any figure is built, when the window cannot carry an estimate: no
    day with enough bars (or no finite volatility), or no traded volume to size impact by.
    """
    daily = daily_spreads(window, s.estimator)
    sigma_daily = daily_volatility(window)
    if daily.empty or not math.isfinite(sigma_daily):
        raise InsufficientHistoryError(symbol, found=len(window), needed=MIN_BARS_PER_DAY)
    adv = average_daily_quote_volume(window)
    if not adv > 0:
        start, end = span
        raise PermanentError(f"{symbol}: no traded volume in [{start}, {end}) to size impact")
    return daily, sigma_daily, adv


def _cost_basis(
    window: pd.DataFrame,
    span: tuple[pd.Timestamp, pd.Timestamp],
    spread: CostItem,
    tier: LiquidityTier,
    s: CostSettings,
    *,
    adv: float,
    sigma_daily: float,
    liquidity: tuple[float, int],
) -> CostBasis:
    """What the estimate rests on (`CostBasis`): the window read, the tier its liquidity
    chose, and the impact inputs, so costs.json says why each figure is what it is."""
    start, end = span
    volume, volume_days = liquidity
    return CostBasis(
        estimated_as_of=end.isoformat(),
        window_start=start.isoformat(),
        window_end=end.isoformat(),
        window_bars=len(window),
        spread_source="quoted" if spread.source == "config" else "estimated",
        liquidity_tier=tier.name,
        tier_floor_bps=tier.floor_bps,
        tier_cap_bps=tier.cap_bps,
        adv_quote=adv,
        sigma_daily=sigma_daily,
        order_notional=s.order_notional,
        impact_k=s.impact_k,
        slippage_bps=sqrt_impact_bps(sigma_daily, s.order_notional, adv, s.impact_k),
        liquidity_measure=f"{s.liquidity_measure} daily quote volume",
        liquidity_quote_volume=volume,
        liquidity_days=volume_days,
        tier_min_quote_volume=tier.min_daily_quote_volume,
    )


def _liquidity(window: pd.DataFrame, adv: float, s: CostSettings) -> tuple[float, int]:
    """The daily quote volume that picks the tier, and the days it read (see `CostSettings`)."""
    if s.liquidity_measure == "mean":
        return adv, int(window["timestamp"].dt.floor("D").nunique())
    return median_daily_quote_volume(window)


def _slippage_item(adv: float, s: CostSettings) -> CostItem:
    # sqrt_impact_bps per unit of per-bar sigma: sigma_daily = sqrt(24) * sigma_bar.
    kappa_bps = sqrt_impact_bps(math.sqrt(BARS_PER_DAY), s.order_notional, adv, s.impact_k)
    detail = (
        f"sqrt impact per side = k x sqrt(24) x sigma_bar x sqrt(Q / ADV); k {s.impact_k}, "
        f"Q {s.order_notional:g}, ADV {adv:.4g} a day (quote currency) in the window"
    )
    return CostItem(kappa_bps, "estimated", detail)


def _normalized(symbol: str) -> str:
    # Config keys are normalized; a name that is no pair (a test's "A") has no quoted spread.
    try:
        return normalize_symbol(symbol)
    except InvalidSymbolError:
        return symbol


def _spread_item(
    raw_bps: float,
    days: int,
    tier: LiquidityTier,
    symbol: str,
    s: CostSettings,
    window: tuple[pd.Timestamp, pd.Timestamp],
    chosen_by: str,
) -> CostItem:
    span = f"[{window[0].isoformat()}, {window[1].isoformat()})"
    quoted = s.quoted_spread_bps.get(_normalized(symbol))
    if quoted is not None:
        return CostItem(quoted, "config", f"quoted spread for {symbol}; raw {raw_bps:.2f} bps")
    used = float(np.clip(raw_bps, tier.floor_bps, tier.cap_bps))
    detail = (
        f"median of {days} daily {s.estimator} estimates in {span}: raw {raw_bps:.2f} bps, "
        f"clamped to tier {tier.name!r} [{tier.floor_bps}, {tier.cap_bps}] bps, chosen by its "
        f"{chosen_by} >= {tier.min_daily_quote_volume:.4g}"
    )
    return CostItem(used, "estimated", detail)


def per_side_cost(costs: Costs, sigma_bar: np.ndarray) -> np.ndarray:
    """Per-side cost of each bar as a fraction: taker fee + half spread + kappa * sigma_bar.

    Taker fee because the strategy trades at market on the next tradable price; half the
    spread because one side crosses from mid to the touch. `kappa * sigma_bar` is the
    square-root impact `k * sigma_daily * sqrt(Q / ADV)` with `sigma_daily = sqrt(24) *
    sigma_bar`, the bar's own trailing volatility (see `estimate_costs`).
    """
    fixed = (costs.taker_fee_bps.bps + 0.5 * costs.median_spread_bps.bps) / 1e4
    return fixed + costs.slippage_kappa * np.asarray(sigma_bar, dtype=float)


# Re-exported: callers and tests import the estimators from here.
__all__ = [
    "DEFAULT_TIERS",
    "ESTIMATORS",
    "LIQUIDITY_MEASURES",
    "CostBasis",
    "CostItem",
    "CostSettings",
    "Costs",
    "FeeSchedule",
    "LiquidityTier",
    "abdi_ranaldo_spread",
    "corwin_schultz_spread",
    "daily_spreads",
    "edge_spread",
    "estimate_costs",
    "evaluation_cost_as_of",
    "median_daily_quote_volume",
    "per_side_cost",
    "sqrt_impact_bps",
    "tier_for",
    "tiers_from_config",
]
