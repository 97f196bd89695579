"""Out-of-sample evaluation after trading costs, as defined in notes/EVALUATION.md.

Position `p[t]` is decided at the close of bar t and held over bar t+1. A position still
open at the last bar is closed at that bar's close and pays the exit cost: the last entry of
`positions` is treated as 0, because no bar follows it to hold it over.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.costs import Costs, per_side_cost

BARS_PER_YEAR = 24 * 365


@dataclass(frozen=True)
class StrategyStats:
    """After-cost figures of one position series on the test bars.

    `net_bps_after_costs` and `hit_rate` are per trade (0.0 when there is no trade);
    `max_drawdown` is a positive fraction on the summed (not compounded) per-bar net returns,
    matching a fixed one-unit position; `break_even_cost_bps` is None without turnover.
    """

    net_bps_after_costs: float
    gross_bps_per_trade: float
    trades: int
    hit_rate: float
    gross_bps_per_bar: float
    net_bps_per_bar: float
    sharpe: float
    max_drawdown: float
    turnover: float
    break_even_cost_bps: float | None


@dataclass(frozen=True)
class Metrics:
    """The test-set report of one model: the strategy, both baselines and diagnostics."""

    strategy: StrategyStats
    flat: StrategyStats
    buy_and_hold: StrategyStats
    auc: float | None
    ic: float | None
    rmse: float | None
    test_bars: int
    labelled_bars: int
    mean_cost_per_side_bps: float
    status: str = "ok"

    def to_json_dict(self) -> dict[str, Any]:
        """`metrics.json`: strategy figures at the top level, baselines nested, NaN as null."""
        return _json_safe(
            {
                "status": self.status,
                **asdict(self.strategy),
                "baselines": {"flat": asdict(self.flat), "buy_and_hold": asdict(self.buy_and_hold)},
                "auc": self.auc,
                "ic": self.ic,
                "rmse": self.rmse,
                "test_bars": self.test_bars,
                "labelled_bars": self.labelled_bars,
                "mean_cost_per_side_bps": self.mean_cost_per_side_bps,
            }
        )

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "Metrics":
        """Rebuild the metrics from `metrics.json` (keys added by the caller are ignored)."""
        names = StrategyStats.__dataclass_fields__
        base = data["baselines"]
        return cls(
            strategy=StrategyStats(**{k: data[k] for k in names}),
            flat=StrategyStats(**base["flat"]),
            buy_and_hold=StrategyStats(**base["buy_and_hold"]),
            auc=data["auc"],
            ic=data["ic"],
            rmse=data["rmse"],
            test_bars=int(data["test_bars"]),
            labelled_bars=int(data["labelled_bars"]),
            mean_cost_per_side_bps=float(data["mean_cost_per_side_bps"]),
            status=str(data["status"]),
        )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def positions_from_predictions(
    pred: np.ndarray, cost_per_side: np.ndarray, allow_short: bool = True
) -> np.ndarray:
    """Long (+1) when the predicted move beats the round-trip cost `2c`, short (-1) below `-2c`.

    Flat otherwise, and flat where the prediction is NaN.
    """
    pred = np.asarray(pred, dtype=float)
    round_trip = 2.0 * np.asarray(cost_per_side, dtype=float)
    pos = np.where(pred > round_trip, 1.0, 0.0)
    if allow_short:
        pos = np.where(pred < -round_trip, -1.0, pos)
    return pos


def _trade_returns(p: np.ndarray, close: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gross and net return of each trade (maximal run of one non-zero position)."""
    changes = np.flatnonzero(np.diff(p, prepend=0.0) != 0.0)
    entries = changes[p[changes] != 0.0]
    # p[-1] is 0, so every entry has a later change: its exit.
    exits = changes[np.searchsorted(changes, entries, side="right")]
    gross = p[entries] * (close[exits] / close[entries] - 1.0)
    return gross, gross - c[entries] - c[exits]


def _max_drawdown(net: np.ndarray) -> float:
    equity = np.concatenate(([0.0], np.cumsum(net)))
    return float(np.max(np.maximum.accumulate(equity) - equity))


def strategy_stats(
    positions: np.ndarray, close: np.ndarray, cost_per_side: np.ndarray
) -> StrategyStats:
    """Evaluate a position series on the test bars with the EVALUATION.md definitions.

    Per bar t: `g = p[t] r[t+1]`, `tau = |p[t] - p[t-1]|` (p[-1] = 0), `n = g - c[t] tau`,
    all bars averaged, flat ones included; the last bar has no return and only pays the
    closing cost. Per trade k: `s_k (P_out / P_in - 1) - c_in - c_out`.
    """
    close = np.asarray(close, dtype=float)
    c = np.asarray(cost_per_side, dtype=float)
    p = np.asarray(positions, dtype=float).copy()
    if p.size == 0:
        raise ValueError("strategy_stats needs at least one bar")
    p[-1] = 0.0
    r_next = np.zeros_like(close)
    r_next[:-1] = close[1:] / close[:-1] - 1.0
    g = p * r_next
    tau = np.abs(np.diff(p, prepend=0.0))
    net = g - c * tau
    gross_k, net_k = _trade_returns(p, close, c)
    std = net.std()
    return StrategyStats(
        net_bps_after_costs=float(1e4 * net_k.mean()) if net_k.size else 0.0,
        gross_bps_per_trade=float(1e4 * gross_k.mean()) if gross_k.size else 0.0,
        trades=int(net_k.size),
        hit_rate=float((net_k > 0).mean()) if net_k.size else 0.0,
        gross_bps_per_bar=float(1e4 * g.mean()),
        net_bps_per_bar=float(1e4 * net.mean()),
        sharpe=float(net.mean() / std * np.sqrt(BARS_PER_YEAR)) if std > 0 else 0.0,
        max_drawdown=_max_drawdown(net),
        turnover=float(tau.mean()),
        break_even_cost_bps=float(1e4 * g.sum() / tau.sum()) if tau.sum() > 0 else None,
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
    test_frame: pd.DataFrame, predictions: np.ndarray, costs: Costs, allow_short: bool = True
) -> Metrics:
    """Score the model's predictions on the test rows against flat and buy-and-hold.

    All three use the same bars and per-bar cost `per_side_cost(costs, sigma)`. AUC treats
    the prediction as a score for `label > 0`; IC is Spearman's; RMSE is against the label.
    The diagnostics use rows with a known label only.
    """
    close = test_frame["close"].to_numpy(dtype=float)
    pred = np.asarray(predictions, dtype=float)
    if pred.shape != close.shape:
        raise ValueError(f"{pred.size} predictions for {close.size} test bars")
    c = per_side_cost(costs, test_frame["sigma"].to_numpy(dtype=float))
    positions = positions_from_predictions(pred, c, allow_short)
    label = test_frame["label"].to_numpy(dtype=float)
    known = np.isfinite(label) & np.isfinite(pred)
    y, s = label[known], pred[known]
    return Metrics(
        strategy=strategy_stats(positions, close, c),
        flat=strategy_stats(np.zeros_like(close), close, c),
        buy_and_hold=strategy_stats(np.ones_like(close), close, c),
        auc=rank_auc(s, y > 0),
        ic=spearman_ic(s, y),
        rmse=float(np.sqrt(np.mean((s - y) ** 2))) if y.size else None,
        test_bars=int(close.size),
        labelled_bars=int(y.size),
        mean_cost_per_side_bps=float(1e4 * np.nanmean(c)),
    )
