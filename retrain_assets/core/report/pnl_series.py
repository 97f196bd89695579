"""The figures of one walk-forward series: its totals, means and their 95% intervals.

`pnl_chain` builds a `PnlSeries` per symbol, for the pooled trades and for the portfolio,
and `series_figures` turns each into its `PnlFigures`; how a series' intervals resample
(trades in time order, whole days, or the portfolio's own days) is its `method`.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.report.pnl_figures import (
    DAY_BLOCKS,
    PORTFOLIO_DAYS,
    TRADE_BLOCKS,
    PnlFigures,
)
from retrain_assets.core.trading.bootstrap import mean_interval
from retrain_assets.core.trading.day_bootstrap import day_block_interval
from retrain_assets.core.trading.evaluation import INSUFFICIENT_EVIDENCE, OK


@dataclass(frozen=True)
class PnlSeries:
    """What one series' figures are computed from, each frame in time order."""

    name: str
    days: int
    bars: int
    returns: pd.DataFrame  # per-bar `pnl_frames.BOOK`
    trades: pd.DataFrame  # day, side, gross, net, neutral, exposure_matched, in entry order
    daily: pd.DataFrame  # net, buy_and_hold_net, exposure_matched_net, turnover per day
    method: str = TRADE_BLOCKS  # how its intervals resample (`pnl_figures`)


def series_figures(series: PnlSeries, *, min_trades: int, seed: int, resamples: int) -> PnlFigures:
    """The figures of one series: totals, drawdown, daily means and, but for the portfolio,
    the per-trade figures, each mean with its interval resampled as `series.method` says."""
    day_net = series.daily["net"].to_numpy(dtype=float)
    n = len(series.trades)
    in_market = n > 0 or bool(np.any(day_net != 0.0))
    returns = series.returns
    by_day = series.method == DAY_BLOCKS
    # Pooled: its (symbol, day) values cluster by calendar day, one block per day. Portfolio:
    # its own daily nets, days drawn independently as for pooled (one value per day).
    day_of = None
    if series.method == DAY_BLOCKS:
        day_of = series.daily["day"].to_numpy()
    elif series.method == PORTFOLIO_DAYS:
        day_of = series.daily.index.to_numpy()
    per_trade = (
        _no_trade_figures()
        if series.method == PORTFOLIO_DAYS
        else _trade_figures(series.trades, by_day=by_day, seed=seed, resamples=resamples)
    )
    return PnlFigures(
        name=series.name,
        days=series.days,
        bars=series.bars,
        trades=n,
        long_trades=int((series.trades["side"] > 0).sum()),
        short_trades=int((series.trades["side"] < 0).sum()),
        turnover_per_day=float(series.daily["turnover"].mean()) if series.days else 0.0,
        total_gross_bps=float(1e4 * returns["gross"].sum()),
        total_net_bps=float(1e4 * returns["net"].sum()),
        max_drawdown_bps=1e4 * max_drawdown(returns["net"].to_numpy(dtype=float)),
        buy_and_hold_net_bps=float(1e4 * returns["buy_and_hold_net"].sum()),
        exposure_matched_net_bps=float(1e4 * returns["exposure_matched_net"].sum()),
        random_timing_net_bps=float(1e4 * returns["random_timing_net"].sum()),
        flat_net_bps=0.0,
        # Never in the market, every day is exactly 0: that says nothing of the model.
        net_bps_per_day=_mean_bps(day_net) if in_market else None,
        net_bps_per_day_interval=(
            _interval_bps(day_net, day_of, seed, resamples) if in_market else None
        ),
        buy_and_hold_bps_per_day=_mean_bps(series.daily["buy_and_hold_net"].to_numpy(dtype=float)),
        exposure_matched_bps_per_day=_mean_bps(
            series.daily["exposure_matched_net"].to_numpy(dtype=float)
        ),
        status=OK if n >= min_trades else INSUFFICIENT_EVIDENCE,
        interval_method=series.method,
        **per_trade,
    )


def _trade_figures(
    trades: pd.DataFrame, *, by_day: bool, seed: int, resamples: int
) -> dict[str, Any]:
    """The per-trade figures of a symbol or of the pooled trades (by_day: day-block intervals)."""
    net = trades["net"].to_numpy(dtype=float)
    sides = trades["side"].to_numpy()
    days = trades["day"].to_numpy() if by_day else None
    hedged = trades["neutral"].notna().to_numpy()
    neutral = trades["neutral"].to_numpy(dtype=float)[hedged]
    return {
        "gross_bps_per_trade": _mean_bps(trades["gross"].to_numpy(dtype=float)),
        "net_bps_per_trade": _mean_bps(net),
        "net_bps_interval": _interval_bps(net, days, seed, resamples),
        "hit_rate": float((net > 0).mean()) if net.size else None,
        "long_net_bps_per_trade": _mean_bps(net[sides > 0]),
        "short_net_bps_per_trade": _mean_bps(net[sides < 0]),
        "market_neutral_bps_per_trade": _mean_bps(neutral),
        "market_neutral_interval": _interval_bps(
            neutral, None if days is None else days[hedged], seed, resamples
        ),
        "market_neutral_trades": int(neutral.size),
        "exposure_matched_bps_per_trade": _mean_bps(
            trades["exposure_matched"].to_numpy(dtype=float)
        ),
        "random_timing_bps_per_trade": _mean_bps(trades["random_timing"].to_numpy(dtype=float)),
    }


def _no_trade_figures() -> dict[str, Any]:
    """The portfolio's per-trade figures: none; it holds fractions of the pooled trades."""
    names = (
        "gross_bps_per_trade",
        "net_bps_per_trade",
        "net_bps_interval",
        "hit_rate",
        "long_net_bps_per_trade",
        "short_net_bps_per_trade",
        "market_neutral_bps_per_trade",
        "market_neutral_interval",
        "exposure_matched_bps_per_trade",
        "random_timing_bps_per_trade",
    )
    return {**dict.fromkeys(names), "market_neutral_trades": 0}


def max_drawdown(net: np.ndarray) -> float:
    """Largest fall of the summed per-bar net from its running peak (from 0), positive."""
    equity = np.concatenate(([0.0], np.cumsum(np.asarray(net, dtype=float))))
    return float(np.max(np.maximum.accumulate(equity) - equity))


def _mean_bps(x: np.ndarray) -> float | None:
    return float(1e4 * x.mean()) if x.size else None


def _interval_bps(
    x: np.ndarray, days: np.ndarray | None, seed: int, resamples: int
) -> tuple[float, float] | None:
    """The mean's interval in bps: over `x` in time order, or by whole days when `days` (each
    value's day) is given."""
    if days is None:
        interval = mean_interval(x, seed=seed, resamples=resamples)
    else:
        per_day = pd.Series(x).groupby(days, sort=True).agg(["sum", "count"])
        interval = day_block_interval(
            per_day["sum"].to_numpy(), per_day["count"].to_numpy(), seed=seed, resamples=resamples
        )
    return None if interval is None else (1e4 * interval[0], 1e4 * interval[1])
