"""How often `feature_drift` fails on the shared real Binance sample, before and after a change.

Runs the product's own path for each symbol-day: the files source over the folder, the
`TrainingResource` defaults (180-day lookback, purged split), then the drift check of the
current tree ("after") and of `drift.py` as it was at `--before` ("before", loaded from git),
on the same frames. Prints, per window, the share of symbol-days that are ERROR and WARN,
the features the current rule names first, and a planted check: the same calm days with the
latest week's price moves scaled three and five times (a volatility regime), mostly ERROR.

Windows: the calm one is the sample's last 30 as-of days, 2021-06-17..07-16: as-of days
need the full 180-day lookback, so from 2021-05-30 on, and of those 30-day windows it is
within 0.02 of the calmest (the equal-weight market's annualised 1h volatility is 1.24; the
calmest, 06-14..07-13, 1.22; June 1.31). The turbulent one is May 2021 (2.19, the May crash;
its lookback is cut at the sample's start, 2020-12-01). The volatility of each window is
printed with its row.

    .venv/bin/python -m bench.drift_real [--symbols 30] [--every 3] [--seed 0]

Needs ../shared/data/binance-spot-1h (or --data); it is never copied into the repository.
About 6 minutes on 2 shared cores at the defaults (`--every 6`: 3 minutes).
"""

import argparse
import collections
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from resources.training import TrainingResource
from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.model.drift import feature_drift, measure_drift
from retrain_assets.core.model.features import FEATURE_NAMES

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "binance-spot-1h"
WINDOWS = {"calm": ("2021-06-17", "2021-07-16"), "turbulent": ("2021-05-01", "2021-05-31")}
SAMPLE_END = pd.Timestamp("2021-07-18", tz="UTC")
PLANTED = (3.0, 5.0)


def old_drift(rev: str) -> ModuleType:
    """`retrain_assets/core/model/drift.py` as it was at `rev`, imported under another name."""
    text = subprocess.run(
        ["git", "show", f"{rev}:retrain_assets/core/model/drift.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "drift_before.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("drift_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def full_coverage(source: FileSource) -> dict[str, pd.DataFrame]:
    """The symbols whose bars cover the whole sample (99 of 126), with those bars."""
    found = {}
    for symbol in source.candidates():
        bars, _ = source.load(symbol, SAMPLE_END, pd.Timedelta(days=240))
        if bars["timestamp"].iloc[0] <= pd.Timestamp("2020-12-01 01:00", tz="UTC"):
            found[symbol] = bars
    return found


def market_vol(bars: dict[str, pd.DataFrame], first: str, last: str) -> float:
    """Annualised volatility of the equal-weight market's 1h log return over the days."""
    returns = pd.DataFrame(
        {s: np.log(b.set_index("timestamp")["close"]).diff() for s, b in bars.items()}
    ).mean(axis=1)
    start = pd.Timestamp(first, tz="UTC")
    end = pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=1)
    days = returns[(returns.index >= start) & (returns.index < end)]
    return float(days.std() * np.sqrt(24 * 365))


def scaled_week(bars: pd.DataFrame, end: pd.Timestamp, factor: float) -> pd.DataFrame:
    """The bars with the last week's moves `factor` times as big (a volatility regime)."""
    bars = bars.copy()
    week = (bars["timestamp"] >= end - pd.Timedelta(days=7)).to_numpy()
    close = np.log(bars["close"].to_numpy())
    anchor = close[np.argmax(week) - 1]
    moved = anchor + factor * (close - anchor)
    for column in ("open", "high", "low", "close"):
        price = np.log(bars[column].to_numpy())
        new = moved + factor * (price - close)
        bars.loc[week, column] = np.exp(new[week])
    return bars


def verdict(outcome) -> str:
    return "passed" if outcome.passed else outcome.severity


def judge(frame, splits, end, before: ModuleType) -> tuple[str, str, str]:
    """(before verdict, after verdict, the feature the current rule names first)."""
    train = splits.row_ranges()["train"]
    old = before.feature_drift(frame, train, FEATURE_NAMES, end)
    report = measure_drift(frame, train, FEATURE_NAMES, end)
    worst = report.features[0].name if report.features else ""
    return verdict(old), verdict(feature_drift(report)), worst


def run_window(name, days, symbols, bars, before, planted) -> list[dict]:
    training = TrainingResource()
    rows = []
    for day in days:
        end = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)
        lookback = end - pd.Timedelta(days=training.lookback_days)
        for symbol in symbols:
            window = bars[symbol]
            window = window[(window["timestamp"] >= lookback) & (window["timestamp"] < end)]
            cases = {name: window}
            for factor in planted:
                cases[f"{name}, last week's moves x{factor:g}"] = scaled_week(window, end, factor)
            for case, case_bars in cases.items():
                frame, splits = training.feature_set(case_bars.reset_index(drop=True), symbol)
                old, new, worst = judge(frame, splits, end, before)
                rows.append({"case": case, "before": old, "after": new, "worst": worst})
    return rows


def print_table(rows: list[dict], vols: dict[str, float], sizes: dict[str, str]) -> None:
    print(
        "\n| window | market vol | sample | before ERROR | before WARN | after ERROR | after WARN |"
    )
    print("|---|---|---|---|---|---|---|")
    for case, group in pd.DataFrame(rows).groupby("case", sort=False):
        window = case.split(",")[0]
        n = len(group)
        share = {
            (side, level): f"{(group[side] == level).mean():.1%}"
            for side in ("before", "after")
            for level in ("ERROR", "WARN")
        }
        print(
            f"| {case} | {vols[window]:.2f} | {sizes[window]} = {n} | "
            f"{share['before', 'ERROR']} | {share['before', 'WARN']} | "
            f"{share['after', 'ERROR']} | {share['after', 'WARN']} |"
        )
    print("\nFeature named first by the current rule on its ERROR days:")
    for case, group in pd.DataFrame(rows).groupby("case", sort=False):
        named = collections.Counter(group.loc[group["after"] == "ERROR", "worst"])
        print(f"- {case}: {dict(named.most_common(5)) or 'none'}")


def main() -> None:
    """Measure the check over both windows and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--symbols", type=int, default=30, help="pairs drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw of pairs")
    parser.add_argument("--every", type=int, default=3, help="every n-th as-of day")
    parser.add_argument("--before", default="f6a164d", help="git revision of the old rule")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no market-data folder at {args.data}")
    started = time.perf_counter()
    before = old_drift(args.before)
    bars = full_coverage(FileSource(args.data))
    pool = sorted(bars)
    symbols = sorted(np.random.default_rng(args.seed).choice(pool, args.symbols, replace=False))
    print(f"{len(symbols)} of {len(pool)} full-coverage pairs: {', '.join(symbols)}")
    rows, vols, sizes = [], {}, {}
    for name, (first, last) in WINDOWS.items():
        days = list(pd.date_range(first, last, freq=f"{args.every}D").strftime("%Y-%m-%d"))
        vols[name] = market_vol(bars, first, last)
        sizes[name] = f"{len(symbols)} x {len(days)} days"
        planted = PLANTED if name == "calm" else ()
        rows += run_window(name, days, symbols, bars, before, planted)
        took = time.perf_counter() - started
        print(f"{name}: {days[0]}..{days[-1]} every {args.every} days ({took:.0f} s)")
    print_table(rows, vols, sizes)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
