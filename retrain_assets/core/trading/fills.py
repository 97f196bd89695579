"""Execution of a signal on hourly bars: decide at the close, fill at the next open, hold.

The rules (see `evaluation`'s module docstring): a decision at the close of bar t fills at the
open of bar t+1 and holds for the label horizon; `P` is each bar's open and then the window's
last close; `q[j]` is the position held over bar j, flat at the window's start; a fill at
`P[j]` pays the per-side cost of bar j-1. The test-window evaluation and the walk-forward
ledger both execute through these functions, so both trade the same way.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retrain_assets.core.trading.costs import Costs, per_side_cost


def positions_from_predictions(
    pred: np.ndarray, cost_per_side: np.ndarray, allow_short: bool = True
) -> np.ndarray:
    """The signal: long (+1) when the predicted move beats the round-trip cost `2c`, short
    (-1) below `-2c`, flat otherwise and where the prediction is NaN."""
    pred = np.asarray(pred, dtype=float)
    round_trip = 2.0 * np.asarray(cost_per_side, dtype=float)
    pos = np.where(pred > round_trip, 1.0, 0.0)
    if allow_short:
        pos = np.where(pred < -round_trip, -1.0, pos)
    return pos


def held_positions(signal: np.ndarray, horizon: int) -> np.ndarray:
    """`q[j]`, the position held over bar j, from the signal decided at each bar's close.

    A decision at the close of bar d holds bars d+1 .. d+h; the next decision is at the close
    of bar d+h (see the module docstring). The last bar's signal is never filled: no open
    follows it in the window.
    """
    if horizon < 1:
        raise ValueError(f"horizon {horizon} must be at least 1 bar")
    signal = np.asarray(signal, dtype=float)
    held = np.zeros(signal.size)
    side, next_decision = 0.0, 0
    for d in range(signal.size - 1):
        if d >= next_decision:
            side = float(signal[d])
            next_decision = d + horizon if side != 0.0 else d + 1
        held[d + 1] = side
    return held


def execution_prices(open_: np.ndarray, close: np.ndarray) -> np.ndarray:
    """`P`: each bar's open, then the last close, where the window ends (n + 1 prices)."""
    open_, close = np.asarray(open_, dtype=float), np.asarray(close, dtype=float)
    return np.append(open_, close[-1])


def trades_of(q: np.ndarray, prices: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
    """Entry and exit price index, side, price move, cost and length in bars of each trade
    (a maximal run of one non-zero position); the window's end closes what is still held."""
    q_end = np.append(q, 0.0)  # the window's end closes what is still held
    changes = np.flatnonzero(np.diff(q_end, prepend=0.0) != 0.0)
    entries = changes[q_end[changes] != 0.0]
    exits = changes[np.searchsorted(changes, entries, side="right")]
    side = q_end[entries]
    # A fill at P[j] pays the cost of bar j-1, the bar whose close decided it.
    return {
        "entry": entries,
        "exit": exits,
        "side": side,
        "move": prices[exits] / prices[entries] - 1.0,
        "cost": c[entries - 1] + c[exits - 1],
        "bars": (exits - entries).astype(float),
    }


def bar_returns(
    q: np.ndarray, p: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bar j: the price return `r`, gross `g = q[j] r` and net after the fills' costs.

    A position change at bar j, `|q[j] - q[j-1]|`, pays `c[j-1]`; the last bar also pays
    `c[n-1] |q[n-1]|` to close what is still held (see `strategy_stats`).
    """
    r = p[1:] / p[:-1] - 1.0
    g = q * r
    tau = np.abs(np.diff(q, prepend=0.0))
    net = g - np.concatenate(([0.0], c[:-1])) * tau
    net[-1] -= c[-1] * abs(q[-1])
    return r, g, net


def bar_opens(frame: pd.DataFrame) -> np.ndarray:
    """Each row's open: the `open` column, else `close * exp(-body_1)`.

    The feature frame carries `body_1 = ln(close / open)` among its features but not the open
    itself, and the round trip through the log is exact to about 1e-16.
    """
    if "open" in frame.columns:
        return frame["open"].to_numpy(dtype=float)
    if "body_1" in frame.columns:
        close = frame["close"].to_numpy(dtype=float)
        return close * np.exp(-frame["body_1"].to_numpy(dtype=float))
    raise ValueError("the test frame has neither an `open` nor a `body_1` column")


@dataclass(frozen=True)
class Execution:
    """A window's signal executed: prices `P` (n + 1), per-side costs `c` and positions `q`."""

    prices: np.ndarray
    cost_per_side: np.ndarray
    held: np.ndarray


def execute(
    rows: pd.DataFrame,
    predictions: np.ndarray,
    costs: Costs,
    horizon: int,
    allow_short: bool,
    slope: float = 1.0,
) -> Execution:
    """Decide at each row's close, fill at the next open, hold `horizon` bars.

    The cost rule reads `slope * prediction`: the model's calibration slope
    (`core.calibration`) turns its prediction into an expected return first.

    Args:
        rows: The window's rows in time order: `close`, `sigma`, and `open` or `body_1`.
        predictions: The model's predicted label of each row.
        costs: The cost model; each bar costs `per_side_cost(costs, sigma)` per side.
        horizon: Bars each decision holds.
        allow_short: Whether the signal may go short.
        slope: The model's calibration slope; 1.0 trades the raw prediction.

    Raises:
        ValueError: predictions that do not match the rows.
    """
    close = rows["close"].to_numpy(dtype=float)
    pred = np.asarray(predictions, dtype=float)
    if pred.shape != close.shape:
        raise ValueError(f"{pred.size} predictions for {close.size} bars")
    prices = execution_prices(bar_opens(rows), close)
    c = per_side_cost(costs, rows["sigma"].to_numpy(dtype=float))
    held = held_positions(positions_from_predictions(slope * pred, c, allow_short), horizon)
    return Execution(prices, c, held)
