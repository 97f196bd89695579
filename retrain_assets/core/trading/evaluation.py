"""Out-of-sample evaluation after trading costs, as defined in notes/EVALUATION.md.

Execution. The signal of row t is decided at the close of bar t, the time its features and
its label start from, and filled at the open of the next bar, never at close[t], the price the
decision saw. A position is held for the label horizon h (the label is the forward h-bar
return): bars t+1 .. t+h. At the close of bar t+h the signal is read again: the same side
renews the hold for h more bars without trading, the other side flips, flat exits, each filled
at the next open. Signals inside a hold are ignored, so holds never overlap and every trade
spans at least h bars (the last one may be cut short by the end of the window). When flat,
every bar's close is a decision point.

Prices. `P[j] = open[j]` is the price at which bar j starts and `P[n] = close[n-1]` ends the
window of n bars; `q[j]` is the position held over bar j, from `P[j]` to `P[j+1]`, and
`q[0] = 0`: no decision inside the window precedes its first open. A position still held at
the end is closed at `P[n]` and pays its exit cost. A fill at `P[j]` pays the per-side cost of
bar j-1, the decision bar, whose sigma was known when the order was decided.

Figures. A trade is a maximal run of one non-zero position, its net return
`s (P_exit / P_entry - 1) - c_entry - c_exit`. Long and short trades are reported apart, and
a market-neutral view subtracts the symbol's own drift over the test window from each trade:
`s (P_exit / P_entry - 1 - m L) - c_entry - c_exit`, with `m` the mean per-bar return of the
window and `L` the trade's bars. That drift is only known after the window, so the view is an
attribution (did the model beat simply being exposed to the coin?), not a tradable return.
Every per-trade mean comes with its trade count and a 95% block-bootstrap interval
(`bootstrap.mean_interval`); a mean is None without trades, never a break-even 0.0, and the
model's status is `insufficient_evidence` below `min_trades` trades.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.model.features import LabelSpec
from retrain_assets.core.trading.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, mean_interval
from retrain_assets.core.trading.costs import Costs
from retrain_assets.core.trading.fills import (
    bar_returns,
    execute,
    trades_of,
)

BARS_PER_YEAR = 24 * 365
DEFAULT_MIN_TRADES = 30
OK = "ok"
INSUFFICIENT_EVIDENCE = "insufficient_evidence"


@dataclass(frozen=True)
class TradeFigure:
    """Mean net return per trade of a group of trades, in bps, with its evidence.

    `net_bps` is None without trades; `interval` is the 95% block-bootstrap interval of the
    mean, None with fewer than two trades.
    """

    n_trades: int
    net_bps: float | None
    interval: tuple[float, float] | None

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "TradeFigure":
        """Rebuild from `to_json_dict` output (the interval is a JSON list there)."""
        interval = data["interval"]
        return cls(
            n_trades=int(data["n_trades"]),
            net_bps=data["net_bps"],
            interval=None if interval is None else (float(interval[0]), float(interval[1])),
        )


@dataclass(frozen=True)
class StrategyStats:
    """After-cost figures of one position series on the test bars.

    `net_bps_after_costs` (the headline, over `trades` trades, with `net_bps_interval`),
    `gross_bps_per_trade` and `hit_rate` are per trade and None without trades; `sharpe` is
    None for a constant per-bar net series; `max_drawdown` is a positive fraction on the
    summed (not compounded) per-bar net returns, matching a fixed one-unit position;
    `break_even_cost_bps` (per side) is None without turnover.
    """

    net_bps_after_costs: float | None
    net_bps_interval: tuple[float, float] | None
    trades: int
    gross_bps_per_trade: float | None
    hit_rate: float | None
    long: TradeFigure
    short: TradeFigure
    market_neutral: TradeFigure
    gross_bps_per_bar: float
    net_bps_per_bar: float
    sharpe: float | None
    max_drawdown: float
    turnover: float
    break_even_cost_bps: float | None

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "StrategyStats":
        """Rebuild from `asdict` output read back from JSON (extra keys are ignored)."""
        values = {f.name: data[f.name] for f in fields(cls)}
        for name in ("long", "short", "market_neutral"):
            values[name] = TradeFigure.from_json_dict(values[name])
        interval = values["net_bps_interval"]
        values["net_bps_interval"] = None if interval is None else tuple(interval)
        return cls(**values)


@dataclass(frozen=True)
class Metrics:
    """The test-set report of one model: the strategy, both baselines and diagnostics.

    `status` is `ok` from `min_trades` strategy trades up, else `insufficient_evidence`.
    """

    strategy: StrategyStats
    flat: StrategyStats
    buy_and_hold: StrategyStats
    auc: float | None
    ic: float | None
    rmse: float | None
    test_bars: int
    labelled_bars: int
    mean_cost_per_side_bps: float
    horizon_bars: int
    drift_bps_per_bar: float
    min_trades: int
    bootstrap_seed: int
    status: str = OK

    def to_json_dict(self) -> dict[str, Any]:
        """`metrics.json`: strategy figures at the top level, baselines nested, NaN as null."""
        return _json_safe(
            {
                "status": self.status,
                "min_trades": self.min_trades,
                **asdict(self.strategy),
                "baselines": {"flat": asdict(self.flat), "buy_and_hold": asdict(self.buy_and_hold)},
                "auc": self.auc,
                "ic": self.ic,
                "rmse": self.rmse,
                "test_bars": self.test_bars,
                "labelled_bars": self.labelled_bars,
                "mean_cost_per_side_bps": self.mean_cost_per_side_bps,
                "execution": {
                    "fill": "next bar's open",
                    "horizon_bars": self.horizon_bars,
                    "drift_bps_per_bar": self.drift_bps_per_bar,
                },
                "bootstrap": {
                    "method": "stationary block bootstrap over trades, t-widened percentile",
                    "mean_block_trades": "2 * ceil(n_trades ** (1/3))",
                    "level": DEFAULT_LEVEL,
                    "resamples": DEFAULT_RESAMPLES,
                    "seed": self.bootstrap_seed,
                },
            }
        )

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "Metrics":
        """Rebuild the metrics from `metrics.json` (keys added by the caller are ignored)."""
        base = data["baselines"]
        execution = data["execution"]
        return cls(
            strategy=StrategyStats.from_json_dict(data),
            flat=StrategyStats.from_json_dict(base["flat"]),
            buy_and_hold=StrategyStats.from_json_dict(base["buy_and_hold"]),
            auc=data["auc"],
            ic=data["ic"],
            rmse=data["rmse"],
            test_bars=int(data["test_bars"]),
            labelled_bars=int(data["labelled_bars"]),
            mean_cost_per_side_bps=float(data["mean_cost_per_side_bps"]),
            horizon_bars=int(execution["horizon_bars"]),
            drift_bps_per_bar=float(execution["drift_bps_per_bar"]),
            min_trades=int(data["min_trades"]),
            bootstrap_seed=int(data["bootstrap"]["seed"]),
            status=str(data["status"]),
        )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _figure(net: np.ndarray, seed: int) -> TradeFigure:
    return TradeFigure(
        n_trades=int(net.size),
        net_bps=float(1e4 * net.mean()) if net.size else None,
        interval=_bps(mean_interval(net, seed=seed)),
    )


def _bps(interval: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if interval is None else (1e4 * interval[0], 1e4 * interval[1])


def _max_drawdown(net: np.ndarray) -> float:
    equity = np.concatenate(([0.0], np.cumsum(net)))
    return float(np.max(np.maximum.accumulate(equity) - equity))


def strategy_stats(
    held: np.ndarray, prices: np.ndarray, cost_per_side: np.ndarray, seed: int = 0
) -> StrategyStats:
    """Evaluate held positions on the test bars with the EVALUATION.md definitions.

    Args:
        held: `q[j]`, the position over bar j (`held_positions`); `q[0]` must be 0.
        prices: `P`, the n + 1 execution prices (`execution_prices`).
        cost_per_side: Per-side cost of each bar as a fraction.
        seed: Seed of the bootstrap intervals.

    Per bar j: `r = P[j+1] / P[j] - 1`, `g = q[j] r`, `tau = |q[j] - q[j-1]|` paying
    `c[j-1]`, and the last bar also pays `c[n-1] |q[n-1]|` to close; averaged over all bars,
    flat ones included.

    Raises:
        ValueError: No bars, `q[0]` not flat, or sizes that do not match.
    """
    q = np.asarray(held, dtype=float)
    p, c = np.asarray(prices, dtype=float), np.asarray(cost_per_side, dtype=float)
    if q.size == 0 or p.size != q.size + 1 or c.size != q.size or q[0] != 0.0:
        raise ValueError("strategy_stats needs n >= 1 flat-started bars, n + 1 prices, n costs")
    r, g, net = bar_returns(q, p, c)
    turnover = np.abs(np.diff(q, prepend=0.0)).sum() + abs(q[-1])
    k = trades_of(q, p, c)
    gross_k = k["side"] * k["move"]
    net_k = gross_k - k["cost"]
    neutral = k["side"] * (k["move"] - r.mean() * k["bars"]) - k["cost"]
    headline = _figure(net_k, seed)
    std = net.std()
    return StrategyStats(
        net_bps_after_costs=headline.net_bps,
        net_bps_interval=headline.interval,
        trades=headline.n_trades,
        gross_bps_per_trade=float(1e4 * gross_k.mean()) if net_k.size else None,
        hit_rate=float((net_k > 0).mean()) if net_k.size else None,
        long=_figure(net_k[k["side"] > 0], seed),
        short=_figure(net_k[k["side"] < 0], seed),
        market_neutral=_figure(neutral, seed),
        gross_bps_per_bar=float(1e4 * g.mean()),
        net_bps_per_bar=float(1e4 * net.mean()),
        sharpe=float(net.mean() / std * np.sqrt(BARS_PER_YEAR)) if std > 0 else None,
        max_drawdown=_max_drawdown(net),
        turnover=float(turnover / q.size),
        break_even_cost_bps=float(1e4 * g.sum() / turnover) if turnover > 0 else None,
    )


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    first = np.concatenate(([True], xs[1:] != xs[:-1]))
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, x.size))
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def rank_auc(score: np.ndarray, positive: np.ndarray) -> float | None:
    """Mann-Whitney AUC of `score` for the boolean `positive`; None with a single class."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(np.asarray(score, dtype=float))
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def spearman_ic(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation; None when either side is constant or too short."""
    if a.size < 2:
        return None
    ra, rb = _average_ranks(a), _average_ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def evaluate(
    test_frame: pd.DataFrame,
    predictions: np.ndarray,
    costs: Costs,
    allow_short: bool = True,
    *,
    horizon: int = LabelSpec().horizon,
    min_trades: int = DEFAULT_MIN_TRADES,
    seed: int = 0,
    slope: float = 1.0,
) -> Metrics:
    """Score the model's predictions on the test rows against flat and buy-and-hold.

    Args:
        test_frame: The test rows in time order: `close`, `sigma`, `label`, and `open` or
            `body_1` (see `bar_opens`).
        predictions: The model's predicted label of each row.
        costs: The cost model; each bar costs `per_side_cost(costs, sigma)` per side.
        allow_short: Whether the strategy may go short.
        horizon: Bars each decision holds, the label's horizon.
        min_trades: Fewest strategy trades for status `ok`; fewer is `insufficient_evidence`.
        seed: Seed of the bootstrap intervals, so reruns give the same intervals.
        slope: The model's calibration slope, applied before the cost rule (`execute`).

    Returns:
        The strategy decided at each close and filled at the next open; buy-and-hold enters
        at the first fill (the second bar's open) and holds to the last close; flat never
        trades. AUC treats the prediction as a score for `label > 0`; IC is Spearman's; RMSE
        is against the label; the diagnostics use rows with a known label only.
    """
    close = test_frame["close"].to_numpy(dtype=float)
    pred = np.asarray(predictions, dtype=float)
    run = execute(test_frame, pred, costs, horizon, allow_short, slope)
    prices, c, held = run.prices, run.cost_per_side, run.held
    always_long = np.append(0.0, np.ones(close.size - 1))
    strategy = strategy_stats(held, prices, c, seed)
    label = test_frame["label"].to_numpy(dtype=float)
    known = np.isfinite(label) & np.isfinite(pred)
    y, s = label[known], pred[known]
    return Metrics(
        strategy=strategy,
        flat=strategy_stats(np.zeros_like(close), prices, c, seed),
        buy_and_hold=strategy_stats(always_long, prices, c, seed),
        auc=rank_auc(s, y > 0),
        ic=spearman_ic(s, y),
        rmse=float(np.sqrt(np.mean((s - y) ** 2))) if y.size else None,
        test_bars=int(close.size),
        labelled_bars=int(y.size),
        mean_cost_per_side_bps=float(1e4 * np.nanmean(c)),
        horizon_bars=horizon,
        drift_bps_per_bar=float(1e4 * np.mean(prices[1:] / prices[:-1] - 1.0)),
        min_trades=min_trades,
        bootstrap_seed=seed,
        status=OK if strategy.trades >= min_trades else INSUFFICIENT_EVIDENCE,
    )
