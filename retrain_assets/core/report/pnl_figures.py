"""The walk-forward record's figures: one series (`PnlFigures`), all (`WalkForwardRecord`).

Built by `pnl_chain.chain_pnl`; written into the report's JSON and its UI table. Figures
undefined without trades or days are None, never 0.0.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

POOLED = "pooled"
PORTFOLIO = "portfolio"
RETURNS = ("gross", "net", "buy_and_hold_gross", "buy_and_hold_net")
CURVE_COLUMNS = (
    "timestamp",
    "series",
    "gross_bps",
    "net_bps",
    "exposure_matched_net_bps",
    "buy_and_hold_net_bps",
    "flat_bps",
)
TRADE_BLOCKS, DAY_BLOCKS, PORTFOLIO_DAYS = "trade_blocks", "day_blocks", "portfolio_days"
TABLE_COLUMNS = (
    "series",
    "status",
    "days",
    "trades",
    "gross_bps_per_trade",
    "net_bps_per_trade",
    "net_bps_lo",
    "net_bps_hi",
    "hit_rate",
    "total_net_bps",
    "exposure_matched_net_bps",
    "exposure_matched_bps_per_trade",
    "random_timing_net_bps",
    "buy_and_hold_net_bps",
    "flat_net_bps",
    "max_drawdown_bps",
    "net_bps_per_day",
    "net_bps_per_day_lo",
    "net_bps_per_day_hi",
    "long_net_bps_per_trade",
    "short_net_bps_per_trade",
    "market_neutral_bps_per_trade",
)


@dataclass(frozen=True)
class PnlFigures:
    """The chained figures of one series: a symbol, `pooled` or `portfolio`.

    `days` counts traded days ((symbol, day) pairs for `pooled`), `bars` their bars. Per-trade
    figures (`*_per_trade`, `hit_rate`, the interval) are None without trades; per-day means
    are None without days and their intervals None below two. Totals are summed per-bar
    returns in bps; `max_drawdown_bps` is positive, on the cumulative per-bar net; flat never
    trades, so `flat_net_bps` is 0.0, kept so tables show both baselines. Long and short
    trades are reported apart.

    Intervals (`interval_method`): a symbol's are stationary block bootstraps over its own
    trades and days (`trade_blocks`); `pooled` resamples whole days across symbols
    (`day_blocks`, `day_bootstrap`), since symbols share each day's market. The `portfolio`
    is a book of fractions of every symbol's trades, with no trades of its own: its per-trade
    figures are None (read the pooled row for those; `trades` still counts the pooled trades
    behind the book), and its interval is `net_bps_per_day_interval`, from its own daily net
    series, days drawn with replacement as for `pooled` (`portfolio_days`).

    Benchmarks (`pnl_benchmarks`): `exposure_matched_*` is long the symbol over exactly the
    bars the strategy held, paying the same fills' costs, the comparison the report leads with;
    buy-and-hold (one full-time position) is kept beside it. A long trade equals its
    exposure-matched benchmark, so only shorts can beat it; `random_timing_*` (the same bars
    held at random times of the same days, same costs) is the benchmark of the timing itself.
    `market_neutral_*` is each trade's net less its side x the symbol's beta x the equal-weight
    market's move over its bars, the beta fitted only on days before the trade's day;
    `market_neutral_trades` counts the trades that had such a beta (the others have no
    market-neutral figure).
    """

    name: str
    days: int
    bars: int
    trades: int
    gross_bps_per_trade: float | None
    net_bps_per_trade: float | None
    net_bps_interval: tuple[float, float] | None
    hit_rate: float | None
    long_trades: int
    short_trades: int
    turnover_per_day: float
    total_gross_bps: float
    total_net_bps: float
    max_drawdown_bps: float
    buy_and_hold_net_bps: float
    flat_net_bps: float
    net_bps_per_day: float | None
    net_bps_per_day_interval: tuple[float, float] | None
    buy_and_hold_bps_per_day: float | None
    status: str
    long_net_bps_per_trade: float | None = None
    short_net_bps_per_trade: float | None = None
    market_neutral_bps_per_trade: float | None = None
    market_neutral_interval: tuple[float, float] | None = None
    market_neutral_trades: int = 0
    exposure_matched_net_bps: float | None = None
    exposure_matched_bps_per_trade: float | None = None
    exposure_matched_bps_per_day: float | None = None
    random_timing_net_bps: float | None = None
    random_timing_bps_per_trade: float | None = None
    interval_method: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, intervals as `[lo, hi]` lists."""
        data = asdict(self)
        for name in ("net_bps_interval", "net_bps_per_day_interval", "market_neutral_interval"):
            data[name] = None if data[name] is None else list(data[name])
        return data

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "PnlFigures":
        """Rebuild the figures written by `to_json_dict` (extra keys are ignored)."""
        values = {f.name: data.get(f.name) for f in fields(cls)}  # older files lack some
        values["market_neutral_trades"] = int(values["market_neutral_trades"] or 0)
        for name in ("net_bps_interval", "net_bps_per_day_interval", "market_neutral_interval"):
            values[name] = None if values[name] is None else tuple(values[name])
        return cls(**values)

    def table_row(self) -> dict[str, Any]:
        """One flat row of `TABLE_COLUMNS`, floats rounded to 2 decimals, None kept."""
        lo, hi = self.net_bps_interval or (None, None)
        day_lo, day_hi = self.net_bps_per_day_interval or (None, None)
        row = {
            **{k: v for k, v in asdict(self).items() if k in TABLE_COLUMNS},
            "series": self.name,
            "net_bps_lo": lo,
            "net_bps_hi": hi,
            "net_bps_per_day_lo": day_lo,
            "net_bps_per_day_hi": day_hi,
        }
        return {k: round(row[k], 2) if isinstance(row[k], float) else row[k] for k in TABLE_COLUMNS}


@dataclass(frozen=True)
class WalkForwardRecord:
    """Every series' figures over the chained days, and what could not be traded.

    `first_day` and `last_day` span the traded days (None when none traded);
    `symbols_without_model` counts each symbol's `no_live_model` days (symbols with none are
    left out).
    """

    per_symbol: dict[str, PnlFigures]
    pooled: PnlFigures
    portfolio: PnlFigures
    first_day: str | None
    last_day: str | None
    symbols_without_model: dict[str, int]
    min_trades: int

    def to_json_dict(self) -> dict[str, Any]:
        """`walk_forward_record.json`: the span, the evidence threshold and every series."""
        return {
            "first_day": self.first_day,
            "last_day": self.last_day,
            "min_trades": self.min_trades,
            "symbols_without_model": dict(self.symbols_without_model),
            "per_symbol": {k: v.to_json_dict() for k, v in self.per_symbol.items()},
            "pooled": self.pooled.to_json_dict(),
            "portfolio": self.portfolio.to_json_dict(),
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "WalkForwardRecord":
        """Rebuild the record written by `to_json_dict`."""
        return cls(
            per_symbol={k: PnlFigures.from_json_dict(v) for k, v in data["per_symbol"].items()},
            pooled=PnlFigures.from_json_dict(data["pooled"]),
            portfolio=PnlFigures.from_json_dict(data["portfolio"]),
            first_day=data["first_day"],
            last_day=data["last_day"],
            symbols_without_model={k: int(v) for k, v in data["symbols_without_model"].items()},
            min_trades=int(data["min_trades"]),
        )

    def table_rows(self) -> list[dict[str, Any]]:
        """One flat row per symbol, then pooled, then portfolio (see `TABLE_COLUMNS`)."""
        series = [*self.per_symbol.values(), self.pooled, self.portfolio]
        return [figures.table_row() for figures in series]
