"""How the launcher scales with the number of symbols: planning, end-to-end wall, status.json.

Run from the repo root: `.venv/bin/python bench/bench_scale.py [--symbols 500] [--quick]`.

With the no-op trainer (`bench.noop_trainer:NoopTrainer`) and synthetic bars, for N symbols
named S0001USDT, S0002USDT, ... (the synthetic source makes up a series for any valid name):
  (b) end to end  `python -m retrain_assets --symbols ... --max_concurrent 2` on a fresh
                  DAGSTER_HOME and artifact root: wall seconds, and seconds per symbol;
  (a) planning    `plan_date` in this process on that instance, now holding N materialized
                  symbol-days (every recorded file re-hashed), and on an empty instance;
  (c) status.json `StatusFile.write` of N finished statuses at N = 100 and 500 (and N), a
                  final write and an unchanged tick; plus `InvocationLedger.refresh` on the
                  run's instance, which every tick calls before the write.
Targets: planning < 5 s for 500 symbols (10 ms/symbol), end to end < 1 s per symbol.
"""

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_engine import (  # noqa: E402 - after the repo is on sys.path
    CONCURRENT,
    DATE,
    SIZES,
    _rounded,
    instance_at,
    new_home,
    run_cli,
    warm_up,
)

NOOP_TRAINER = SIZES["noop"]
DEFAULT_SYMBOLS = 500
QUICK_SYMBOLS = 20
TARGET_PLAN_S_PER_SYMBOL = 5.0 / 500  # < 5 s for 500 symbols
TARGET_E2E_S_PER_SYMBOL = 1.0
WRITE_SIZES = (100, 500)
# StatusFile's throttle (`min_interval_s`): at most one write a second, plus the final one.
STATUS_MIN_INTERVAL_S = 1.0
# LocalPool's wait timeout: a tick at least every half second, and one per completion.
TICK_S = 0.5


def symbols_for(n: int) -> list[str]:
    """S0001USDT ... : valid names (2-20 letters and digits) the synthetic source accepts."""
    return [f"S{i:04d}USDT" for i in range(1, n + 1)]


# --------------------------------------------------------------------------- (a) planning


def time_plan(home: Path, date: str, symbols: list[str], warm_repeat: int = 3) -> dict[str, Any]:
    """`plan_date` on the instance of `home`: the first call (what the CLI pays), then warm."""
    from retrain_assets.defs.assets import symbol_day_assets
    from retrain_assets.launcher.plan import AssetGraph, plan_date

    graph = AssetGraph.of(symbol_day_assets)
    with instance_at(home) as instance:
        started = time.perf_counter()
        plans = plan_date(instance, graph, date, symbols)
        first = time.perf_counter() - started
        warm = []
        for _ in range(warm_repeat):
            started = time.perf_counter()
            plan_date(instance, graph, date, symbols)
            warm.append(time.perf_counter() - started)
    return {
        "first_s": first,
        "warm_s": min(warm),
        "skipped": sum(1 for p in plans if p.skipped),
        "repaired": sum(1 for p in plans if p.repaired),
    }


# --------------------------------------------------------------------------- (c) status.json


def finished_statuses(n: int, root: Path, date: str) -> dict[str, Any]:
    """N statuses as a finished run leaves them (every field a success sets)."""
    from retrain_assets.launcher.status import SymbolStatus

    begun = datetime(2025, 5, 2, 2, tzinfo=UTC)
    assets = ("costs", "features", "model", "walk_forward", "metrics")
    return {
        s: SymbolStatus(
            s,
            "success",
            run_id=str(uuid.uuid4()),
            attempts=1,
            started_at=(begun + timedelta(seconds=i)).isoformat(),
            ended_at=(begun + timedelta(seconds=i + 1)).isoformat(),
            assets=assets,
            metrics_path=str(root / "runs" / date / s / "metrics.json"),
            net_bps_after_costs=round(0.5 - i / n, 4),
        )
        for i, s in enumerate(symbols_for(n))
    }


def _median_s(call: Callable[[], object], repeat: int) -> float:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def time_status_write(scratch: Path, n: int, date: str, repeat: int) -> dict[str, Any]:
    """Median seconds of a final `StatusFile.write` of N statuses, and of an unchanged tick."""
    from retrain_assets.launcher.ledger import StatusFile

    folder = Path(tempfile.mkdtemp(prefix=f"status-{n}-", dir=scratch))
    statuses = finished_statuses(n, folder, date)
    header = {"date": date, "invocation": "bench", "source": "cli", "max_concurrent": CONCURRENT}
    status_file = StatusFile(folder / "status.json", header)
    final = _median_s(lambda: status_file.write(statuses, final=True), repeat)
    # A tick in which nothing changed: the entries are rebuilt and compared, nothing written.
    unchanged = _median_s(lambda: status_file.write(statuses), repeat)
    return {
        "n": n,
        "final_s": final,
        "unchanged_tick_s": unchanged,
        "bytes": (folder / "status.json").stat().st_size,
    }


def time_ledger_refresh(home: Path, date: str, symbols: list[str]) -> dict[str, Any]:
    """`InvocationLedger.refresh` on the run's instance: first (reads each finished run's
    attempts and metrics from the event log once) and later ticks (one run-records query,
    cached entries)."""
    from retrain_assets.core.lifecycle.artifacts import ArtifactLayout
    from retrain_assets.defs.assets import symbol_day_assets
    from retrain_assets.launcher.ledger import InvocationLedger
    from retrain_assets.launcher.plan import AssetGraph, SymbolPlan

    status_path = ArtifactLayout(home / "artifacts").status_file(date)
    invocation = json.loads(status_path.read_text())["invocation"]
    order = AssetGraph.of(symbol_day_assets).order
    plans = [SymbolPlan(s, order) for s in symbols]
    with instance_at(home) as instance:
        ledger = InvocationLedger(instance, invocation, plans)
        started = time.perf_counter()
        statuses = ledger.refresh()
        first = time.perf_counter() - started
        later = _median_s(ledger.refresh, 3)
    return {
        "first_s": first,
        "later_s": later,
        "success": sum(1 for s in statuses.values() if s.status == "success"),
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=None, help=f"N (default {DEFAULT_SYMBOLS})")
    p.add_argument("--quick", action="store_true", help=f"smoke run: N={QUICK_SYMBOLS}")
    p.add_argument("--date", default=DATE, help="the UTC day to retrain")
    p.add_argument("--write-repeat", type=int, default=20, help="status writes timed per size")
    p.add_argument("--keep", action="store_true", help="keep the temporary instances")
    args = p.parse_args(argv)
    n = args.symbols or (QUICK_SYMBOLS if args.quick else DEFAULT_SYMBOLS)
    if n < 1:
        p.error("--symbols must be at least 1")
    symbols = symbols_for(n)
    warm_up()
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        print(f"(b) CLI, {n} symbols, no-op trainer, fresh home ...", flush=True)
        home = new_home(scratch, initialised=False)
        run = run_cli(home, symbols, NOOP_TRAINER, date=args.date, force=False)
        print(f"    {run.wall_s:.2f} s", flush=True)
        print("(a) plan_date on the materialized and on an empty instance ...", flush=True)
        full = time_plan(home, args.date, symbols)
        empty = time_plan(new_home(scratch, initialised=True), args.date, symbols)
        print("(c) status.json writes, ledger refresh ...", flush=True)
        writes = [
            time_status_write(scratch, size, args.date, args.write_repeat)
            for size in sorted({*WRITE_SIZES, n})
        ]
        ledger = time_ledger_refresh(home, args.date, symbols)
    finally:
        if args.keep:
            print(f"instances kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report(args, n, run.wall_s, full, empty, writes, ledger)
    return 0


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(
    args: argparse.Namespace,
    n: int,
    wall_s: float,
    full: dict[str, Any],
    empty: dict[str, Any],
    writes: list[dict[str, Any]],
    ledger: dict[str, Any],
) -> None:
    plan_target = TARGET_PLAN_S_PER_SYMBOL * n
    rows: list[tuple[str, int, str, str, str, str]] = [
        (
            f"plan_date, {n} done symbol-days (first call)",
            n,
            f"{full['first_s']:.3f} s",
            f"{1000 * full['first_s'] / n:.2f} ms",
            f"< {plan_target:.2f} s",
            _verdict(full["first_s"] < plan_target),
        ),
        (
            "plan_date, done symbol-days (warm)",
            n,
            f"{full['warm_s']:.3f} s",
            f"{1000 * full['warm_s'] / n:.2f} ms",
            "",
            "",
        ),
        (
            "plan_date, empty instance (first call)",
            n,
            f"{empty['first_s']:.3f} s",
            f"{1000 * empty['first_s'] / n:.2f} ms",
            f"< {plan_target:.2f} s",
            _verdict(empty["first_s"] < plan_target),
        ),
        (
            f"CLI end to end, fresh home, cap {CONCURRENT}",
            n,
            f"{wall_s:.2f} s",
            f"{wall_s / n:.3f} s",
            f"< {TARGET_E2E_S_PER_SYMBOL * n:.0f} s",
            _verdict(wall_s / n < TARGET_E2E_S_PER_SYMBOL),
        ),
    ]
    for w in writes:
        rows.append(
            (
                f"StatusFile.write final ({w['bytes'] // 1024} KiB)",
                w["n"],
                f"{1000 * w['final_s']:.2f} ms",
                f"{1e6 * w['final_s'] / w['n']:.1f} us",
                "linear",
                "",
            )
        )
        rows.append(
            (
                "StatusFile.write, unchanged tick",
                w["n"],
                f"{1000 * w['unchanged_tick_s']:.2f} ms",
                f"{1e6 * w['unchanged_tick_s'] / w['n']:.1f} us",
                "",
                "",
            )
        )
    rows += [
        (
            "InvocationLedger.refresh, first",
            n,
            f"{1000 * ledger['first_s']:.1f} ms",
            f"{1000 * ledger['first_s'] / n:.2f} ms",
            "",
            "",
        ),
        (
            "InvocationLedger.refresh, later ticks",
            n,
            f"{1000 * ledger['later_s']:.1f} ms",
            f"{1000 * ledger['later_s'] / n:.2f} ms",
            "",
            "",
        ),
    ]
    print()
    print(f"{n} symbols, no-op trainer, synthetic data, {args.date}")
    header = ("measure", "N", "time", "per symbol", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    by_n = {w["n"]: w for w in writes}
    small, large = by_n[WRITE_SIZES[0]], by_n[WRITE_SIZES[1]]
    growth = large["final_s"] / small["final_s"]
    scale = WRITE_SIZES[1] / WRITE_SIZES[0]
    print(
        f"status write {WRITE_SIZES[1]} vs {WRITE_SIZES[0]}: x{growth:.2f} "
        f"(linear: x{scale:.0f}; well above it would mean a cost growing faster than N)"
    )
    # Writes are not counted (mtimes are too coarse); the throttle bounds them instead.
    most_writes = math.ceil(wall_s / STATUS_MIN_INTERVAL_S) + 1
    write_n = by_n[n]["final_s"]
    print(
        f"writes during the run: at most {most_writes} (one a second + the final), "
        f"so at most {most_writes * write_n:.2f} s of the {wall_s:.1f} s wall "
        f"({100 * most_writes * write_n / wall_s:.1f} %)"
    )
    # Every tick (each completion, and every half second) refreshes the ledger and offers the
    # statuses to the file; most ticks find the interval not passed and write nothing.
    most_ticks = math.ceil(wall_s / TICK_S) + n + 2
    tick_s = ledger["later_s"] + by_n[n]["unchanged_tick_s"]
    print(
        f"ticks during the run: at most {most_ticks} (two a second + one per symbol), each "
        f"~{1000 * tick_s:.1f} ms (later refresh + unchanged write), so at most "
        f"{most_ticks * tick_s:.2f} s of the launcher's time "
        f"({100 * most_ticks * tick_s / wall_s:.1f} % of the wall)"
    )
    if full["skipped"] != n:
        print(
            f"note: the plan skipped {full['skipped']} of {n} done symbol-days "
            f"({full['repaired']} repaired): the run did not finish them all"
        )
    if ledger["success"] != n:
        print(f"note: the ledger found {ledger['success']} of {n} symbols successful")
    summary = {
        "bench": "scale",
        "symbols": n,
        "max_concurrent": CONCURRENT,
        "date": args.date,
        "plan_done_first_s": full["first_s"],
        "plan_done_warm_s": full["warm_s"],
        "plan_empty_first_s": empty["first_s"],
        "plan_target_s": plan_target,
        "cli_wall_s": wall_s,
        "cli_s_per_symbol": wall_s / n,
        "cli_target_s_per_symbol": TARGET_E2E_S_PER_SYMBOL,
        "status_writes": writes,
        "status_write_growth": growth,
        "status_writes_at_most": most_writes,
        "ledger_refresh": ledger,
        "met": {
            "plan": full["first_s"] < plan_target and empty["first_s"] < plan_target,
            "cli": wall_s / n < TARGET_E2E_S_PER_SYMBOL,
        },
    }
    print("JSON " + json.dumps(_rounded(summary), default=str))


if __name__ == "__main__":
    sys.exit(main())
