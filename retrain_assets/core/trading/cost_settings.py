"""The cost model's settings: liquidity tiers, quoted spreads and impact inputs, validated.

Errors name the `cost_model` resource field at fault, so a bad launchpad entry reads as one.

`DEFAULT_TIERS`: spread ranges by liquidity for Binance spot */USDT pairs, thresholds in USDT
a day (the median daily quote volume of the 30 days before the window: absolute, never a rank
among the selected symbols). Basis of the ranges:
- major [0.1, 1] bp: BTC and ETH quote at one or two ticks (BTCUSDT's 0.01 tick is 0.003 bp
  at 35k); Kaiko Research, "A cheatsheet for bid-ask spreads" (2023), finds BTC and ETH on
  Binance USDT the tightest books in crypto. Below 1 bp, as EVALUATION.md's costs note says.
- large_alt [1, 5] bps: the known range of large alts (issue 19: LTC, ETC at 1-5 bps).
- mid_cap [5, 20] and small_cap [20, 50] bps: spreads widen as daily volume falls (Binance
  order books sampled hourly, HodlBot, "Bid-ask spreads on the Binance exchange", 2019);
  50 bps is the cap EVALUATION.md gives the bar-based estimators.
Thresholds, from the shared 1h data (Dec 2020-Jul 2021), 30-day medians: BTC 1.7-4.3bn USDT
a day, ETH 0.54-4.4bn, LTC 80-575m, ETC 16-713m (713m to 2021-06-01, its peak). 1bn keeps
LTC and ETC out of the majors at their peak; 50m keeps them large alts through mid-2021.
Known limit: ETH's median fell under 1bn in the windows to 2020-12-31..2021-01-14, so ETH was
a large alt then (1 bp floor, at most 0.5 bp more per side than a major). Markets grow:
review the thresholds with the volumes; a quoted spread in config overrides any tier.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from retrain_assets.core.data.spreads import ESTIMATORS
from retrain_assets.core.data.symbols import normalize_symbol
from retrain_assets.core.errors import InvalidSymbolError, PermanentError


@dataclass(frozen=True)
class LiquidityTier:
    """Symbols whose daily quote volume reaches `min_daily_quote_volume` quote at a spread in
    `[floor_bps, cap_bps]`; the volume is the `liquidity_measure` of the pre-window bars."""

    name: str
    min_daily_quote_volume: float
    floor_bps: float
    cap_bps: float


# The default tiers; their basis is in the module docstring.
DEFAULT_TIERS: tuple[LiquidityTier, ...] = (
    LiquidityTier("major", 1e9, 0.1, 1.0),
    LiquidityTier("large_alt", 50e6, 1.0, 5.0),
    LiquidityTier("mid_cap", 5e6, 5.0, 20.0),
    LiquidityTier("small_cap", 0.0, 20.0, 50.0),
)
# How a symbol's daily quote volume is read for its tier: "median" of its days (the default;
# a few frenzied days do not lift it), or "mean" (the average daily volume, as before issue 19).
LIQUIDITY_MEASURES = ("median", "mean")


def _bad(where: str, why: str) -> PermanentError:
    return PermanentError(f"cost_model.{where}: {why}")


def _nonnegative(value: object, where: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _bad(where, f"{value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise _bad(where, f"{value!r} must be a finite number >= 0")
    return number


def tiers_from_config(config: Mapping[str, Iterable[float]]) -> tuple[LiquidityTier, ...]:
    """Tiers from `{name: [min_daily_quote_volume, floor_bps, cap_bps]}`, largest first.

    Raises:
        PermanentError: a value is not three non-negative numbers, a floor is above its cap,
            or no tier starts at 0 (every symbol needs a tier).
    """
    tiers = []
    for name, values in config.items():
        where = f"liquidity_tiers[{name!r}]"
        numbers = list(values)
        if len(numbers) != 3:
            raise _bad(
                where, f"expected [min_daily_quote_volume, floor_bps, cap_bps], got {numbers!r}"
            )
        volume, floor, cap = (_nonnegative(v, where) for v in numbers)
        if floor > cap:
            raise _bad(where, f"floor {floor} bps is above cap {cap} bps")
        tiers.append(LiquidityTier(str(name), volume, floor, cap))
    if not any(t.min_daily_quote_volume == 0 for t in tiers):
        raise _bad("liquidity_tiers", "one tier must start at 0 so that every symbol has one")
    return tuple(sorted(tiers, key=lambda t: -t.min_daily_quote_volume))


def tier_for(daily_quote_volume: float, tiers: Iterable[LiquidityTier]) -> LiquidityTier:
    """The first tier, largest threshold first, whose threshold the symbol's volume reaches.

    Only the symbol's own volume decides: its tier does not depend on which other symbols
    are selected.
    """
    ordered = sorted(tiers, key=lambda t: -t.min_daily_quote_volume)
    return next((t for t in ordered if daily_quote_volume >= t.min_daily_quote_volume), ordered[-1])


@dataclass(frozen=True)
class CostSettings:
    """How the spread and slippage are estimated; validated on construction.

    `quoted_spread_bps` keys are any symbol spelling (`BTC/USDT`, `BTCUSDT`) and are
    normalized; `order_notional` is in the quote currency like the volume; `liquidity_measure`
    (one of `LIQUIDITY_MEASURES`) reads the daily quote volume that picks the tier.

    Raises:
        PermanentError: a negative or non-numeric figure, an unknown estimator, a symbol
            that is not a pair (InvalidSymbolError), or invalid tiers.
    """

    window_days: int = 30
    estimator: str = "edge"
    tiers: tuple[LiquidityTier, ...] = DEFAULT_TIERS
    quoted_spread_bps: Mapping[str, float] = field(default_factory=dict)
    order_notional: float = 10_000.0
    impact_k: float = 1.0
    liquidity_measure: str = "median"

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise _bad("window_days", f"{self.window_days} must be >= 1")
        if self.liquidity_measure not in LIQUIDITY_MEASURES:
            raise _bad(
                "liquidity_measure",
                f"{self.liquidity_measure!r} is not one of {list(LIQUIDITY_MEASURES)}",
            )
        if self.estimator not in ESTIMATORS:
            raise _bad("spread_estimator", f"{self.estimator!r} is not one of {list(ESTIMATORS)}")
        _nonnegative(self.order_notional, "order_notional")
        _nonnegative(self.impact_k, "impact_k")
        tiers = tiers_from_config(
            {t.name: (t.min_daily_quote_volume, t.floor_bps, t.cap_bps) for t in self.tiers}
        )
        quoted: dict[str, float] = {}
        for raw, bps in self.quoted_spread_bps.items():
            try:
                symbol = normalize_symbol(raw)
            except InvalidSymbolError as exc:
                raise InvalidSymbolError(f"cost_model.quoted_spread_bps: {exc}") from None
            bps = _nonnegative(bps, f"quoted_spread_bps[{raw!r}]")
            if quoted.setdefault(symbol, bps) != bps:
                raise _bad("quoted_spread_bps", f"{symbol} is given twice with different spreads")
        object.__setattr__(self, "tiers", tiers)
        object.__setattr__(self, "quoted_spread_bps", quoted)
