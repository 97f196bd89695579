"""The cost record of one symbol on one day, as `costs.json` holds it.

`Costs` is what `costs.estimate_costs` builds and every evaluation reads: four cost items in
bps, each with where it came from, and the `CostBasis` the estimate rests on. The record and
its JSON layout live here, the estimate in `costs`, which re-exports these names.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

CostSource = Literal["config", "exchange", "estimated"]
SpreadSource = Literal["quoted", "estimated"]


@dataclass(frozen=True)
class CostItem:
    """One cost figure in bps, with where it came from (config, exchange or estimated)."""

    bps: float
    source: CostSource
    detail: str


@dataclass(frozen=True)
class CostBasis:
    """What an estimate rests on: its window, liquidity tier and impact inputs.

    `estimated_as_of` is the exclusive end of the window: no bar at or after it was read.
    `adv_quote` is the average daily quote volume (quote currency, USDT for */USDT pairs),
    `sigma_daily` the daily volatility of log returns, both from the window's bars;
    `slippage_bps` is the impact of one order at `sigma_daily`. How the tier was chosen:
    `liquidity_quote_volume` is the window's `liquidity_measure` of daily quote volume over
    `liquidity_days` days, and `tier_min_quote_volume` the threshold of `liquidity_tier` it
    reached; the tier's spread range is `[tier_floor_bps, tier_cap_bps]`. Files written before
    the liquidity fields existed read with them None.
    """

    estimated_as_of: str
    window_start: str
    window_end: str
    window_bars: int
    spread_source: SpreadSource
    liquidity_tier: str
    tier_floor_bps: float
    tier_cap_bps: float
    adv_quote: float
    sigma_daily: float
    order_notional: float
    impact_k: float
    slippage_bps: float
    liquidity_measure: str | None = None
    liquidity_quote_volume: float | None = None
    liquidity_days: int | None = None
    tier_min_quote_volume: float | None = None


@dataclass(frozen=True)
class Costs:
    """The cost model of one symbol on one day; `costs.json` is `to_json_dict()`.

    JSON layout: each of the four spec fields is an object `{"bps", "source", "detail"}`;
    `median_spread_bps` is the spread in use (quoted, or the estimate clamped to its tier)
    and `raw_spread_bps` the unclamped estimate. `slippage_bps_per_sigma.bps` is the slippage
    in bps per unit (1.0 = 100%) of per-bar volatility, i.e. `kappa * 1e4`: the per-side slip
    of a bar is `bps / 1e4 * sigma_bar` as a fraction. `CostBasis` fields sit at the top level
    beside them; `as_of` equals `estimated_as_of` (older files have only `as_of`).
    """

    taker_fee_bps: CostItem
    maker_fee_bps: CostItem
    median_spread_bps: CostItem
    slippage_bps_per_sigma: CostItem
    spread_estimator: str
    raw_spread_bps: float
    window_days: int
    as_of: str
    basis: CostBasis | None = None

    @property
    def slippage_kappa(self) -> float:
        """Slippage per unit of per-bar volatility, as a plain ratio."""
        return self.slippage_bps_per_sigma.bps / 1e4

    @property
    def all_in_per_side_bps(self) -> float:
        """Taker fee + half spread + impact at the window's own volatility, in bps."""
        slip = self.basis.slippage_bps if self.basis else 0.0
        return self.taker_fee_bps.bps + 0.5 * self.median_spread_bps.bps + slip

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
        if self.basis is not None:
            out.update(asdict(self.basis))
        return out

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "Costs":
        """Rebuild the record written by `to_json_dict` (also one without a `CostBasis`)."""
        items = {name: CostItem(**data[name]) for name in _ITEM_FIELDS}
        basis = None
        if "estimated_as_of" in data:
            basis = CostBasis(**{f.name: data[f.name] for f in fields(CostBasis) if f.name in data})
        return cls(
            **items,
            spread_estimator=str(data["spread_estimator"]),
            raw_spread_bps=float(data["raw_spread_bps"]),
            window_days=int(data["window_days"]),
            as_of=str(data["as_of"]),
            basis=basis,
        )


_ITEM_FIELDS = ("taker_fee_bps", "maker_fee_bps", "median_spread_bps", "slippage_bps_per_sigma")
