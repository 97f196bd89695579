"""The walk-forward record on the shared real Binance data, through the product's own CLI.

Runs `retrain --date D --symbols top15` for every date of a range (point-in-time universe,
costs and data; dates already done are skipped by the resume ledger), then prints the
`walk_forward_report` of the last date as a markdown table (per symbol, pooled, portfolio:
trades, gross, net with its 95% interval, against the exposure-matched, random-timing,
buy-and-hold and flat benchmarks, market-neutral) and the spread each
symbol's costs used against the known ranges (majors under 1 bp, liquid alts 1-5 bps).

    .venv/bin/python -m bench.walk_forward_real --first 2021-05-31 --last 2021-07-02 \\
        --home /tmp/real/home --artifacts /tmp/real/artifacts

Needs ../shared/data/binance-spot-1h (or --data); it is never copied into the repository.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from retrain_assets.core.trading.costs import Costs

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "binance-spot-1h"
MAJORS = {"BTCUSDT", "ETHUSDT"}


def _env(args: argparse.Namespace) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(args.home),
        "RETRAIN_ARTIFACT_ROOT": str(args.artifacts),
        "RETRAIN_START_DATE": "2020-12-01",
        "RETRAIN_DATA_SOURCE": "files",
        "RETRAIN_DATA_DIR": str(args.data),
    }


def _run_dates(args: argparse.Namespace, env: dict[str, str]) -> None:
    args.home.mkdir(parents=True, exist_ok=True)
    if not (args.home / "dagster.yaml").exists():
        from retrain_assets.launcher.home import write_instance_config

        write_instance_config(args.home)
    subprocess.run([sys.executable, "-m", "retrain_assets.launcher.home"], env=env, check=True)
    retrain = Path(sys.executable).with_name("retrain")
    for date in pd.date_range(args.first, args.last, freq="D").strftime("%Y-%m-%d"):
        started = time.perf_counter()
        cmd = [str(retrain), "--date", date, "--symbols", args.symbols, "--max_concurrent", "2"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        tail = done.stdout.strip().splitlines()[-1:] or [""]
        print(f"{date}: rc={done.returncode} {time.perf_counter() - started:.1f} s {tail[0]}")


def _fmt(value: object, digits: int = 1) -> str:
    return (
        "" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    )


def _interval(figures: dict, key: str) -> str:
    interval = figures.get(key)
    return "" if interval is None else f"[{interval[0]:.1f}, {interval[1]:.1f}]"


def print_record(report: dict) -> None:
    """The chained record as a markdown table.

    Intervals: a symbol's over its own trades; pooled's over whole days (every symbol's
    trades of a drawn day together); the portfolio has no per-trade figures, its interval is
    that of its own daily net. Exposure-matched is long over the bars the strategy held, at
    the same costs (a long trade equals it); random timing, as many bars of the same days;
    market-neutral is net less beta x the equal-weight market, beta from earlier days (n:
    trades that had one).
    """
    print(f"\nwalk-forward {report['first_day']} .. {report['last_day']}")
    print(
        "| series | days | trades | long/short | gross bps/trade | net bps/trade | 95% interval "
        "| hit | long/short net bps | exposure-matched bps/trade | market-neutral bps/trade "
        "(n) | total net bps | exposure-matched bps | random timing bps | buy&hold bps "
        "| net bps/day [95%] "
        "| evidence |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = [*report["per_symbol"].values(), report["pooled"], report["portfolio"]]
    for f in rows:
        print(
            f"| {f['name']} | {f['days']} | {f['trades']} | {f['long_trades']}/{f['short_trades']} "
            f"| {_fmt(f['gross_bps_per_trade'])} | {_fmt(f['net_bps_per_trade'])} "
            f"| {_interval(f, 'net_bps_interval')} | {_fmt(f['hit_rate'], 2)} "
            f"| {_fmt(f.get('long_net_bps_per_trade'))}/{_fmt(f.get('short_net_bps_per_trade'))} "
            f"| {_fmt(f.get('exposure_matched_bps_per_trade'))} "
            f"| {_fmt(f.get('market_neutral_bps_per_trade'))} "
            f"{_interval(f, 'market_neutral_interval')} ({f.get('market_neutral_trades', '')}) "
            f"| {_fmt(f['total_net_bps'], 0)} | {_fmt(f.get('exposure_matched_net_bps'), 0)} "
            f"| {_fmt(f.get('random_timing_net_bps'), 0)} "
            f"| {_fmt(f['buy_and_hold_net_bps'], 0)} "
            f"| {_fmt(f['net_bps_per_day'])} {_interval(f, 'net_bps_per_day_interval')} "
            f"| {f['status']} |"
        )


def print_costs(artifacts: Path, date: str) -> None:
    """Each symbol's walk-forward costs on `date` against the known spread ranges."""
    print(f"\ncosts used to trade {date} (estimated from bars before {date} 00:00 UTC)")
    print("| symbol | tier | spread source | raw EDGE bps | spread bps | known range ", end="")
    print("| slippage bps | all-in/side bps |")
    print("|---|---|---|---|---|---|---|---|")
    as_of = f"{date}T00:00:00+00:00"
    for path in sorted(artifacts.glob("models/*/*/walk_forward_costs.json")):
        c = Costs.from_json_dict(json.loads(path.read_text()))
        if c.basis is None or c.basis.estimated_as_of != as_of:
            continue
        symbol = path.parent.parent.name
        known = "< 1" if symbol in MAJORS else "1-5 (liquid alt)"
        print(
            f"| {symbol} | {c.basis.liquidity_tier} | {c.basis.spread_source} "
            f"| {c.raw_spread_bps:.2f} | {c.median_spread_bps.bps:.2f} | {known} "
            f"| {c.basis.slippage_bps:.2f} | {c.all_in_per_side_bps:.2f} |"
        )


def main() -> None:
    """Run the range, then print the record and the costs."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--first", default="2021-05-31")
    p.add_argument("--last", default="2021-07-02")
    p.add_argument("--symbols", default="top15")
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / "walk-forward-real"  # noqa: S108
    p.add_argument("--home", type=Path, default=scratch / "home")
    p.add_argument("--artifacts", type=Path, default=scratch / "artifacts")
    p.add_argument("--data", type=Path, default=DATA)
    args = p.parse_args()
    if not args.data.is_dir():
        sys.exit(f"real market data not found at {args.data}")
    _run_dates(args, _env(args))
    folder = args.artifacts / "summary" / (args.last.replace("-", "") + "Z")
    print_record(json.loads((folder / "walk_forward.json").read_text()))
    print(f"\nequity curves: {folder / 'walk_forward.png'}")
    print_costs(args.artifacts, args.last)


if __name__ == "__main__":
    main()
