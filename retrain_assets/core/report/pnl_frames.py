"""The walk-forward ledgers as frames: bars, trades and days, and the equal-weight book.

What `pnl_chain` computes its series from. Each frame is in a fixed order (by symbol then
time, by entry, by day), so the record depends only on the ledgers, not on their order.
"""

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from retrain_assets.core.report.pnl_benchmarks import (
    bar_benchmarks,
    market_returns,
    trailing_betas,
)
from retrain_assets.core.report.pnl_figures import RETURNS
from retrain_assets.core.trading.walk_forward import DayPnl

# What the equal-weight book sums per bar: the strategy's and its benchmarks' returns.
BOOK = (*RETURNS, "exposure_matched_net", "random_timing_net")


def sorted_unique(days: Sequence[DayPnl]) -> list[DayPnl]:
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


def benchmarked_bars(traded: list[DayPnl]) -> tuple[pd.DataFrame, pd.Series]:
    """`_bar_frame` with the benchmarks' per-bar columns, and each (symbol, day)'s beta."""
    bars = _bar_frame(traded)
    market = market_returns(bars)
    betas = trailing_betas(bars, market)
    return bar_benchmarks(bars, betas, market), betas


def _bar_frame(traded: list[DayPnl]) -> pd.DataFrame:
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


def trade_frame(traded: list[DayPnl]) -> pd.DataFrame:
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


def daily_frame(traded: list[DayPnl], bars: pd.DataFrame) -> pd.DataFrame:
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


def portfolio_bars(bars: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """The equal-weight book's `BOOK` returns per bar, indexed by timestamp, with each bar's day.

    Each bar's returns are summed over symbols and divided by the number of symbols traded
    that day, not of those with that bar, so a bar one symbol lacks (a gap) does not
    re-weight the others and a day's net is the mean of the symbols' daily nets.
    """
    held = daily.groupby("day").size()
    summed = bars.groupby(["day", "timestamp"])[list(BOOK)].sum()
    weight = 1.0 / held.reindex(summed.index.get_level_values("day")).to_numpy(dtype=float)
    book = summed.mul(weight, axis=0).reset_index()
    return book.sort_values("timestamp", kind="mergesort").set_index("timestamp")


def portfolio_days(book: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """The book's daily net and benchmarks' nets (sums of its bars) and mean turnover."""
    sums = book.groupby("day")[["net", "buy_and_hold_net", "exposure_matched_net"]].sum()
    sums["turnover"] = daily.groupby("day")["turnover"].mean()
    return sums.sort_index()
