"""Per-side trading costs: fees from config or the exchange, spread estimated from 1h bars.

Every figure is stored in basis points and converted to a fraction (/1e4) only where a cost
is applied. The spread estimators read several to tens of bps on liquid pairs whose true spread
is under 1 bp (they are biased upward when the spread is small next to volatility), so the
estimate is clamped and added to the fee, never used in its place.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from retrain_assets.core.errors import InsufficientHistoryError, PermanentError

CostSource = Literal["config", "exchange", "estimated"]
BAR = pd.Timedelta(hours=1)
# A day with fewer bars gives too noisy a daily estimate to keep.
MIN_BARS_PER_DAY = 12


@dataclass(frozen=True)
class CostItem:
    """One cost figure in bps, with where it came from (config, exchange or estimated)."""

    bps: float
    source: CostSource
    detail: str


@dataclass(frozen=True)
class Costs:
    """The cost model of one symbol on one day; `costs.json` is `to_json_dict()`.

    JSON layout: each of the four spec fields is an object `{"bps", "source", "detail"}`.
    `slippage_bps_per_sigma.bps` is the slippage in bps per unit (1.0 = 100%) of per-bar
    volatility, i.e. `kappa * 1e4`: the per-side slip of a bar is `bps / 1e4 * sigma_bar`
    as a fraction (kappa = 0.05 and sigma_bar = 0.4% give 2 bps).
    """

    taker_fee_bps: CostItem
    maker_fee_bps: CostItem
    median_spread_bps: CostItem
    slippage_bps_per_sigma: CostItem
    spread_estimator: str
    raw_spread_bps: float
    window_days: int
    as_of: str

    @property
    def slippage_kappa(self) -> float:
        """Slippage per unit of per-bar volatility, as a plain ratio."""
        return self.slippage_bps_per_sigma.bps / 1e4

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the four cost items nest as `{"bps", "source", "detail"}`."""
        out: dict[str, Any] = {}
        for name in _ITEM_FIELDS:
            item: CostItem = getattr(self, name)
            out[name] = {"bps": item.bps, "source": item.source, "detail": item.detail}
        out.update(
            spread_estimator=self.spread_estimator,
            raw_spread_bps=self.raw_spread_bps,
            window_days=self.window_days,
            as_of=self.as_of,
        )
        return out

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "Costs":
        """Rebuild the record written by `to_json_dict`."""
        items = {name: CostItem(**data[name]) for name in _ITEM_FIELDS}
        return cls(
            **items,
            spread_estimator=str(data["spread_estimator"]),
            raw_spread_bps=float(data["raw_spread_bps"]),
            window_days=int(data["window_days"]),
            as_of=str(data["as_of"]),
        )


_ITEM_FIELDS = ("taker_fee_bps", "maker_fee_bps", "median_spread_bps", "slippage_bps_per_sigma")


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


def _logs(bars: pd.DataFrame, *cols: str) -> list[np.ndarray]:
    return [np.log(bars[c].to_numpy(dtype=float)) for c in cols]


def _adjacent(bars: pd.DataFrame) -> np.ndarray:
    """True for each pair (t-1, t) of rows exactly one bar apart; estimators skip the rest."""
    return (bars["timestamp"].diff().iloc[1:] == BAR).to_numpy()


def corwin_schultz_spread(bars: pd.DataFrame) -> float:
    """Corwin & Schultz (2012) high-low spread, as a fraction.

    Two-bar estimates on adjacent bars with the gap adjustment (bar t's high and low shifted
    so that the previous close lies inside its range), averaged signed, then floored at 0.
    Returns NaN with no pair of adjacent bars.
    """
    h, lo, c = (bars[k].to_numpy(dtype=float) for k in ("high", "low", "close"))
    gap = np.maximum(0.0, c[:-1] - h[1:]) + np.minimum(0.0, c[:-1] - lo[1:])
    h1, l1 = h[1:] + gap, lo[1:] + gap
    beta = np.log(h[:-1] / lo[:-1]) ** 2 + np.log(h1 / l1) ** 2
    gamma = np.log(np.maximum(h[:-1], h1) / np.minimum(lo[:-1], l1)) ** 2
    k = 3.0 - 2.0 * np.sqrt(2.0)
    alpha = (np.sqrt(2.0 * beta) - np.sqrt(beta)) / k - np.sqrt(gamma / k)
    s = 2.0 * (np.exp(alpha) - 1.0) / (1.0 + np.exp(alpha))
    s = s[_adjacent(bars)]
    return float(max(s.mean(), 0.0)) if s.size else float("nan")


def abdi_ranaldo_spread(bars: pd.DataFrame) -> float:
    """Abdi & Ranaldo (2017) close-high-low spread, as a fraction.

    `sqrt(max(mean(4 (c_t - eta_t)(c_t - eta_{t+1})), 0))` over adjacent bars, with `eta` the
    mid-range in logs. Returns NaN with no pair of adjacent bars.
    """
    h, lo, c = _logs(bars, "high", "low", "close")
    eta = (h + lo) / 2.0
    s2 = 4.0 * (c[:-1] - eta[:-1]) * (c[:-1] - eta[1:])
    s2 = s2[_adjacent(bars)]
    return float(np.sqrt(max(s2.mean(), 0.0))) if s2.size else float("nan")


def edge_spread(bars: pd.DataFrame) -> float:
    """EDGE estimator of Ardia, Guidotti & Kroencke (2024, JFE 161), as a fraction.

    Combines the two open-based moment conditions of the paper with variance weights and
    corrects for bars without trades (`tau`, the `phi` probabilities). The squared spread is
    floored at 0 like the other estimators. NaN when the moments are undefined.
    """
    o, h, lo, c = _logs(bars, "open", "high", "low", "close")
    m = (h + lo) / 2.0
    keep = _adjacent(bars)
    h0, l0, c0, m0 = (x[:-1][keep] for x in (h, lo, c, m))
    o, h, lo, m = (x[1:][keep] for x in (o, h, lo, m))
    tau = (h != lo) | (lo != c0)
    pt = tau.mean() if tau.size else 0.0
    po = ((o != h) & tau).mean() + ((o != lo) & tau).mean() if tau.size else 0.0
    pc = ((c0 != h0) & tau).mean() + ((c0 != l0) & tau).mean() if tau.size else 0.0
    if min(pt, po, pc) == 0.0:
        return float("nan")
    r1, r2, r3, r4, r5 = m - o, o - m0, m - c0, c0 - m0, o - c0
    d1, d3, d5 = (r - tau * r.mean() / pt for r in (r1, r3, r5))
    x1 = -4.0 / po * d1 * r2 - 4.0 / pc * d3 * r4
    x2 = -4.0 / po * d1 * r5 - 4.0 / pc * d5 * r4
    e1, e2 = x1.mean(), x2.mean()
    v1, v2 = x1.var(), x2.var()
    s2 = (v2 * e1 + v1 * e2) / (v1 + v2) if v1 + v2 > 0 else (e1 + e2) / 2.0
    return float(np.sqrt(max(s2, 0.0)))


ESTIMATORS: dict[str, Callable[[pd.DataFrame], float]] = {
    "corwin_schultz": corwin_schultz_spread,
    "abdi_ranaldo": abdi_ranaldo_spread,
    "edge": edge_spread,
}


def daily_spreads(bars: pd.DataFrame, estimator: str = "corwin_schultz") -> pd.Series:
    """One spread estimate (fraction) per UTC day with at least `MIN_BARS_PER_DAY` bars."""
    if estimator not in ESTIMATORS:
        raise PermanentError(f"unknown spread estimator {estimator!r}; pick one of {ESTIMATORS}")
    fn = ESTIMATORS[estimator]
    days = bars["timestamp"].dt.floor("D")
    out = {
        day: fn(group.reset_index(drop=True))
        for day, group in bars.groupby(days, sort=True)
        if len(group) >= MIN_BARS_PER_DAY
    }
    return pd.Series(out, dtype=float).dropna()


def estimate_costs(
    bars: pd.DataFrame,
    symbol: str,
    fees: FeeSchedule,
    as_of_end: pd.Timestamp,
    window_days: int = 30,
    spread_floor_bps: float = 0.5,
    spread_cap_bps: float = 50.0,
    slippage_kappa: float = 0.05,
    estimator: str = "corwin_schultz",
) -> Costs:
    """Build the cost model from fees and the bars of `[as_of_end - window_days, as_of_end)`.

    The spread is the median of daily (24-bar) estimates over the window: one estimate per day
    keeps the estimator's pairs local, and the median shrugs off the odd wild day that an
    average over the whole window would let through. It is then clamped to
    `[spread_floor_bps, spread_cap_bps]`; `raw_spread_bps` keeps the unclamped median.

    Raises:
        InsufficientHistoryError: the window holds no day with enough bars to estimate.
    """
    end = pd.Timestamp(as_of_end)
    start = end - pd.Timedelta(days=window_days)
    ts = bars["timestamp"]
    window = bars.loc[(ts >= start) & (ts < end)].reset_index(drop=True)
    daily = daily_spreads(window, estimator)
    if daily.empty:
        raise InsufficientHistoryError(symbol, found=len(window), needed=MIN_BARS_PER_DAY)
    raw_bps = float(daily.median() * 1e4)
    spread_bps = float(np.clip(raw_bps, spread_floor_bps, spread_cap_bps))
    taker, maker = fees.fees_for(symbol)
    spread_detail = (
        f"median of {len(daily)} daily {estimator} estimates in [{start.isoformat()}, "
        f"{end.isoformat()}): raw {raw_bps:.2f} bps, clamped to "
        f"[{spread_floor_bps}, {spread_cap_bps}]"
    )
    slip_detail = f"slip per side = {slippage_kappa} x sigma_bar; bps = kappa x 1e4"
    return Costs(
        taker_fee_bps=taker,
        maker_fee_bps=maker,
        median_spread_bps=CostItem(spread_bps, "estimated", spread_detail),
        slippage_bps_per_sigma=CostItem(slippage_kappa * 1e4, "config", slip_detail),
        spread_estimator=estimator,
        raw_spread_bps=raw_bps,
        window_days=window_days,
        as_of=end.isoformat(),
    )


def per_side_cost(costs: Costs, sigma_bar: np.ndarray) -> np.ndarray:
    """Per-side cost of each bar as a fraction: taker fee + half spread + kappa * sigma_bar.

    Taker fee because the strategy trades at market on the next tradable price; half the
    spread because one side crosses from mid to the touch.
    """
    fixed = (costs.taker_fee_bps.bps + 0.5 * costs.median_spread_bps.bps) / 1e4
    return fixed + costs.slippage_kappa * np.asarray(sigma_bar, dtype=float)
