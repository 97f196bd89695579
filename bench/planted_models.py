"""What the live models trade on a planted market, walked forward with the core alone.

For each symbol and date D: features from the 180 days of bars ending at D's close, the two
fits of `core.pipeline.train_symbol_day` (held-out, calibrated on validation, then the live
refit), and on D+1 the walk-forward day of that live model (`core.walk_forward.trade_day`,
its calibration slope applied) under costs estimated before D+1. Beside it, the oracle: the
AR(1)'s own expected 4-bar return `(phi + ... + phi^4) * logret_1` under the same cost rule.
No Dagster, no files: the numbers behind issue 19's "models too shrunk to trade".

    .venv/bin/python -m bench.planted_models --phi 0.25 --symbols 6 --days 10
    .venv/bin/python -m bench.planted_models --phi 0.25 --uncalibrated --min_trees 1
"""

import argparse
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from bench.planted_market import PlantedSymbol, planted_bars
from retrain_assets.adapters.catboost_trainer import CatBoostTrainer
from retrain_assets.core.lifecycle.pipeline import feature_set, train_symbol_day, training_input
from retrain_assets.core.model.calibration import calibration_slope
from retrain_assets.core.model.features import FEATURE_NAMES
from retrain_assets.core.model.splits import Splits
from retrain_assets.core.model.training import TrainedModel, TrainingParams
from retrain_assets.core.trading.costs import FeeSchedule, estimate_costs
from retrain_assets.core.trading.walk_forward import DayPnl, day_rows, trade_day

HORIZON = 4
LOOKBACK = pd.Timedelta(days=180)


@dataclass(frozen=True)
class SymbolDay:
    """One live model (trained through `model_as_of`) and the next day it traded; `slope` is
    its fitted calibration slope, whether or not the walk applied it."""

    symbol: str
    model_as_of: str
    trees: int
    best_iteration: int
    slope: float
    ledger: DayPnl
    oracle: DayPnl


def _frame(bars: pd.DataFrame, symbol: str, day_end: pd.Timestamp) -> tuple[pd.DataFrame, Splits]:
    window = bars[(bars["timestamp"] >= day_end - LOOKBACK) & (bars["timestamp"] < day_end)]
    return feature_set(window, symbol, HORIZON, test_days=30, validation_days=20)


def _trade(
    symbol: str,
    bars: pd.DataFrame,
    day: pd.Timestamp,
    live: TrainedModel,
    phi: float,
    calibrated: bool,
) -> tuple[DayPnl, DayPnl]:
    frame, _ = _frame(bars, symbol, day + pd.Timedelta(days=1))
    rows = day_rows(frame, day.strftime("%Y-%m-%d"))
    costs = estimate_costs(bars, symbol, FeeSchedule(), day)
    predictions = CatBoostTrainer().predict(live.model_bytes, rows[list(FEATURE_NAMES)])
    slope = calibration_slope(live.config) if calibrated else 1.0
    common = {"costs_as_of": day.isoformat(), "horizon": HORIZON}
    name = day.strftime("%Y-%m-%d")
    ledger = trade_day(symbol, name, "D-1", rows, predictions, costs, slope=slope, **common)
    expected = sum(phi**k for k in range(1, HORIZON + 1)) * rows["logret_1"].to_numpy(float)
    oracle = trade_day(symbol, name, "oracle", rows, expected, costs, **common)
    return ledger, oracle


def walk(
    phi: float,
    symbols: int,
    days: int,
    params: TrainingParams,
    *,
    first_day: str = "2021-07-01",
    calibrated: bool = True,
    work: Path,
) -> list[SymbolDay]:
    """Train each symbol's live model on `days` dates and trade each on the next date."""
    dates = pd.date_range(first_day, periods=days, freq="D", tz="UTC")
    start = dates[0] - LOOKBACK - pd.Timedelta(days=1)
    out = []
    for s in range(symbols):
        symbol = f"P{s}USDT"
        bars = planted_bars(PlantedSymbol(symbol, phi), start, dates[-1] + pd.Timedelta(days=2))
        for d in dates:
            frame, splits = _frame(bars, symbol, d + pd.Timedelta(days=1))
            name = d.strftime("%Y-%m-%d")
            job = training_input(
                symbol, name, frame, splits, params, work / symbol / name, dry_run=False
            )
            fits = train_symbol_day(CatBoostTrainer(), job)
            ledger, oracle = _trade(
                symbol, bars, d + pd.Timedelta(days=1), fits.live, phi, calibrated
            )
            out.append(
                SymbolDay(
                    symbol,
                    name,
                    int(fits.live.training_log["tree_count"]),
                    int(fits.held_out.training_log["best_iteration"]),
                    calibration_slope(fits.live.config),
                    ledger,
                    oracle,
                )
            )
    return out


def summary(days: list[SymbolDay]) -> dict[str, float]:
    """Tree counts, slopes, trades per symbol-day and net per trade (bps) of a walk."""
    nets = np.array([t.net for d in days for t in d.ledger.trades])
    oracle = np.array([t.net for d in days for t in d.oracle.trades])
    trees = np.array([d.trees for d in days])
    return {
        "symbol_days": len(days),
        "trees_median": float(np.median(trees)),
        "trees_min": int(trees.min()),
        "one_tree_models": int((trees <= 1).sum()),
        "slope_median": float(np.median([d.slope for d in days])),
        "trades": int(nets.size),
        "trades_per_day": nets.size / len(days),
        "net_bps_per_trade": float(1e4 * nets.mean()) if nets.size else float("nan"),
        "net_bps_total": float(1e4 * nets.sum()),
        "oracle_trades": int(oracle.size),
        "oracle_net_bps_per_trade": float(1e4 * oracle.mean()) if oracle.size else float("nan"),
    }


def main() -> None:
    """Walk one planted market and print its summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--phi", type=float, default=0.25)
    p.add_argument("--symbols", type=int, default=6)
    p.add_argument("--days", type=int, default=10)
    p.add_argument("--min_trees", type=int, default=TrainingParams.min_trees)
    p.add_argument("--depth", type=int, default=TrainingParams.depth)
    p.add_argument("--uncalibrated", action="store_true", help="trade the raw predictions")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    params = replace(
        TrainingParams(), min_trees=args.min_trees, depth=args.depth, thread_count=args.threads
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        days = walk(
            args.phi,
            args.symbols,
            args.days,
            params,
            calibrated=not args.uncalibrated,
            work=Path(work),
        )
    figures = summary(days)
    print(
        f"phi {args.phi} min_trees {args.min_trees} depth {args.depth} "
        f"calibrated {not args.uncalibrated} ({time.perf_counter() - started:.0f} s)"
    )
    for key, value in figures.items():
        print(f"  {key}: {value:.2f}" if isinstance(value, float) else f"  {key}: {value}")


if __name__ == "__main__":
    main()
