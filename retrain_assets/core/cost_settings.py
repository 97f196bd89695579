"""The cost model's settings: liquidity tiers, quoted spreads and impact inputs, validated.

Errors name the `cost_model` resource field at fault, so a bad launchpad entry reads as one.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from retrain_assets.core.errors import InvalidSymbolError, PermanentError
from retrain_assets.core.spreads import ESTIMATORS
from retrain_assets.core.symbols import normalize_symbol


@dataclass(frozen=True)
class LiquidityTier:
    """Symbols trading at least `min_adv_quote` a day have a spread in `[floor, cap]` bps."""

    name: str
    min_adv_quote: float
    floor_bps: float
    cap_bps: float


# Binance USDT pairs: majors quote at a tick or two (under 1 bp), liquid alts at 1-5 bps.
DEFAULT_TIERS: tuple[LiquidityTier, ...] = (
    LiquidityTier("major", 500e6, 0.1, 1.0),
    LiquidityTier("liquid", 20e6, 1.0, 5.0),
    LiquidityTier("other", 0.0, 5.0, 50.0),
)


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
    """Tiers from `{name: [min_adv_quote_per_day, floor_bps, cap_bps]}`, largest first.

    Raises:
        PermanentError: a value is not three non-negative numbers, a floor is above its cap,
            or no tier starts at 0 (every symbol needs a tier).
    """
    tiers = []
    for name, values in config.items():
        where = f"liquidity_tiers[{name!r}]"
        numbers = list(values)
        if len(numbers) != 3:
            raise _bad(where, f"expected [min_adv_quote, floor_bps, cap_bps], got {numbers!r}")
        adv, floor, cap = (_nonnegative(v, where) for v in numbers)
        if floor > cap:
            raise _bad(where, f"floor {floor} bps is above cap {cap} bps")
        tiers.append(LiquidityTier(str(name), adv, floor, cap))
    if not any(t.min_adv_quote == 0 for t in tiers):
        raise _bad("liquidity_tiers", "one tier must start at 0 so that every symbol has one")
    return tuple(sorted(tiers, key=lambda t: -t.min_adv_quote))


def tier_for(adv_quote: float, tiers: Iterable[LiquidityTier]) -> LiquidityTier:
    """The first tier, largest threshold first, whose threshold `adv_quote` reaches."""
    ordered = sorted(tiers, key=lambda t: -t.min_adv_quote)
    return next((t for t in ordered if adv_quote >= t.min_adv_quote), ordered[-1])


@dataclass(frozen=True)
class CostSettings:
    """How the spread and slippage are estimated; validated on construction.

    `quoted_spread_bps` keys are any symbol spelling (`BTC/USDT`, `BTCUSDT`) and are
    normalized; `order_notional` is in the quote currency like the volume.

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

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise _bad("window_days", f"{self.window_days} must be >= 1")
        if self.estimator not in ESTIMATORS:
            raise _bad("spread_estimator", f"{self.estimator!r} is not one of {list(ESTIMATORS)}")
        _nonnegative(self.order_notional, "order_notional")
        _nonnegative(self.impact_k, "impact_k")
        tiers = tiers_from_config(
            {t.name: (t.min_adv_quote, t.floor_bps, t.cap_bps) for t in self.tiers}
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
