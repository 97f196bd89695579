"""One day of the walk-forward ledger: the live model of day D trades day D+1.

The live model of D (refit on every labelled row through D) predicts each hourly bar of the
next UTC day from that bar's causal features; its signal is executed exactly as in the test
window (`execution`: decided at the close, filled at the next open, held for the horizon) under
the costs estimated from bars before the day starts, so nothing of the traded day or later
shapes the day's figures. Each day is self-contained: flat at 00:00 UTC, and whatever is still
held at the day's last close is closed there and pays its exit cost, so days chain into one
series without overlapping and a day's record is final as soon as its bars exist.

The ledger therefore measures a strategy that is flat over midnight UTC, and the 00:00 bar is
never held. `bench/midnight_cut.py` compares it with a continuous execution of the same
signal. About 20% of trades are cut at 23:00. The cut costs 0 to 25 bps per symbol-day on
planted edges (8 symbols x 90 days), and 64 ± 19 bps on a real reversal rule (848 symbol-days,
2021). Decisions before 02:00 UTC, when the daily schedule builds the model of D-1, cannot
happen live. They are 0 to 12% of a planted day's net. See `docs/lifecycle.md`, "Day
boundaries".

Buy-and-hold is held through every bar of every day, one position over the whole record: its
per-bar returns here carry no costs, and the chained record (`pnl_chain`) charges its one
entry and one exit, at the per-side cost of its first and last day. Buying and selling every
day would make the baseline pay a round trip a day, a handicap no desk would hold it to.
Flat never trades. Figures are fractions per bar (`gross`, `net`)
and per trade; `to_json_dict` writes them with ISO timestamps, deterministically (no clock,
no run ids), so a backfill of past dates reproduces the ledger byte for byte.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from retrain_assets.core.trading.costs import Costs
from retrain_assets.core.trading.fills import (
    bar_returns,
    execute,
    trades_of,
)

TRADED = "traded"
NO_LIVE_MODEL = "no_live_model"
NO_BARS = "no_bars"
BAR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class PnlTrade:
    """One trade of the day: side (+1 long, -1 short), fills, bars held, gross and net."""

    side: int
    entry: str
    exit: str
    bars: int
    gross: float
    net: float


@dataclass(frozen=True)
class DayPnl:
    """What one symbol's live model did on one traded day.

    `status` is `traded` (a live model ran, whether or not it traded), `no_live_model` (no
    model of the day before: nothing was live, so nothing traded) or `no_bars`. The per-bar
    series are aligned with `timestamps` (each bar's start): `position` held over the bar,
    `prediction` the live model's predicted label decided at the bar's close (empty in ledgers
    written before it was recorded), `gross` and `net` returns of the strategy and of
    buy-and-hold, as fractions (buy-and-hold's net equals its gross within a day: its costs
    are charged once, by the chain). `model_family` is the live model's method and kind of source
    (`core.provenance.family_of`); None for ledgers written before it was recorded.
    """

    symbol: str
    day: str
    model_as_of: str | None
    status: str
    costs_as_of: str | None
    mean_cost_per_side_bps: float | None
    timestamps: tuple[str, ...] = ()
    position: tuple[float, ...] = ()
    prediction: tuple[float, ...] = ()
    gross: tuple[float, ...] = ()
    net: tuple[float, ...] = ()
    buy_and_hold_gross: tuple[float, ...] = ()
    buy_and_hold_net: tuple[float, ...] = ()
    trades: tuple[PnlTrade, ...] = ()
    model_family: str | None = None

    @property
    def turnover(self) -> float:
        """Position changes over the day, the final close included (units of notional)."""
        q = np.asarray(self.position, dtype=float)
        if q.size == 0:
            return 0.0
        return float(np.abs(np.diff(q, prepend=0.0)).sum() + abs(q[-1]))

    def to_json_dict(self) -> dict[str, Any]:
        """walk_forward.json: the day, its figures and its trades (floats as JSON numbers)."""
        data = asdict(self)
        data["trades"] = [asdict(t) for t in self.trades]
        data["totals"] = {
            "trades": len(self.trades),
            "gross": float(sum(self.gross)),
            "net": float(sum(self.net)),
            "buy_and_hold_gross": float(sum(self.buy_and_hold_gross)),
            "turnover": self.turnover,
        }
        return data

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "DayPnl":
        """Rebuild the day written by `to_json_dict` (`totals` is derived, so ignored)."""
        series = (
            "timestamps",
            "position",
            "gross",
            "net",
            "buy_and_hold_gross",
            "buy_and_hold_net",
        )
        values: dict[str, Any] = {name: tuple(data[name]) for name in series}
        values["prediction"] = tuple(data.get("prediction", ()))
        values["trades"] = tuple(PnlTrade(**t) for t in data["trades"])
        values["model_family"] = data.get("model_family")
        scalars = ("symbol", "day", "model_as_of", "status", "costs_as_of")
        return cls(
            **{k: data[k] for k in scalars},
            mean_cost_per_side_bps=data["mean_cost_per_side_bps"],
            **values,
        )


def day_rows(frame: pd.DataFrame, day: str) -> pd.DataFrame:
    """The feature rows whose bar starts on the UTC date `day`, in time order."""
    start = pd.Timestamp(day, tz="UTC")
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    inside = (ts >= start) & (ts < start + pd.Timedelta(days=1))
    return frame.loc[inside].reset_index(drop=True)


def untraded_day(symbol: str, day: str, status: str) -> DayPnl:
    """A day on which nothing traded: no live model the day before, or no bars."""
    return DayPnl(symbol, day, None, status, None, None)


def trade_day(
    symbol: str,
    day: str,
    model_as_of: str,
    rows: pd.DataFrame,
    predictions: np.ndarray,
    costs: Costs,
    *,
    costs_as_of: str,
    horizon: int,
    allow_short: bool = True,
    slope: float = 1.0,
) -> DayPnl:
    """Execute the live model's predictions on one day's rows (see the module docstring).

    Args:
        symbol, day: the traded symbol and UTC date.
        model_as_of: the live model's date, the day before `day`.
        rows: the day's feature rows (`day_rows`): `timestamp`, `close`, `sigma`, and `open`
            or `body_1`.
        predictions: the live model's prediction for each row.
        costs: costs estimated from bars before the day starts.
        costs_as_of: when those costs were estimated (the day's 00:00 UTC).
        horizon: bars each decision holds, the label's horizon.
        allow_short: whether the strategy may go short.
        slope: the live model's calibration slope, applied before the cost rule (`execute`);
            `prediction` records the raw predictions.

    Raises:
        ValueError: predictions that do not match the rows.
    """
    if rows.empty:
        return untraded_day(symbol, day, NO_BARS)
    try:
        run = execute(rows, predictions, costs, horizon, allow_short, slope)
    except ValueError as exc:
        raise ValueError(f"{symbol} on {day}: {exc}") from None
    prices, c, q = run.prices, run.cost_per_side, run.held
    _, gross, net = bar_returns(q, prices, c)
    bh_gross = prices[1:] / prices[:-1] - 1.0  # held over every bar, costs charged by the chain
    stamps = pd.to_datetime(rows["timestamp"], utc=True)
    return DayPnl(
        symbol=symbol,
        day=day,
        model_as_of=model_as_of,
        status=TRADED,
        costs_as_of=costs_as_of,
        mean_cost_per_side_bps=float(1e4 * np.nanmean(c)),
        timestamps=tuple(t.isoformat() for t in stamps),
        position=_floats(q),
        prediction=_floats(np.asarray(predictions, dtype=float)),
        gross=_floats(gross),
        net=_floats(net),
        buy_and_hold_gross=_floats(bh_gross),
        buy_and_hold_net=_floats(bh_gross),
        trades=_pnl_trades(q, prices, c, stamps),
    )


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _pnl_trades(
    q: np.ndarray, prices: np.ndarray, c: np.ndarray, stamps: pd.Series
) -> tuple[PnlTrade, ...]:
    k = trades_of(q, prices, c)
    # Fill j is the open of bar j; fill n (past the last bar) is the day's last close.
    fills = [*stamps, stamps.iloc[-1] + BAR]
    gross = k["side"] * k["move"]
    return tuple(
        PnlTrade(
            side=int(k["side"][i]),
            entry=fills[int(k["entry"][i])].isoformat(),
            exit=fills[int(k["exit"][i])].isoformat(),
            bars=int(k["bars"][i]),
            gross=float(gross[i]),
            net=float(gross[i] - k["cost"][i]),
        )
        for i in range(k["side"].size)
    )
