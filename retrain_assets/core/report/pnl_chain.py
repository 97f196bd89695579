"""The walk-forward record: many symbols' DayLedgers chained into per-series figures.

Each `DayLedger` is one symbol's live model trading one UTC day, flat at both ends, so days
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
same record.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.report.pnl_benchmarks import (
    bar_benchmarks,
    market_returns,
    trade_benchmarks,
    trailing_betas,
)
from retrain_assets.core.report.pnl_figures import (
    CURVE_COLUMNS,
    DAY_BLOCKS,
    POOLED,
    PORTFOLIO,
    PORTFOLIO_DAYS,
    RETURNS,
    TABLE_COLUMNS,
    TRADE_BLOCKS,
    LedgerFigures,
    WalkForwardRecord,
)
from retrain_assets.core.trading.bootstrap import DEFAULT_RESAMPLES, mean_interval
from retrain_assets.core.trading.day_bootstrap import day_block_interval
from retrain_assets.core.trading.evaluation import DEFAULT_MIN_TRADES, INSUFFICIENT_EVIDENCE, OK
from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL, TRADED, DayLedger

# Re-exported: the record's types are read from here by the report and the tests.
__all__ = [
    "CURVE_COLUMNS",
    "POOLED",
    "PORTFOLIO",
    "RETURNS",
    "TABLE_COLUMNS",
    "LedgerFigures",
    "WalkForwardRecord",
    "chain_ledgers",
    "equity_curves",
    "max_drawdown",
]

# What the equal-weight book sums per bar: the strategy's and its benchmarks' returns.
_BOOK = (*RETURNS, "exposure_matched_net", "random_timing_net")


@dataclass(frozen=True)
class _Series:
    """What one series' figures are computed from, each frame in time order."""

    name: str
    days: int
    bars: int
    returns: pd.DataFrame  # per-bar _BOOK
    trades: pd.DataFrame  # day, side, gross, net, neutral, exposure_matched, in entry order
    daily: pd.DataFrame  # net, buy_and_hold_net, exposure_matched_net, turnover per day
    method: str = TRADE_BLOCKS  # how its intervals resample (`pnl_figures`)


def chain_ledgers(
    days: Sequence[DayLedger],
    *,
    min_trades: int = DEFAULT_MIN_TRADES,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> WalkForwardRecord:
    """Chain the ledgers of many symbols and days into the walk-forward record.

    Args:
        days: DayLedgers in any order, at most one per (symbol, day); only `traded` ones
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
    ledgers = _sorted_unique(days)
    traded = [d for d in ledgers if d.status == TRADED]
    bars, betas = _benchmarked_bars(traded)
    trades = trade_benchmarks(_trade_frame(traded), bars, betas)
    daily = _daily_frame(traded, bars)
    book = _portfolio_bars(bars, daily)
    symbols = sorted({d.symbol for d in ledgers})
    series = [
        *(_symbol_series(symbol, bars, trades, daily) for symbol in symbols),
        _Series(
            name=POOLED,
            days=len(daily),
            bars=len(bars),
            returns=bars.groupby("timestamp")[list(_BOOK)].sum(),
            trades=trades,
            daily=daily,
            method=DAY_BLOCKS,
        ),
        _Series(
            name=PORTFOLIO,
            days=int(daily["day"].nunique()),
            bars=len(book),
            returns=book,
            trades=trades,
            daily=_portfolio_days(book, daily),
            method=PORTFOLIO_DAYS,
        ),
    ]
    *own, pooled, portfolio = (
        _figures(s, min_trades=min_trades, seed=seed, resamples=resamples) for s in series
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


def equity_curves(days: Sequence[DayLedger]) -> pd.DataFrame:
    """Cumulative bps of each symbol and of the equal-weight portfolio, bar by bar.

    Args:
        days: DayLedgers in any order, at most one per (symbol, day); only `traded` ones count.

    Returns:
        Long format, `CURVE_COLUMNS`: `timestamp` (UTC), `series` (a symbol or `portfolio`),
        cumulative `gross_bps`, `net_bps`, `exposure_matched_net_bps`, `buy_and_hold_net_bps`
        and `flat_bps` (always 0.0),
        sorted by series then timestamp; empty (with those columns) without traded days.

    Raises:
        ValueError: As `chain_ledgers`.
    """
    traded = [d for d in _sorted_unique(days) if d.status == TRADED]
    bars, _ = _benchmarked_bars(traded)
    portfolio = _portfolio_bars(bars, _daily_frame(traded, bars)).reset_index()
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
) -> _Series:
    """One symbol's traded days: its bars, trades and days, each still in time order."""
    own_bars = bars.loc[bars["symbol"] == symbol]
    own_days = daily.loc[daily["symbol"] == symbol]
    return _Series(
        name=symbol,
        days=len(own_days),
        bars=len(own_bars),
        returns=own_bars[list(_BOOK)],
        trades=trades.loc[trades["symbol"] == symbol],
        daily=own_days,
    )


def _sorted_unique(days: Sequence[DayLedger]) -> list[DayLedger]:
    """The ledgers sorted by (symbol, day), checked for duplicates, ragged or NaN series."""
    ledgers = sorted(days, key=lambda d: (d.symbol, d.day))
    for before, after in pairwise(ledgers):
        if (before.symbol, before.day) == (after.symbol, after.day):
            raise ValueError(
                f"two ledgers for {after.symbol} on {after.day}: chain each (symbol, day) once"
            )
    for d in ledgers:
        lengths = {len(getattr(d, name)) for name in ("timestamps", "position", *RETURNS)}
        if len(lengths) > 1:
            raise ValueError(f"the ledger of {d.symbol} on {d.day} has series of unequal length")
        values = [v for name in RETURNS for v in getattr(d, name)] + [t.net for t in d.trades]
        if not np.all(np.isfinite(values)):
            # A NaN would silently poison every total and sum it joins; name the day instead.
            raise ValueError(f"the ledger of {d.symbol} on {d.day} has non-finite returns")
    return ledgers


def _timestamps(values: list[str]) -> pd.DatetimeIndex:
    # One resolution whatever the input (pandas infers it from the strings, `s` when empty).
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True, format="ISO8601")).as_unit("us")


def _benchmarked_bars(traded: list[DayLedger]) -> tuple[pd.DataFrame, pd.Series]:
    """`_bar_frame` with the benchmarks' per-bar columns, and each (symbol, day)'s beta."""
    bars = _bar_frame(traded)
    market = market_returns(bars)
    betas = trailing_betas(bars, market)
    return bar_benchmarks(bars, betas, market), betas


def _bar_frame(traded: list[DayLedger]) -> pd.DataFrame:
    """Every traded bar: symbol, day, timestamp, position and RETURNS, by symbol then time.

    Buy-and-hold is one position per symbol over the whole record: its net pays the entry at
    the symbol's first bar and the exit at its last, each at that day's mean per-side cost.
    """
    frame = pd.DataFrame(
        {
            "symbol": [d.symbol for d in traded for _ in d.timestamps],
            "day": [d.day for d in traded for _ in d.timestamps],
            "timestamp": _timestamps([t for d in traded for t in d.timestamps]),
            "position": np.array([q for d in traded for q in d.position], dtype=float),
            **{
                name: np.array([v for d in traded for v in getattr(d, name)], dtype=float)
                for name in RETURNS
            },
            "side_cost": np.array(
                [(d.mean_cost_per_side_bps or 0.0) / 1e4 for d in traded for _ in d.timestamps]
            ),
        }
    )
    frame = frame.sort_values(["symbol", "timestamp"], kind="mergesort", ignore_index=True)
    by_symbol = frame.groupby("symbol", sort=False)
    for ends in (by_symbol.head(1).index, by_symbol.tail(1).index):
        frame.loc[ends, "buy_and_hold_net"] -= frame.loc[ends, "side_cost"]
    return frame.drop(columns="side_cost")


def _trade_frame(traded: list[DayLedger]) -> pd.DataFrame:
    """Every trade: symbol, day, fills, side, gross and net, by entry time then symbol."""
    rows = [
        (d.symbol, d.day, t.entry, t.exit, t.side, t.bars, t.gross, t.net)
        for d in traded
        for t in d.trades
    ]
    columns = ["symbol", "day", "entry", "exit", "side", "bars", "gross", "net"]
    frame = pd.DataFrame(rows, columns=columns)
    for fill in ("entry", "exit"):
        frame[fill] = _timestamps(frame[fill].tolist())
    frame = frame.astype({"side": int, "bars": float, "gross": float, "net": float})
    return frame.sort_values(["entry", "symbol"], kind="mergesort", ignore_index=True)


def _daily_frame(traded: list[DayLedger], bars: pd.DataFrame) -> pd.DataFrame:
    """Every (symbol, day): net, buy-and-hold net (from `bars`, so its one entry and exit are
    in), exposure-matched net and turnover, by day then symbol."""
    buy_and_hold = bars.groupby(["symbol", "day"])["buy_and_hold_net"].sum()
    matched = bars.groupby(["symbol", "day"])["exposure_matched_net"].sum()
    frame = pd.DataFrame(
        {
            "symbol": [d.symbol for d in traded],
            "day": [d.day for d in traded],
            "net": np.array([sum(d.net) for d in traded], dtype=float),
            "buy_and_hold_net": np.array(
                [buy_and_hold.get((d.symbol, d.day), 0.0) for d in traded], dtype=float
            ),
            "exposure_matched_net": np.array(
                [matched.get((d.symbol, d.day), 0.0) for d in traded], dtype=float
            ),
            "turnover": np.array([d.turnover for d in traded], dtype=float),
        }
    )
    return frame.sort_values(["day", "symbol"], kind="mergesort", ignore_index=True)


def _portfolio_bars(bars: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """The equal-weight book's `_BOOK` returns per bar, indexed by timestamp, with each bar's day.

    Each bar's returns are summed over symbols and divided by the number of symbols traded
    that day, not of those with that bar, so a bar one symbol lacks (a gap) does not
    re-weight the others and a day's net is the mean of the symbols' daily nets.
    """
    held = daily.groupby("day").size()
    summed = bars.groupby(["day", "timestamp"])[list(_BOOK)].sum()
    weight = 1.0 / held.reindex(summed.index.get_level_values("day")).to_numpy(dtype=float)
    book = summed.mul(weight, axis=0).reset_index()
    return book.sort_values("timestamp", kind="mergesort").set_index("timestamp")


def _portfolio_days(book: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """The book's daily net and benchmarks' nets (sums of its bars) and mean turnover."""
    sums = book.groupby("day")[["net", "buy_and_hold_net", "exposure_matched_net"]].sum()
    sums["turnover"] = daily.groupby("day")["turnover"].mean()
    return sums.sort_index()


def _figures(series: _Series, *, min_trades: int, seed: int, resamples: int) -> LedgerFigures:
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
    return LedgerFigures(
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
