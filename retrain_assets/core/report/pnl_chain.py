"""The walk-forward record: many symbols' DayPnls chained into per-series figures.

Each `DayPnl` is one symbol's live model trading one UTC day, flat at both ends, so days
chain by concatenation. Three kinds of series are reported: each symbol on its own; `pooled`,
every symbol's trades and (symbol, day) pairs taken together; and `portfolio`, an equal-weight
book that at each bar holds 1/k of each of the k symbols with a traded ledger that day, so a
symbol without a live model that day does not dilute the others.

Per-bar returns are fractions of a fixed one-unit position, summed, not compounded, as in
`evaluation`; totals and drawdowns are in bps of that unit. Means carry a 95% interval: a
symbol's, a stationary block bootstrap over its trades or days in time order
(`bootstrap.mean_interval`); `pooled`'s, a day-block bootstrap that resamples whole days
across symbols (`day_bootstrap`), because symbols share each day's market; the portfolio's,
the same bootstrap over its own daily nets (it has no per-trade figures of its own). A mean
without values is None, never a break-even 0.0, and a series is `insufficient_evidence`
below `min_trades` trades. Benchmarks (exposure-matched, market-neutral against an
equal-weight market with betas fitted before each day) are in `pnl_benchmarks`. The
output depends only on the ledgers, not on their order, so a rerun or a backfill gives the
same record. The ledgers become frames in `pnl_frames`; each series' figures are `pnl_series`'s.
"""

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from retrain_assets.core.report.pnl_benchmarks import trade_benchmarks
from retrain_assets.core.report.pnl_figures import (
    CURVE_COLUMNS,
    DAY_BLOCKS,
    POOLED,
    PORTFOLIO,
    PORTFOLIO_DAYS,
    RETURNS,
    TABLE_COLUMNS,
    PnlFigures,
    WalkForwardRecord,
)
from retrain_assets.core.report.pnl_frames import (
    BOOK,
    benchmarked_bars,
    daily_frame,
    portfolio_bars,
    portfolio_days,
    sorted_unique,
    trade_frame,
)
from retrain_assets.core.report.pnl_series import PnlSeries, max_drawdown, series_figures
from retrain_assets.core.trading.bootstrap import DEFAULT_RESAMPLES
from retrain_assets.core.trading.evaluation import DEFAULT_MIN_TRADES
from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL, TRADED, DayPnl

# Re-exported: the record's types are read from here by the report and the tests.
__all__ = [
    "CURVE_COLUMNS",
    "POOLED",
    "PORTFOLIO",
    "RETURNS",
    "TABLE_COLUMNS",
    "PnlFigures",
    "WalkForwardRecord",
    "chain_pnl",
    "equity_curves",
    "max_drawdown",
]


def chain_pnl(
    days: Sequence[DayPnl],
    *,
    min_trades: int = DEFAULT_MIN_TRADES,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> WalkForwardRecord:
    """Chain the ledgers of many symbols and days into the walk-forward record.

    Args:
        days: DayPnls in any order, at most one per (symbol, day); only `traded` ones
            enter the figures.
        min_trades: Fewest trades for status `ok`; fewer is `insufficient_evidence`.
        seed: Seed of the bootstrap intervals, so reruns give the same intervals.
        resamples: Bootstrap resamples per interval.

    Returns:
        Per-symbol, pooled and equal-weight portfolio figures (see the module docstring).

    Raises:
        ValueError: Two ledgers for one (symbol, day), or a ledger whose series differ in
            length or hold a non-finite return.
    """
    ledgers = sorted_unique(days)
    traded = [d for d in ledgers if d.status == TRADED]
    bars, betas = benchmarked_bars(traded)
    trades = trade_benchmarks(trade_frame(traded), bars, betas)
    daily = daily_frame(traded, bars)
    symbols = sorted({d.symbol for d in ledgers})
    series = [
        *(_symbol_series(symbol, bars, trades, daily) for symbol in symbols),
        _pooled_series(bars, trades, daily),
        _portfolio_series(bars, trades, daily),
    ]
    *own, pooled, portfolio = (
        series_figures(s, min_trades=min_trades, seed=seed, resamples=resamples) for s in series
    )
    without = Counter(d.symbol for d in ledgers if d.status == NO_LIVE_MODEL)
    return WalkForwardRecord(
        per_symbol=dict(zip(symbols, own, strict=True)),
        pooled=pooled,
        portfolio=portfolio,
        first_day=min((d.day for d in traded), default=None),
        last_day=max((d.day for d in traded), default=None),
        symbols_without_model={s: without[s] for s in sorted(without)},
        min_trades=min_trades,
    )


def equity_curves(days: Sequence[DayPnl]) -> pd.DataFrame:
    """Cumulative bps of each symbol and of the equal-weight portfolio, bar by bar.

    Args:
        days: DayPnls in any order, at most one per (symbol, day); only `traded` ones count.

    Returns:
        Long format, `CURVE_COLUMNS`: `timestamp` (UTC), `series` (a symbol or `portfolio`),
        cumulative `gross_bps`, `net_bps`, `exposure_matched_net_bps`, `buy_and_hold_net_bps`
        and `flat_bps` (always 0.0),
        sorted by series then timestamp; empty (with those columns) without traded days.

    Raises:
        ValueError: As `chain_pnl`.
    """
    traded = [d for d in sorted_unique(days) if d.status == TRADED]
    bars, _ = benchmarked_bars(traded)
    portfolio = portfolio_bars(bars, daily_frame(traded, bars)).reset_index()
    long = pd.concat([bars, portfolio.assign(symbol=PORTFOLIO)], ignore_index=True)
    long = long.sort_values(["symbol", "timestamp"], kind="mergesort", ignore_index=True)
    columns = ["gross", "net", "exposure_matched_net", "buy_and_hold_net"]
    summed = long.groupby("symbol", sort=False)[columns].cumsum()
    return pd.DataFrame(
        {
            "timestamp": long["timestamp"],
            "series": long["symbol"].astype(object),
            "gross_bps": 1e4 * summed["gross"],
            "net_bps": 1e4 * summed["net"],
            "exposure_matched_net_bps": 1e4 * summed["exposure_matched_net"],
            "buy_and_hold_net_bps": 1e4 * summed["buy_and_hold_net"],
            "flat_bps": np.zeros(len(long)),
        },
        columns=list(CURVE_COLUMNS),
    )


def _symbol_series(
    symbol: str, bars: pd.DataFrame, trades: pd.DataFrame, daily: pd.DataFrame
) -> PnlSeries:
    """One symbol's traded days: its bars, trades and days, each still in time order."""
    own_bars = bars.loc[bars["symbol"] == symbol]
    own_days = daily.loc[daily["symbol"] == symbol]
    return PnlSeries(
        name=symbol,
        days=len(own_days),
        bars=len(own_bars),
        returns=own_bars[list(BOOK)],
        trades=trades.loc[trades["symbol"] == symbol],
        daily=own_days,
    )


def _pooled_series(bars: pd.DataFrame, trades: pd.DataFrame, daily: pd.DataFrame) -> PnlSeries:
    """Every symbol's trades and (symbol, day) pairs together; its intervals resample whole
    days (`DAY_BLOCKS`), because symbols share each day's market."""
    return PnlSeries(
        name=POOLED,
        days=len(daily),
        bars=len(bars),
        returns=bars.groupby("timestamp")[list(BOOK)].sum(),
        trades=trades,
        daily=daily,
        method=DAY_BLOCKS,
    )


def _portfolio_series(bars: pd.DataFrame, trades: pd.DataFrame, daily: pd.DataFrame) -> PnlSeries:
    """The equal-weight book: its own bars and daily nets, its intervals over its own days
    (`PORTFOLIO_DAYS`); it has no per-trade figures of its own."""
    book = portfolio_bars(bars, daily)
    return PnlSeries(
        name=PORTFOLIO,
        days=int(daily["day"].nunique()),
        bars=len(book),
        returns=book,
        trades=trades,
        daily=portfolio_days(book, daily),
        method=PORTFOLIO_DAYS,
    )
