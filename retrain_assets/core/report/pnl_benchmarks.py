"""Benchmarks of the walk-forward record a desk recognizes: exposure-matched and market-neutral.

- **Exposure-matched**: long the symbol over exactly the bars the strategy held a position,
  paying the strategy's own fills' costs. Per bar `|position| x market move - cost`; per trade
  `move - cost`, the trade's gross read as a long. It asks whether the strategy beat simply
  being long whenever it was in the market, so a long trade equals its benchmark and only the
  short side (the direction call) can differ: a long-only strategy never beats it strictly.
- **Random timing**: long the symbol for as many bars of the same days as the strategy held,
  at random times: per bar `|position| x the day's mean move - cost`, per trade `bars x the
  day's mean move - cost`. The same exposure and costs without the timing, so unlike
  exposure-matched it tells a long-only strategy's timing from the day's drift.
- **Market-neutral**: the return less `beta x market`, where the market's bar return is the
  equal-weight mean of the chained symbols' buy-and-hold gross returns at that bar, and the
  beta of a symbol for day D is the OLS slope of its buy-and-hold gross on the market over its
  bars of its last `BETA_DAYS` ledger days strictly before D. Day D's bars never enter D's
  beta, nor any earlier day's; a day without earlier days has no beta and no market-neutral
  figure (NaN), never a beta fitted on the day itself.

Both are computed from the chained ledgers alone, so they are order-independent like the chain.
"""

import numpy as np
import pandas as pd

BETA_DAYS = 30
# Fewest earlier bars for a beta: a slope from a handful of bars is mostly noise.
MIN_BETA_BARS = 12


def market_returns(bars: pd.DataFrame) -> pd.Series:
    """The equal-weight market's return at each bar: the mean over the symbols with that bar
    of their buy-and-hold gross, indexed by timestamp."""
    return bars.groupby("timestamp")["buy_and_hold_gross"].mean()


def trailing_betas(bars: pd.DataFrame, market: pd.Series, days: int = BETA_DAYS) -> pd.Series:
    """Each (symbol, day)'s beta to the market from the symbol's earlier ledger days only.

    Args:
        bars: Every traded bar: `symbol`, `day`, `timestamp`, `buy_and_hold_gross`.
        market: `market_returns(bars)`.
        days: How many of the symbol's ledger days before D the beta is fitted on.

    Returns:
        Beta per (`symbol`, `day`) in sorted order; NaN with fewer than `MIN_BETA_BARS`
        earlier bars or a market that did not move over them.
    """
    if bars.empty:
        keys = pd.MultiIndex.from_arrays([[], []], names=["symbol", "day"])
        return pd.Series(np.zeros(0), index=keys, name="beta")
    m = bars["timestamp"].map(market).to_numpy(dtype=float)
    r = bars["buy_and_hold_gross"].to_numpy(dtype=float)
    moments = pd.DataFrame(
        {"n": 1.0, "m": m, "r": r, "mm": m * m, "mr": m * r},
        index=pd.MultiIndex.from_frame(bars[["symbol", "day"]]),
    )
    per_day = moments.groupby(level=["symbol", "day"]).sum().sort_index()
    # Sums over the `days` ledger days before each day: rolling over the day rows, shifted one.
    earlier = per_day.groupby(level="symbol", group_keys=False).apply(
        lambda own: own.rolling(days, min_periods=1).sum().shift(1)
    )
    n = earlier["n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = earlier["mm"] / n - (earlier["m"] / n) ** 2
        cov = earlier["mr"] / n - (earlier["m"] / n) * (earlier["r"] / n)
        beta = cov / var
    # A relative floor: a variance at rounding level is a market that did not move.
    moved = var > 1e-12 * earlier["mm"] / n
    return beta.where((n >= MIN_BETA_BARS) & moved).rename("beta")


def bar_benchmarks(bars: pd.DataFrame, betas: pd.Series, market: pd.Series) -> pd.DataFrame:
    """`bars` with `exposure_matched_net`, `random_timing_net`, `market` and
    `market_neutral_net` (NaN without a beta) per bar; `bars` needs `position`, `gross`,
    `net` and `buy_and_hold_gross`."""
    m = bars["timestamp"].map(market).to_numpy(dtype=float)
    beta = _beta_of(bars, betas)
    cost = bars["gross"] - bars["net"]
    day_move = bars.groupby(["symbol", "day"])["buy_and_hold_gross"].transform("mean")
    return bars.assign(
        exposure_matched_net=bars["position"].abs() * bars["buy_and_hold_gross"] - cost,
        random_timing_net=bars["position"].abs() * day_move - cost,
        market=m,
        market_neutral_net=bars["net"] - bars["position"] * beta * m,
    )


def trade_benchmarks(trades: pd.DataFrame, bars: pd.DataFrame, betas: pd.Series) -> pd.DataFrame:
    """`trades` with `exposure_matched`, `random_timing` and `neutral` (NaN without a beta).

    A trade's market move is the sum of the market over its bars, the symbol's bars from its
    entry up to (not including) its exit; `bars` must carry `market` (`bar_benchmarks`).
    """
    market_move = np.zeros(len(trades))
    for symbol, own in bars.groupby("symbol", sort=False):
        stamps = _naive_utc(own["timestamp"])
        cumulative = np.concatenate(([0.0], np.cumsum(own["market"].to_numpy(dtype=float))))
        mine = (trades["symbol"] == symbol).to_numpy()
        start = np.searchsorted(stamps, _naive_utc(trades.loc[mine, "entry"]), side="left")
        stop = np.searchsorted(stamps, _naive_utc(trades.loc[mine, "exit"]), side="left")
        market_move[mine] = cumulative[stop] - cumulative[start]
    side = trades["side"].to_numpy(dtype=float)
    cost = trades["gross"] - trades["net"]
    beta = _beta_of(trades, betas)
    day_move = bars.groupby(["symbol", "day"])["buy_and_hold_gross"].mean()
    keys = pd.MultiIndex.from_frame(trades[["symbol", "day"]])
    return trades.assign(
        exposure_matched=trades["gross"] / side - cost,
        random_timing=trades["bars"] * day_move.reindex(keys).to_numpy(dtype=float) - cost,
        neutral=trades["net"] - side * beta * market_move,
    )


def _naive_utc(stamps: pd.Series) -> np.ndarray:
    """UTC timestamps as datetime64 (a tz-aware column's `to_numpy` gives objects)."""
    return stamps.dt.tz_convert(None).to_numpy()


def _beta_of(frame: pd.DataFrame, betas: pd.Series) -> np.ndarray:
    """The beta of each row's (symbol, day), NaN where there is none."""
    keys = pd.MultiIndex.from_frame(frame[["symbol", "day"]])
    return betas.reindex(keys).to_numpy(dtype=float)
