"""Day boundaries of the walk-forward ledger, measured: what flattening at midnight costs.

Each ledger day (`core.walk_forward.trade_day`) starts flat at 00:00 UTC, first decides at the
close of the 00:00 bar (so that bar is never held) and closes whatever it still holds at the
23:00 bar's close. This bench executes one point-in-time signal two ways with the product's
own functions: day by day through `trade_day`, and continuously over the whole sample through
`execution.execute` (the same signal, no boundary). It reports, pooled over the symbols:

- the share of the day-cut trades closed by the day's end (still held at the last close) and
  their mean net against the trades that ended on their own;
- the share of bars never tradable (the 00:00 bar) and how often the continuous run holds it;
- the mean net per day lost to the cut (continuous minus day-cut, per symbol-day);
- the bars whose positions differ between the two (by hour of the day: only around midnight);
- the first bars' assumption: the ledger's decisions before the live model of D-1 can exist
  (the daily schedule runs at `--ready-hour`, 02:00 UTC), their bars' net, and the day's net
  when those decisions are flat (`live` day net).

The signal is the lag-1 rule `pred = logret_1 * (phi + ... + phi^h)`, the AR(1) oracle of a
planted market with that `phi` (`bench/planted_market.py`), and a fixed rule on real bars
(`--real`, from ../shared/data/binance-spot-1h). Costs are a flat per-side cost (`--cost-bps`).
Only full days (24 feature rows) are measured; on real bars the continuous run steps over the
days dropped. Standard errors treat symbol-days as independent (true of planted symbols; real
ones are correlated, so theirs are understated).

    .venv/bin/python -m bench.midnight_cut --phi 0.25 --symbols 8 --days 60
    .venv/bin/python -m bench.midnight_cut --real BTCUSDT,ETHUSDT --first 2021-05-01 --days 31
"""

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.planted_market import PlantedSymbol, planted_bars
from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.model.features import LabelSpec, build_features
from retrain_assets.core.trading.costs import CostItem, Costs
from retrain_assets.core.trading.fills import bar_returns, execute
from retrain_assets.core.trading.walk_forward import DayPnl, day_rows, trade_day

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "binance-spot-1h"
HOURS = 24
# The daily schedule's hour (`defs.schedules.SCHEDULE_CRON`'s default): the live model of D-1
# exists from then on day D, and decides first at the close of that hour's bar.
READY_HOUR = 2
WARM_UP = pd.Timedelta(days=8)  # the features' longest window (168 bars) before the first day


@dataclass
class CutSample:
    """Raw figures of the day-cut and continuous executions of one signal, poolable by `+`.

    Per symbol-day lists are aligned: `cut_day_net[i]`, `continuous_day_net[i]`,
    `early_bars_net[i]` and `live_day_net[i]` are the same symbol-day. Nets are fractions.
    """

    cut_trade_net: list[float] = field(default_factory=list)
    full_trade_net: list[float] = field(default_factory=list)
    cut_day_net: list[float] = field(default_factory=list)
    continuous_day_net: list[float] = field(default_factory=list)
    continuous_midnight_net: list[float] = field(default_factory=list)
    early_bars_net: list[float] = field(default_factory=list)
    live_day_net: list[float] = field(default_factory=list)
    continuous_trades: int = 0
    bars: int = 0
    midnight_bars: int = 0
    continuous_held_midnight: int = 0
    differing_by_hour: list[int] = field(default_factory=lambda: [0] * HOURS)

    def __add__(self, other: "CutSample") -> "CutSample":
        merged = CutSample()
        for name, value in asdict(self).items():
            theirs = getattr(other, name)
            if name == "differing_by_hour":
                setattr(merged, name, [a + b for a, b in zip(value, theirs, strict=True)])
            else:
                setattr(merged, name, value + theirs)
        return merged


def flat_costs(per_side_bps: float) -> Costs:
    """A cost model charging `per_side_bps` on every fill (fee only: no spread, no impact)."""
    fee = CostItem(per_side_bps, "config", "bench: flat per-side cost")
    zero = CostItem(0.0, "config", "bench: none")
    return Costs(fee, fee, zero, zero, "none", 0.0, 0, "1970-01-01T00:00:00+00:00")


def lag1_predictions(rows: pd.DataFrame, phi: float, horizon: int) -> np.ndarray:
    """The AR(1) oracle's expected `horizon`-bar log return from each bar's `logret_1`."""
    scale = sum(phi**k for k in range(1, horizon + 1))
    return rows["logret_1"].to_numpy(dtype=float) * scale


def full_days(frame: pd.DataFrame) -> list[str]:
    """The UTC dates with all 24 feature rows, in order."""
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    counts = ts.dt.strftime("%Y-%m-%d").value_counts()
    return sorted(str(d) for d, n in counts.items() if n == HOURS)


def _day_net(
    symbol: str, day: str, rows: pd.DataFrame, pred: np.ndarray, costs: Costs, horizon: int
) -> DayPnl:
    start = pd.Timestamp(day, tz="UTC").isoformat()
    return trade_day(symbol, day, "bench", rows, pred, costs, costs_as_of=start, horizon=horizon)


def full_day_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`'s rows on its full days (all 24 bars), in order."""
    return pd.concat([day_rows(frame, d) for d in full_days(frame)], ignore_index=True)


def measure_symbol(
    symbol: str,
    rows: pd.DataFrame,
    pred: np.ndarray,
    costs: Costs,
    *,
    horizon: int,
    ready_hour: int,
) -> CutSample:
    """Execute one signal on full days of rows, day by day and continuously.

    Args:
        symbol: The symbol, for the ledger's records.
        rows: Feature rows of full days (`full_day_rows`), 24 per day in time order.
        pred: The signal's prediction of each row, known at the row's close.
        costs: The per-side cost model.
        horizon: Bars each decision holds.
        ready_hour: The UTC hour from which the live model of D-1 exists on day D.
    """
    days = full_days(rows)
    if len(rows) != HOURS * len(days):
        raise ValueError("rows must be full days only")
    run = execute(rows, pred, costs, horizon, allow_short=True)
    _, _, cont_net = bar_returns(run.held, run.prices, run.cost_per_side)
    held = np.append(run.held, 0.0)
    sample = CutSample(bars=len(rows), midnight_bars=len(days))
    entries = (np.diff(held, prepend=0.0) != 0) & (held != 0)
    sample.continuous_trades = int(np.count_nonzero(entries))
    for i, day in enumerate(days):
        span = slice(i * HOURS, (i + 1) * HOURS)
        day_rows_i, day_pred = rows.iloc[span].reset_index(drop=True), pred[span]
        ledger = _day_net(symbol, day, day_rows_i, day_pred, costs, horizon)
        end = (pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)).isoformat()
        for trade in ledger.trades:
            (sample.cut_trade_net if trade.exit == end else sample.full_trade_net).append(trade.net)
        sample.cut_day_net.append(float(np.sum(ledger.net)))
        sample.continuous_day_net.append(float(cont_net[span].sum()))
        sample.continuous_midnight_net.append(float(cont_net[span][0]))
        sample.early_bars_net.append(float(np.sum(ledger.net[: ready_hour + 1])))
        early = np.arange(HOURS) < ready_hour  # decided at a close before the model exists
        live = _day_net(symbol, day, day_rows_i, np.where(early, np.nan, day_pred), costs, horizon)
        sample.live_day_net.append(float(np.sum(live.net)))
        sample.continuous_held_midnight += int(run.held[span][0] != 0.0)
        differs = np.asarray(ledger.position) != run.held[span]
        for hour in np.flatnonzero(differs):
            sample.differing_by_hour[int(hour)] += 1
    return sample


def _bps(values: list[float]) -> float | None:
    return round(1e4 * float(np.mean(values)), 2) if values else None


def _se_bps(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    return round(1e4 * float(np.std(values, ddof=1) / np.sqrt(len(values))), 2)


def summarize(sample: CutSample) -> dict:
    """The report: counts, shares and mean nets in bps (per trade or per symbol-day)."""
    trades = len(sample.cut_trade_net) + len(sample.full_trade_net)
    lost = np.subtract(sample.continuous_day_net, sample.cut_day_net).tolist()
    first_bars = np.subtract(sample.cut_day_net, sample.live_day_net).tolist()
    return {
        "symbol_days": len(sample.cut_day_net),
        "bars": sample.bars,
        "trades": trades,
        "cut_trades": len(sample.cut_trade_net),
        "cut_share": round(len(sample.cut_trade_net) / trades, 4) if trades else None,
        "cut_mean_net_bps": _bps(sample.cut_trade_net),
        "full_mean_net_bps": _bps(sample.full_trade_net),
        "never_tradable_bar_share": round(sample.midnight_bars / sample.bars, 4),
        "continuous_holds_midnight_share": round(
            sample.continuous_held_midnight / sample.midnight_bars, 4
        ),
        "continuous_trades": sample.continuous_trades,
        "cut_day_net_bps": _bps(sample.cut_day_net),
        "continuous_day_net_bps": _bps(sample.continuous_day_net),
        "lost_per_day_bps": _bps(lost),
        "lost_per_day_se_bps": _se_bps(lost),
        "continuous_00h_bar_net_per_day_bps": _bps(sample.continuous_midnight_net),
        "early_bars_net_per_day_bps": _bps(sample.early_bars_net),
        "live_day_net_bps": _bps(sample.live_day_net),
        "first_bars_assumption_per_day_bps": _bps(first_bars),
        "first_bars_assumption_se_bps": _se_bps(first_bars),
        "differing_bars_by_hour": sample.differing_by_hour,
    }


def planted_frame(
    symbol: str, phi: float, first: pd.Timestamp, days: int, seed: int
) -> pd.DataFrame:
    """Feature rows of `days` full days of a planted AR(1) market from `first`."""
    bars = planted_bars(
        PlantedSymbol(symbol, phi), first - WARM_UP, first + pd.Timedelta(days=days), seed=seed
    )
    return _sample(bars, first, days)


def real_frame(symbol: str, first: pd.Timestamp, days: int, folder: Path) -> pd.DataFrame:
    """Feature rows of `days` days of a real symbol from `first` (incomplete days dropped)."""
    end = first + pd.Timedelta(days=days)
    bars, _ = FileSource(folder).load(symbol, end, end - first + WARM_UP)
    return _sample(bars, first, days)


def _sample(bars: pd.DataFrame, first: pd.Timestamp, days: int) -> pd.DataFrame:
    frame = build_features(bars, LabelSpec(horizon=4))
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    inside = (ts >= first) & (ts < first + pd.Timedelta(days=days))
    return frame.loc[inside].reset_index(drop=True)


def _print(report: dict, label: str) -> None:
    print(f"# {label}")
    for key, value in report.items():
        print(f"{key:36s} {value}")
    print("JSON " + json.dumps({"sample": label, **report}))


def main() -> None:
    """Measure the midnight cut on planted markets, or on real bars with `--real`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phi", type=float, default=0.25, help="AR(1) of the market and rule")
    parser.add_argument("--symbols", type=int, default=8, help="planted symbols")
    parser.add_argument("--real", default=None, help="comma-separated real symbols instead")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--first", default="2021-05-01")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cost-bps", type=float, default=15.0, help="per side")
    parser.add_argument("--horizon", type=int, default=4)
    parser.add_argument(
        "--ready-hour", type=int, default=READY_HOUR, help="the schedule's UTC hour"
    )
    args = parser.parse_args()
    first = pd.Timestamp(args.first, tz="UTC")
    costs = flat_costs(args.cost_bps)
    if args.real:
        names = [s.strip() for s in args.real.split(",")]
        frames = {s: real_frame(s, first, args.days, args.data) for s in names}
        label = f"real {','.join(names)} from {args.first}, {args.days} days, rule phi {args.phi}"
    else:
        names = [f"P{i:02d}USDT" for i in range(args.symbols)]
        frames = {s: planted_frame(s, args.phi, first, args.days, args.seed) for s in names}
        label = f"planted phi {args.phi}, {len(names)} symbols x {args.days} days, seed {args.seed}"
    total = CutSample()
    for symbol, frame in frames.items():
        rows = full_day_rows(frame)
        pred = lag1_predictions(rows, args.phi, args.horizon)
        total = total + measure_symbol(
            symbol, rows, pred, costs, horizon=args.horizon, ready_hour=args.ready_hour
        )
    _print(summarize(total), f"{label}, {args.cost_bps} bps per side, horizon {args.horizon}")


if __name__ == "__main__":
    main()
