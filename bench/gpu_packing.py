"""How many trainings one GPU holds: N symbols trained at once, memory sampled, failures counted.

Run on a GPU node from the repo root (GPU only; on a machine without one it exits 3 with
`no GPU: nvidia-smi not found`):

    .venv/bin/python bench/gpu_packing.py [--n 1,4,8,12,16] [--symbols BTCUSDT,ETHUSDT,...]
        [--iterations 1000] [--days 180] [--timeout_s 2700] [--gpu 0] [--sample_s 0.5]
    .venv/bin/python bench/gpu_packing.py --deadline_check 20

For each N, N processes (spawned, as the product's run workers and pods are separate
processes) each train one symbol-day of the embedded synthetic data with the product's own
functions: `TrainingResource.params` on a one-GPU machine with N trainings per GPU (so
`task_type` GPU and `gpu_ram_part` 0.9 / N, as `RETRAIN_GPU_TRAININGS_PER_GPU=N` gives),
then `train_symbol_day` with the CatBoost trainer under the step's `symbol_deadline`. Early
stopping is off (`early_stopping_rounds` = `--iterations`): every training runs its whole
budget, the worst case. Meanwhile `nvidia-smi --query-gpu` and `--query-compute-apps` are
sampled every `--sample_s`. Per N: the wall from the first spawn to the last exit, symbol-days
per hour, the peak memory of one process and of the card, and the failures by kind (`oom`
for CUDA's out-of-memory, `timeout`, `crash` for a process that died without a word,
`error`); then the recommended `RETRAIN_GPU_TRAININGS_PER_GPU` (`gpu_report.advise`).

`--deadline_check S` checks the GPU's soft deadline instead (`core.chunked_fit`): one fit
whole, the same fit in chunks (its overhead), then a fit far too long for an `S`-second
timeout, which must stop at the soft deadline, not the hard alarm 5 s later; exit 1 if not.
"""

import argparse
import multiprocessing
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.gpu_report import (  # noqa: E402 - after the repo joins the path
    NO_GPU_EXIT,
    Gpu,
    Level,
    Peaks,
    advise,
    classify_failure,
    format_report,
    no_gpu_reason,
    parse_apps,
    parse_gpus,
)

DATE = "2025-05-01"
DEFAULT_LEVELS = (1, 4, 8, 12, 16)
STRAGGLER_S = 120.0  # beyond the timeout and its grace: spawn, imports and data per process


@dataclass(frozen=True)
class Spec:
    """One worker's training: which symbol, packed with how many, how long."""

    symbol: str
    sharing: int
    iterations: int
    days: int
    timeout_s: float


def _positive_ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,4,8, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected numbers of at least 1, got {text!r}")
    return values


def _symbols(text: str) -> list[str]:
    names = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected symbols like BTCUSDT,ETHUSDT")
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; argparse exits 2 with one line on a bad value."""
    from retrain_assets.core.data.synthetic import SYNTHETIC_SYMBOLS

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--n",
        type=_positive_ints,
        default=list(DEFAULT_LEVELS),
        help="trainings at once, one level each (default 1,4,8,12,16)",
    )
    p.add_argument(
        "--symbols",
        type=_symbols,
        default=list(SYNTHETIC_SYMBOLS),
        help="synthetic symbols, used in turn (default the synthetic source's 40)",
    )
    p.add_argument("--iterations", type=int, default=1000, help="trees per fit (default 1000)")
    p.add_argument("--days", type=int, default=180, help="days of 1h bars (default 180)")
    p.add_argument(
        "--timeout_s",
        type=float,
        default=2700.0,
        help="per-training timeout, as the step's (default 2700 = 45 min)",
    )
    p.add_argument("--gpu", type=int, default=0, help="the GPU's index (default 0)")
    p.add_argument("--sample_s", type=float, default=0.5, help="seconds between samples")
    p.add_argument(
        "--deadline_check",
        type=float,
        default=None,
        metavar="S",
        help="check the GPU's soft deadline with an S-second timeout instead",
    )
    return p.parse_args(argv)  # fmt: skip


def query_gpus(smi: str) -> list[Gpu]:
    """The cards nvidia-smi lists (none when it fails)."""
    query = "--query-gpu=index,name,memory.used,memory.total"
    return parse_gpus(_smi(smi, [query, "--format=csv,noheader,nounits"]))


def _smi(smi: str, args: list[str]) -> str:
    try:
        done = subprocess.run([smi, *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _sample(smi: str, index: int, peaks: Peaks, pids: set[int]) -> None:
    card = [g for g in query_gpus(smi) if g.index == index]
    query = "--query-compute-apps=pid,used_memory"
    apps = parse_apps(_smi(smi, ["-i", str(index), query, "--format=csv,noheader,nounits"]))
    peaks.add(card[0].used_mib if card else 0.0, apps, pids)


def train_one(spec: Spec, results: Any) -> None:
    """A worker: one symbol-day trained as the `model` asset does, its outcome on `results`."""
    mine = {"symbol": spec.symbol, "pid": os.getpid()}
    try:
        results.put({**mine, "ok": True, **_train(spec)})
    except Exception as exc:  # everything is a result here: CUDA errors, timeouts, bugs
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        results.put({**mine, "ok": False, "kind": classify_failure(line), "message": line[:300]})


def _train(spec: Spec) -> dict[str, Any]:
    import pandas as pd

    from resources.training import TrainingResource
    from retrain_assets.adapters.catboost_trainer import CatBoostTrainer
    from retrain_assets.adapters.hardware import Hardware
    from retrain_assets.core.data.synthetic import SyntheticSource
    from retrain_assets.core.lifecycle.pipeline import train_symbol_day, training_input
    from retrain_assets.defs.timeout import symbol_deadline

    training = TrainingResource(
        iterations=spec.iterations,
        early_stopping_rounds=spec.iterations,
        lookback_days=spec.days,
        gpu_trainings_per_gpu=spec.sharing,
    )
    one_gpu = Hardware(gpu_count=1, cpu_count=os.cpu_count() or 1, detected_by="bench")
    params = training.params(one_gpu, spec.sharing, dry_run=False)
    end = pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=1)
    bars, _ = SyntheticSource().load(spec.symbol, end, pd.Timedelta(days=spec.days))
    frame, splits = training.feature_set(bars, spec.symbol)
    with (
        tempfile.TemporaryDirectory(prefix="gpu-packing-") as work,
        symbol_deadline(spec.symbol, spec.timeout_s) as deadline,
    ):
        job = training_input(
            spec.symbol, DATE, frame, splits, params, Path(work) / "ckpt",
            dry_run=False, deadline_monotonic=deadline,
        )  # fmt: skip
        started = time.perf_counter()
        fits = train_symbol_day(CatBoostTrainer(), job)
    return {
        "train_s": round(time.perf_counter() - started, 2),
        "task_type": params.task_type,
        "trees": fits.held_out.training_log.get("tree_count"),
        "fit_chunks": fits.held_out.training_log.get("fit_chunks"),
    }


def run_level(n: int, args: argparse.Namespace, smi: str) -> Level:
    """N workers at once on GPU `args.gpu`, sampled until the last exits."""
    from retrain_assets.adapters.hardware import gpu_ram_part

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    peaks = Peaks()
    _sample(smi, args.gpu, peaks, set())
    peaks = Peaks(baseline_mib=peaks.total_mib)
    specs = [
        Spec(args.symbols[i % len(args.symbols)], n, args.iterations, args.days, args.timeout_s)
        for i in range(n)
    ]
    workers = [ctx.Process(target=train_one, args=(spec, results)) for spec in specs]
    started = time.monotonic()
    for w in workers:
        w.start()
    pids = {w.pid for w in workers if w.pid is not None}
    limit = started + args.timeout_s + STRAGGLER_S
    outcomes: list[dict[str, Any]] = []
    while any(w.is_alive() for w in workers) and time.monotonic() < limit:
        _sample(smi, args.gpu, peaks, pids)
        outcomes += _drain(results)
        time.sleep(args.sample_s)
    wall = time.monotonic() - started
    outcomes += _reap(workers, results)
    return _level(n, gpu_ram_part(n), wall, peaks, outcomes + _silent(workers, outcomes))


def _reap(workers: list[Any], results: Any) -> list[dict[str, Any]]:
    """Kill the workers still running past every deadline (the hard alarm did not stop
    them either), join all, and collect what is left on the queue."""
    killed = []
    for w in workers:
        if w.is_alive():
            w.kill()
            killed.append({"pid": w.pid, "ok": False, "kind": "killed",
                           "message": "still running past its timeout and grace"})  # fmt: skip
        w.join()
    return killed + _drain(results)


def _silent(workers: list[Any], outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A failure for each worker that died without a word (a CUDA abort, the OOM killer)."""
    heard = {o.get("pid") for o in outcomes}
    return [
        {"pid": w.pid, "ok": False, "kind": "crash", "message": f"exit code {w.exitcode}"}
        for w in workers
        if w.pid not in heard
    ]


def _drain(results: Any) -> list[dict[str, Any]]:
    got = []
    while True:
        try:
            got.append(results.get_nowait())
        except queue.Empty:
            return got


def _level(n: int, part: float, wall: float, peaks: Peaks, outcomes: list[dict[str, Any]]) -> Level:
    failed = [o for o in outcomes if not o["ok"]]
    failures = Counter(o["kind"] for o in failed)
    first = f"{failed[0]['kind']}: {failed[0]['message']}" if failed else ""
    per_process = tuple(sorted(peaks.per_pid_mib.values(), reverse=True))
    return Level(n, part, wall, per_process, peaks.total_mib, peaks.baseline_mib,
                 dict(failures), first)  # fmt: skip


def deadline_check(args: argparse.Namespace) -> int:
    """The GPU's soft deadline: chunk overhead, then a stop at the soft deadline."""
    from bench.gpu_deadline import check

    return check(args.symbols[0], args.iterations, args.days, float(args.deadline_check))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    smi = shutil.which("nvidia-smi")
    gpus = query_gpus(smi) if smi else None
    reason = no_gpu_reason(smi, gpus, args.gpu)
    if reason is not None or smi is None or gpus is None:
        print(reason, file=sys.stderr)
        return NO_GPU_EXIT
    for name in [k for k in os.environ if k.startswith("RETRAIN_")]:
        os.environ.pop(name)  # the code's own defaults, not this shell's settings
    os.environ["CUDA_VISIBLE_DEVICES"] = str(args.gpu)  # workers see only this card
    if args.deadline_check is not None:
        return deadline_check(args)
    gpu = next(g for g in gpus if g.index == args.gpu)
    levels = []
    for n in args.n:
        print(f"N={n}: training {n} at once ...", flush=True)
        levels.append(run_level(n, args, smi))
    print(format_report(gpu, levels, advise(levels, gpu.total_mib)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
