"""The CLI's wall time against a plain `multiprocessing.Pool`, measured in the same run.

Run from the repo root: `.venv/bin/python bench/bench_engine.py [--symbols 8] [--repeat 1]
[--sizes noop,default,reference,notes]`.

Two timings per size and repeat, one after the other so they never share the cores:
  pool     `multiprocessing.Pool(2)` (spawn, start-up included) doing each symbol-day's work
           without Dagster: bars, costs, features, purged split, the trainer, predict, evaluate;
  engine   `python -m retrain_assets --symbols S1,... --date D --max_concurrent 2 --force` in a
           subprocess, against its own DAGSTER_HOME and artifact root in a temporary folder.
Sizes (the trainer, chosen with RETRAIN_TRAINER on the engine side):
  noop       `bench.noop_trainer:NoopTrainer`, trains nothing: the orchestration cost;
  default    the CatBoost trainer as shipped (early-stopped, well under a second per symbol);
  reference  `bench.reference_trainer:ReferenceTrainer`, 500 trees, no early stopping;
  notes      `bench.reference_trainer:NotesSizeTrainer`, 2,000 trees (~10 s per symbol).
Targets: orchestration <= 0.6 s per symbol-day, measured as (engine wall - pool wall) / N at
the noop size, and engine/pool <= 1.10 at the notes' size. After each engine run, its run
records and event log are read back to show where its time went.
"""

import argparse
import itertools
import json
import math
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONCURRENT = 2
DATE = "2025-05-01"
TARGET_ORCHESTRATION_S = 0.6  # per symbol-day, (engine - pool) / N with the no-op trainer
TARGET_RATIO = 1.10  # engine/pool wall at the notes' size
DEFAULT_TRAINER = "retrain_assets.adapters.catboost_trainer:CatBoostTrainer"
SIZES: dict[str, str] = {
    "noop": "bench.noop_trainer:NoopTrainer",
    "default": DEFAULT_TRAINER,
    "reference": "bench.reference_trainer:ReferenceTrainer",
    "notes": "bench.reference_trainer:NotesSizeTrainer",
}
# The synthetic source's most liquid pairs, in the order `topN` picks them; beyond them its
# numbered pairs (S0021USDT, ...), the only other names it accepts.
KNOWN_SYMBOLS = (
    "BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT", "AVAXUSDT",
    "MATICUSDT", "DOTUSDT", "LINKUSDT", "LTCUSDT", "TRXUSDT", "SHIBUSDT", "ATOMUSDT",
    "NEARUSDT", "FILUSDT", "UNIUSDT", "BCHUSDT", "ETCUSDT",
)  # fmt: skip
# Inherited settings that would change what the CLI does (a driver, a data source, Telegram).
_SCRUBBED_PREFIXES = ("RETRAIN_", "TELEGRAM_", "DAGSTER_", "AWS_", "DROPBOX_")


def symbols_for(n: int) -> list[str]:
    """The first `n` known pairs, then synthetic names (S0021USDT, ...)."""
    extra = [f"S{i:04d}USDT" for i in range(len(KNOWN_SYMBOLS) + 1, n + 1)]
    return [*KNOWN_SYMBOLS, *extra][:n]


# --------------------------------------------------------------------------- the baseline


def symbol_day_work(date: str, symbol: str, trainer_path: str) -> dict[str, Any]:
    """One symbol-day's work as the five assets do it, minus Dagster and the artifact files."""
    begun = time.time()
    import pandas as pd

    from resources.training import CostModelResource, TrainingResource
    from retrain_assets.adapters.catboost_trainer import load_trainer
    from retrain_assets.adapters.hardware import detect_hardware
    from retrain_assets.core.data.synthetic import SyntheticSource
    from retrain_assets.core.lifecycle.pipeline import (
        test_rows,
        train_symbol_day,
        training_input,
        with_fingerprint,
    )
    from retrain_assets.core.model.features import FEATURE_NAMES
    from retrain_assets.core.trading.costs import evaluation_cost_as_of
    from retrain_assets.core.trading.evaluation import evaluate
    from retrain_assets.core.trading.walk_forward import day_rows, trade_day
    from retrain_assets.defs.assets.common import day_end, day_start
    from retrain_assets.defs.timeout import symbol_deadline

    ready = time.time()
    lap: dict[str, float] = {}
    t = time.perf_counter()
    source, training, cost_model = SyntheticSource(), TrainingResource(), CostModelResource()
    end = day_end(date)
    # costs: as the `costs` asset does, estimated as of the test window's start (no look-ahead)
    bars, _ = source.load(symbol, end, pd.Timedelta(days=training.lookback_days))
    _, cost_splits = training.feature_set(bars, symbol)
    as_of = evaluation_cost_as_of(cost_splits.test.start_ts)
    costs = cost_model.estimate(bars, symbol, cost_model.fee_schedule(), as_of)
    day_costs = cost_model.estimate(bars, symbol, cost_model.fee_schedule(), day_start(date))
    lap["costs"], t = time.perf_counter() - t, time.perf_counter()
    # features
    bars, _ = source.load(symbol, end, pd.Timedelta(days=training.lookback_days))
    frame, splits = training.feature_set(bars, symbol)
    lap["features"], t = time.perf_counter() - t, time.perf_counter()
    # model: the same TrainingParams the `model` asset derives for a cap of 2
    params = training.params(detect_hardware(), CONCURRENT, dry_run=False)
    trainer = load_trainer(trainer_path)
    with (
        tempfile.TemporaryDirectory(prefix="bench-ckpt-") as work,
        symbol_deadline(symbol, training.timeout_minutes * 60.0) as deadline,
    ):
        job = training_input(
            symbol,
            date,
            frame,
            splits,
            params,
            Path(work) / "ckpt",
            dry_run=False,
            deadline_monotonic=deadline,
        )
        fits = train_symbol_day(trainer, job)  # held-out fit, then the live refit
        live, _ = with_fingerprint(trainer, fits.live, fits.live_job)  # as `model` does
    lap["train"], t = time.perf_counter() - t, time.perf_counter()
    # walk_forward: the day traded by a live model (today's stands in for yesterday's)
    rows = day_rows(frame, date)
    trade_day(
        symbol,
        date,
        date,
        rows,
        trainer.predict(live.model_bytes, rows[list(FEATURE_NAMES)]),
        day_costs,
        costs_as_of=date,
        horizon=splits.horizon,
    )
    lap["walk_forward"], t = time.perf_counter() - t, time.perf_counter()
    # metrics: the held-out fit on the test segment
    test_frame = test_rows(frame, splits)
    predictions = trainer.predict(fits.held_out.model_bytes, test_frame[list(FEATURE_NAMES)])
    result = evaluate(
        test_frame,
        predictions,
        costs,
        horizon=splits.horizon,
        min_trades=training.min_trades,
    )
    lap["metrics"] = time.perf_counter() - t
    return {
        "symbol": symbol,
        "begun": begun,
        "ready": ready,
        "ended": time.time(),
        "laps": lap,
        "threads": params.thread_count,
        "net_bps": result.to_json_dict().get("net_bps_after_costs"),
    }


def children_cpu_s() -> float:
    """User + system CPU seconds of every child process reaped so far (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _work(args: tuple[str, str, str]) -> dict[str, Any]:
    return symbol_day_work(*args)


def run_pool(date: str, symbols: list[str], trainer_path: str) -> dict[str, Any]:
    """Wall time of a spawn Pool(2) over the symbols, pool start-up included."""
    cpu, started = children_cpu_s(), time.time()
    context = multiprocessing.get_context("spawn")
    with context.Pool(CONCURRENT) as pool:
        tasks = pool.map(_work, [(date, s, trainer_path) for s in symbols], chunksize=1)
        pool.close()
        pool.join()
    wall = time.time() - started
    return {
        "wall_s": wall,
        "cpu_s": children_cpu_s() - cpu,
        "first_start_s": min(r["ready"] for r in tasks) - started,
        "train_mean_s": statistics.fmean(r["laps"]["train"] for r in tasks),
        "task_mean_s": statistics.fmean(r["ended"] - r["begun"] for r in tasks),
        "laps_mean_s": {k: statistics.fmean(r["laps"][k] for r in tasks) for k in tasks[0]["laps"]},
        "threads": tasks[0]["threads"],
    }


# --------------------------------------------------------------------------- the engine (CLI)


def cli_env(home: Path, trainer_path: str) -> dict[str, str]:
    """The CLI's environment: this bench's instance, artifacts, trainer and synthetic data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(
        DAGSTER_HOME=str(home),
        # A home holding a plain copy of a dagster.yaml keeps its storage in itself too.
        RETRAIN_INSTANCE_DIR=str(home),
        RETRAIN_ARTIFACT_ROOT=str(home / "artifacts"),
        RETRAIN_DATA_SOURCE="synthetic",
        RETRAIN_TRAINER=trainer_path,
        # The workers import `bench.noop_trainer` and `bench.reference_trainer` by path.
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
        PYTHONUNBUFFERED="1",
    )
    return env


def new_home(scratch: Path, initialised: bool) -> Path:
    """A new DAGSTER_HOME with the repo's dagster.yaml; `initialised`: storage created too.

    An initialised home is how every daily run after the first finds its instance (the ledger
    persists in `.dagster_home`); a fresh one also times the schema's creation.
    """
    home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch))
    from retrain_assets.launcher.home import write_instance_config

    write_instance_config(home)
    if initialised:
        init = "import dagster; dagster.DagsterInstance.get().get_runs(limit=1)"
        subprocess.run(
            [sys.executable, "-c", init],
            env={**os.environ, "DAGSTER_HOME": str(home)},
            check=True,
            capture_output=True,
        )
    return home


def warm_up() -> None:
    """Import what both sides import once, untimed, so the first timing does not pay for a
    cold page cache alone."""
    code = "import catboost, dagster, retrain_assets.definitions, bench.reference_trainer"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)


@dataclass
class CliRun:
    """One CLI invocation: wall and CPU seconds, its instance, what it printed."""

    wall_s: float
    cpu_s: float
    started: float
    home: Path
    log: str
    profile: dict[str, Any] = field(default_factory=dict)


def run_cli(
    home: Path,
    symbols: Sequence[str],
    trainer_path: str,
    *,
    date: str = DATE,
    concurrent: int = CONCURRENT,
    force: bool = True,
) -> CliRun:
    """Run `python -m retrain_assets` once against `home`; exit if it does not succeed."""
    command = [
        sys.executable,
        "-m",
        "retrain_assets",
        "--symbols",
        ",".join(symbols),
        "--date",
        date,
        "--max_concurrent",
        str(concurrent),
        *(["--force"] if force else []),
    ]
    env = cli_env(home, trainer_path)
    cpu, started = children_cpu_s(), time.time()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.time() - started
    log = done.stdout + done.stderr
    if done.returncode != 0:
        print(log[-4000:], file=sys.stderr)
        raise SystemExit(f"the CLI exited {done.returncode} ({trainer_path}, home {home})")
    return CliRun(wall, children_cpu_s() - cpu, started, home, log)


@contextmanager
def instance_at(home: Path) -> Iterator[Any]:
    """The Dagster instance of `home`; its variables are set only while it is open."""
    import dagster as dg

    names = ("DAGSTER_HOME", "RETRAIN_INSTANCE_DIR")
    previous = {k: os.environ.get(k) for k in names}
    os.environ.update(dict.fromkeys(names, str(home)))
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def engine_profile(home: Path, started: float, wall: float) -> dict[str, Any]:
    """Where the CLI's wall time went, from its symbol-day run records and event log."""
    import dagster as dg

    from retrain_assets.launcher.local import WORKER_PID_TAG
    from retrain_assets.vocabulary.figures import figure
    from retrain_assets.vocabulary.tags import SYMBOL_TAG

    with instance_at(home) as instance:
        records = [
            r
            for r in instance.get_run_records()
            if r.start_time and r.end_time and SYMBOL_TAG in r.dagster_run.tags
        ]
        records.sort(key=lambda r: r.start_time)
        by_worker: dict[str, list[Any]] = {}
        steps: dict[str, list[float]] = {}
        train_s = 0.0
        step_s = 0.0
        for r in records:
            by_worker.setdefault(r.dagster_run.tags.get(WORKER_PID_TAG, "?"), []).append(r)
            begun: dict[str, float] = {}
            for e in instance.all_logs(r.dagster_run.run_id):
                ev = e.dagster_event
                if ev is None or not e.step_key:
                    continue
                if ev.event_type == dg.DagsterEventType.STEP_START:
                    begun[e.step_key] = e.timestamp
                elif ev.event_type == dg.DagsterEventType.STEP_SUCCESS and e.step_key in begun:
                    took = e.timestamp - begun[e.step_key]
                    steps.setdefault(e.step_key, []).append(took)
                    step_s += took
                elif ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                    meta = ev.step_materialization_data.materialization.metadata
                    if "train_minutes" in meta and e.step_key == "model":
                        train_s += 60.0 * (figure(meta["train_minutes"]) or 0.0)
        n = len(records)
        run_s = sum(r.end_time - r.start_time for r in records)
        gaps = [
            later.start_time - earlier.end_time
            for runs in by_worker.values()
            for earlier, later in itertools.pairwise(runs)
        ]
        return {
            "runs": n,
            "workers": len(by_worker),
            "first_run_start_s": records[0].start_time - started if records else None,
            "last_run_end_to_exit_s": started + wall - records[-1].end_time if records else None,
            "run_wall_mean_s": run_s / n if n else None,
            "train_mean_s": train_s / n if n else None,
            "run_minus_train_mean_s": (run_s - train_s) / n if n else None,
            "steps_mean_s": {k: statistics.fmean(v) for k, v in sorted(steps.items())},
            "in_run_outside_steps_mean_s": (run_s - step_s) / n if n else None,
            "between_runs_gap_mean_s": statistics.fmean(gaps) if gaps else 0.0,
        }


# --------------------------------------------------------------------------- reporting


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=8, help="how many symbols (default 8)")
    p.add_argument("--repeat", type=int, default=1, help="repeats; the best wall of each is kept")
    p.add_argument(
        "--sizes",
        default=",".join(SIZES),
        help=f"comma-separated, from {','.join(SIZES)} (default: all)",
    )
    p.add_argument("--date", default=DATE, help="the UTC day to retrain")
    p.add_argument("--keep", action="store_true", help="keep the temporary instances")
    p.add_argument(
        "--fresh-home",
        action="store_true",
        help="time the instance's first-ever start-up too (schema creation)",
    )
    args = p.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(s not in SIZES for s in sizes):
        p.error(f"--sizes: choose from {','.join(SIZES)}")
    if args.symbols < 1 or args.repeat < 1:
        p.error("--symbols and --repeat must be at least 1")
    symbols = symbols_for(args.symbols)
    warm_up()
    scratch = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    pool: dict[str, list[dict[str, Any]]] = {size: [] for size in sizes}
    engine: dict[str, list[CliRun]] = {size: [] for size in sizes}
    try:
        for i in range(args.repeat):
            for size in sizes:
                trainer = SIZES[size]
                pool[size].append(run_pool(args.date, symbols, trainer))
                print(f"[{i + 1}] pool/{size:<9} {pool[size][-1]['wall_s']:7.2f} s", flush=True)
                home = new_home(scratch, initialised=not args.fresh_home)
                run = run_cli(home, symbols, trainer, date=args.date)
                run.profile = engine_profile(home, run.started, run.wall_s)
                if run.profile["runs"] != len(symbols):
                    raise SystemExit(f"engine/{size}: {run.profile['runs']} runs recorded")
                engine[size].append(run)
                print(f"[{i + 1}] engine/{size:<7} {run.wall_s:7.2f} s", flush=True)
    finally:
        if args.keep:
            print(f"instances kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report(args, symbols, pool, engine)
    return 0


def report(
    args: argparse.Namespace,
    symbols: list[str],
    pool: dict[str, list[dict[str, Any]]],
    engine: dict[str, list[CliRun]],
) -> None:
    n = len(symbols)
    best_pool = {k: min(v, key=lambda r: r["wall_s"]) for k, v in pool.items()}
    best_engine = {k: min(v, key=lambda r: r.wall_s) for k, v in engine.items()}
    home = "fresh" if args.fresh_home else "initialised"
    print()
    print(
        f"{n} symbols, --max_concurrent {CONCURRENT}, {os.cpu_count()} cores, {args.date}, "
        f"{home} DAGSTER_HOME, best of {args.repeat}"
    )
    print(
        f"{'size':<10} {'train s/sym':>11} {'pool s':>8} {'engine s':>9} {'engine/pool':>12}"
        f" {'(eng-pool)/N s':>15} {'pool cpu s':>11} {'engine cpu s':>13}"
    )
    for size in pool:
        pw, ew = best_pool[size]["wall_s"], best_engine[size].wall_s
        pc, ec = best_pool[size]["cpu_s"], best_engine[size].cpu_s
        print(
            f"{size:<10} {best_pool[size]['train_mean_s']:11.2f} {pw:8.2f} {ew:9.2f}"
            f" {ew / pw:12.3f} {(ew - pw) / n:15.3f} {pc:11.2f} {ec:13.2f}"
        )
    print(
        "orchestration per symbol-day = (engine wall - pool wall) / N with the no-op trainer: "
        "everything the CLI adds to the same domain work, as the user waits for it (Dagster "
        f"start-up amortised over N, runs overlapped {CONCURRENT} at a time)"
    )
    verdicts: dict[str, Any] = {}
    if "noop" in best_pool:
        orch = (best_engine["noop"].wall_s - best_pool["noop"]["wall_s"]) / n
        verdicts["orchestration_s_per_symbol_day"] = orch
        ok = "ok" if orch <= TARGET_ORCHESTRATION_S else "MISSED"
        print(f"target orchestration <= {TARGET_ORCHESTRATION_S} s/symbol-day: {orch:.3f} {ok}")
    else:
        print("target orchestration: not measured (needs --sizes noop)")
    if "notes" in best_pool:
        ratio = best_engine["notes"].wall_s / best_pool["notes"]["wall_s"]
        verdicts["ratio_notes"] = ratio
        ok = "ok" if ratio <= TARGET_RATIO else "MISSED"
        print(
            f"target engine/pool at the notes' size (~10 s/symbol) <= {TARGET_RATIO}: "
            f"{ratio:.3f} {ok}"
        )
    else:
        print("target engine/pool at the notes' size: not measured (needs --sizes notes)")
    first = next(iter(pool))
    startup = {
        "pool_first_task_s": best_pool[first]["first_start_s"],
        "engine_first_run_s": best_engine[first].profile["first_run_start_s"],
    }
    print(
        f"start-up to first work ({first}): pool {startup['pool_first_task_s']:.2f} s, "
        f"engine {startup['engine_first_run_s']:.2f} s"
    )
    bounds = target_bounds(best_pool, best_engine, startup, n)
    if "zero_overhead_floor" in bounds:
        print(
            f"start-up gap alone: {bounds['startup_gap_s']:.2f} s, so even with no per-symbol "
            f"overhead engine/pool ({bounds['floor_size']}) could not go below "
            f"{bounds['zero_overhead_floor']:.3f}"
        )
    if "break_even_train_s" in bounds:
        print(
            f"fixed cost with no training (engine - pool, noop): {bounds['fixed_cost_s']:.2f} s; "
            f"engine/pool <= {TARGET_RATIO} from ~{bounds['break_even_train_s']:.1f} s of "
            "training per symbol"
        )
    for size in pool:
        print(f"pool/{size} per-symbol laps (mean s): {_fmt(best_pool[size]['laps_mean_s'])}")
    for size in pool:
        print(f"engine/{size} run records: {_fmt(best_engine[size].profile)}")
    print(
        "JSON "
        + json.dumps(
            _rounded(
                {
                    "bench": "engine",
                    "symbols": n,
                    "max_concurrent": CONCURRENT,
                    "cores": os.cpu_count(),
                    "date": args.date,
                    "repeat": args.repeat,
                    "home": home,
                    "targets": {
                        "orchestration_s_per_symbol_day": TARGET_ORCHESTRATION_S,
                        "ratio_notes": TARGET_RATIO,
                    },
                    "measured": verdicts,
                    "met": {
                        "orchestration": verdicts.get("orchestration_s_per_symbol_day", math.inf)
                        <= TARGET_ORCHESTRATION_S,
                        "ratio_notes": verdicts.get("ratio_notes", math.inf) <= TARGET_RATIO,
                    },
                    "sizes": {
                        size: {
                            "pool_s": best_pool[size]["wall_s"],
                            "engine_s": best_engine[size].wall_s,
                            "ratio": best_engine[size].wall_s / best_pool[size]["wall_s"],
                            "per_symbol_s": (best_engine[size].wall_s - best_pool[size]["wall_s"])
                            / n,
                            "pool_cpu_s": best_pool[size]["cpu_s"],
                            "engine_cpu_s": best_engine[size].cpu_s,
                            "train_mean_s": best_pool[size]["train_mean_s"],
                            "all_pool_s": [r["wall_s"] for r in pool[size]],
                            "all_engine_s": [r.wall_s for r in engine[size]],
                        }
                        for size in pool
                    },
                    "bounds": bounds,
                    "startup_s": startup,
                    "engine_profile": {k: v.profile for k, v in best_engine.items()},
                }
            ),
            default=str,
        )
    )


def target_bounds(
    best_pool: dict[str, dict[str, Any]],
    best_engine: dict[str, CliRun],
    startup: dict[str, float],
    n: int,
) -> dict[str, Any]:
    """What the measurements imply for the ratio target, whatever the orchestration did.

    `zero_overhead_floor`: the ratio at the largest size measured if every symbol cost the
    engine nothing beyond the pool, leaving only the later start (importing Dagster and the
    definitions, opening the instance). `break_even_train_s`: the training seconds per symbol
    from which the measured fixed cost (engine - pool with a no-op trainer) is within the
    ratio target, on `ceil(n / cap)` rounds.
    """
    bounds: dict[str, Any] = {"startup_gap_s": 0.0}
    if startup["engine_first_run_s"] is None:
        return bounds
    gap = startup["engine_first_run_s"] - startup["pool_first_task_s"]
    largest = [s for s in SIZES if s in best_pool][-1]
    pool_wall = best_pool[largest]["wall_s"]
    bounds.update(
        startup_gap_s=gap, floor_size=largest, zero_overhead_floor=(pool_wall + gap) / pool_wall
    )
    if "noop" in best_pool:
        fixed = best_engine["noop"].wall_s - best_pool["noop"]["wall_s"]
        rounds = math.ceil(n / CONCURRENT)
        bounds.update(
            fixed_cost_s=fixed,
            break_even_train_s=(fixed / (TARGET_RATIO - 1) - best_pool["noop"]["wall_s"]) / rounds,
        )
    return bounds


def _rounded(value: Any) -> Any:
    """`value` with every float rounded to microseconds (for the JSON line)."""
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _fmt(values: dict[str, Any]) -> str:
    def one(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        if isinstance(v, dict):
            return "{" + _fmt(v) + "}"
        return str(v)

    return ", ".join(f"{k}={one(v)}" for k, v in values.items())


if __name__ == "__main__":
    sys.exit(main())
