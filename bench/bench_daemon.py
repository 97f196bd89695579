"""UI asset backfills and schedule ticks through `dagster dev`'s daemon against the CLI.

Run from the repo root: `.venv/bin/python bench/bench_daemon.py [--symbols 8] [--repeat 2]
[--instance-yaml PATH] [--phase 15] [--paths cli,backfill,schedule] [--keep]`.

Each timing gets a fresh DAGSTER_HOME holding a copy of the instance yaml (the repo's
`dagster.yaml` unless `--instance-yaml`, to compare daemon settings), with
`RETRAIN_INSTANCE_DIR` set to that home in every process started; synthetic data,
`bench.noop_trainer:NoopTrainer` (what is measured is orchestration, not training) and
inherited RETRAIN_*, DAGSTER_*, TELEGRAM_*, AWS_* and DROPBOX_* variables dropped. The timings
run one after the other, never sharing the cores; N symbol-days of the six symbol-day assets:
  cli       `python -m retrain_assets --symbols S1,... --date 2025-05-01 --max_concurrent 2` on
            an initialised home: the subprocess's wall time;
  backfill  `dagster dev -w workspace.yaml` (webserver, daemon, one code server) is started and
            left to settle, not timed, until the code location is loaded and the backfill and
            run-queue daemons have heartbeaten; then an asset backfill over the `date|symbol`
            partitions is launched as the UI launches it (GraphQL `launchPartitionBackfill`)
            and followed until it and all its runs are final;
  schedule  the same, with the daily schedule made to tick every minute
            (`RETRAIN_SCHEDULE_CRON`); the symbols are registered once it has settled, and the
            first tick's runs are timed from the tick's scheduled time to the last run's end.
The backfill daemon wakes every 30 s (a constant in Dagster 1.13), so when a backfill is picked
up depends on when it is launched in that cycle: the bench launches `--phase` seconds after an
iteration (15: the mean case; 0: just missed, ~30 s pickup; 29: just before the next) and
prints the walls for the best, mean and worst phase. Printed: the walls, the time to the first
run created and started, per-run queue wait (in the queue, then the worker's start) and
duration from the run records, the ratios to the CLI, the cost of one run worker's start (a new
interpreter importing Dagster and the definitions, measured apart) and a `JSON {...}` line.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import bench_engine  # noqa: E402 - importable once the repo is on the path
from bench.bench_engine import DATE, cli_env, instance_at  # noqa: E402
from retrain_assets.vocabulary.tags import (  # noqa: E402
    BACKFILL_TAG,
    PARTITION_TAG,
    SCHEDULE_NAME_TAG,
    SCHEDULED_TIME_TAG,
)

ASSETS = ("costs", "features", "model", "walk_forward", "metrics", "champion")
NOOP_TRAINER = "bench.noop_trainer:NoopTrainer"
DAEMON_LOOP_S = 30.0  # the backfill daemon's loop (dagster._daemon.controller, not settable)
POLL_S = 0.25
DEADLINE_S = 600.0
READY_TIMEOUT_S = 180.0
PATHS = ("cli", "backfill", "schedule")
SCHEDULE = "daily_retrain_schedule"
FINAL_RUN = ("SUCCESS", "FAILURE", "CANCELED")
FINAL_BACKFILL = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED")
# The synthetic source's most liquid pairs, in the order `topN` picks them.
SYMBOLS = (
    "BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT", "AVAXUSDT",
    "MATICUSDT", "DOTUSDT", "LINKUSDT", "LTCUSDT", "TRXUSDT", "SHIBUSDT", "ATOMUSDT",
    "NEARUSDT", "FILUSDT", "UNIUSDT", "BCHUSDT", "ETCUSDT",
)  # fmt: skip
# Inherited settings that would change what runs do (a driver, a data source, Telegram).
LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"


# --------------------------------------------------------------------------- instances


def bench_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of every process the bench starts on `home` (plus `extra`)."""
    return {**cli_env(home, NOOP_TRAINER), **extra}


def new_home(scratch: Path, instance_yaml: Path, symbols: Sequence[str]) -> Path:
    """A new DAGSTER_HOME with `instance_yaml`, its storage created and the symbols registered
    (as every daily run after the first finds its instance)."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch))
    shutil.copyfile(instance_yaml, home / "dagster.yaml")
    code = (
        "import sys, dagster\n"
        "with dagster.DagsterInstance.get() as i:\n"
        "    i.add_dynamic_partitions('symbols', sys.argv[1:])\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, *symbols],
        cwd=REPO,
        env=bench_env(home),
        check=True,
        capture_output=True,
    )
    return home


def run_records(instance: Any, tags: dict[str, str] | None = None) -> list[Any]:
    """The symbol-day run records (those with a partition tag), oldest first."""
    import dagster as dg

    records = instance.get_run_records(dg.RunsFilter(tags=tags or {}), ascending=True)
    return [r for r in records if PARTITION_TAG in r.dagster_run.tags]


def run_profile(instance: Any, records: list[Any], t0: float) -> dict[str, Any]:
    """First run created / started after `t0`, per-run waits and durations (epoch seconds)."""
    import dagster as dg

    created = [r.create_timestamp.timestamp() for r in records]
    starts = [r.start_time for r in records if r.start_time]
    ends = [r.end_time for r in records if r.end_time]
    waits, queued, boots = [], [], []
    for r in records:
        if not r.start_time:
            continue
        created_at = r.create_timestamp.timestamp()
        waits.append(r.start_time - created_at)
        # RUN_STARTING: the run queue dequeued the run and the launcher started its worker.
        launched = instance.get_records_for_run(
            r.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_STARTING
        ).records
        if launched:
            queued.append(launched[0].event_log_entry.timestamp - created_at)
            boots.append(r.start_time - launched[0].event_log_entry.timestamp)
    durations = [r.end_time - r.start_time for r in records if r.start_time and r.end_time]
    return {
        "runs": len(records),
        "ok": sum(r.dagster_run.status.value == "SUCCESS" for r in records),
        "first_run_created_s": min(created) - t0 if created else None,
        "first_run_start_s": min(starts) - t0 if starts else None,
        "last_run_end_s": max(ends) - t0 if ends else None,
        "run_mean_s": _mean(durations),
        "queue_wait_mean_s": _mean(waits),
        "queued_mean_s": _mean(queued),  # created to launched (the run queue)
        "launch_to_start_mean_s": _mean(boots),  # a new worker process starting
    }


# --------------------------------------------------------------------------- the CLI path


def run_cli(home: Path, symbols: Sequence[str]) -> dict[str, Any]:
    """The CLI on `home` (as bench_engine runs it): its wall time and its runs' profile."""
    cli = bench_engine.run_cli(home, symbols, NOOP_TRAINER, force=False)
    with instance_at(home) as instance:
        profile = run_profile(instance, run_records(instance), cli.started)
    return {"wall_s": cli.wall_s, "runs_done_s": profile["last_run_end_s"], **profile}


# --------------------------------------------------------------------------- the backfill path


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST a GraphQL query; raise on transport or GraphQL errors."""
    response = requests.post(
        f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


@contextmanager
def dagster_dev(home: Path, log_path: Path, **extra_env: str) -> Iterator[str]:
    """`dagster dev` on `home`, ready and settled; yields its base URL; stops its group."""
    port = free_port()
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=bench_env(home, **extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, home, proc, log_path)
            yield base
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_ready(base: str, home: Path, proc: subprocess.Popen, log: Path) -> None:
    """Until the location is loaded and the backfill and run-queue daemons have heartbeaten."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with instance_at(home) as instance:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"dagster dev exited:\n{log.read_text()[-3000:]}")
            try:
                entries = graphql(base, LOCATIONS)["workspaceOrError"]["locationEntries"]
                loaded = bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)
            except (requests.RequestException, RuntimeError, KeyError):
                loaded = False
            beats = instance.get_daemon_heartbeats()
            if loaded and {"BACKFILL", "QUEUED_RUN_COORDINATOR"} <= beats.keys():
                return
            time.sleep(0.5)
    raise SystemExit(
        f"dagster dev not ready in {READY_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}"
    )


def wait_for_phase(instance: Any, phase_s: float) -> float:
    """Sleep until `phase_s` after a backfill daemon iteration (its heartbeat); return it."""
    beat = instance.get_daemon_heartbeats()["BACKFILL"].timestamp
    behind = (time.time() - beat) % DAEMON_LOOP_S
    time.sleep((phase_s - behind) % DAEMON_LOOP_S)
    return (time.time() - beat) % DAEMON_LOOP_S


def run_backfill(home: Path, symbols: Sequence[str], log: Path, phase_s: float) -> dict[str, Any]:
    """An asset backfill of `symbols` on `date` through `dagster dev`, followed to the end."""
    from retrain_assets.vocabulary.keys import symbol_day_key

    partitions = [symbol_day_key(DATE, s) for s in symbols]
    params = {"partitionNames": partitions, "assetSelection": [{"path": [a]} for a in ASSETS]}
    begun = time.time()
    with dagster_dev(home, log) as base, instance_at(home) as instance:
        ready_s = time.time() - begun
        phase = wait_for_phase(instance, phase_s)
        started = time.time()
        answer = graphql(base, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if answer["__typename"] != "LaunchBackfillSuccess":
            raise SystemExit(f"launchPartitionBackfill: {answer}")
        backfill_id = answer["backfillId"]
        launch_s = time.time() - started
        runs_seen_s, status = follow(instance, backfill_id, len(symbols), started)
        backfill = instance.get_backfill(backfill_id)
        records = run_records(instance, {BACKFILL_TAG: backfill_id})
        profile = run_profile(instance, records, started)
    if status not in ("COMPLETED", "COMPLETED_SUCCESS") or profile["ok"] != len(symbols):
        raise SystemExit(f"backfill {backfill_id} ended {status}, {profile} (log: {log})")
    end = backfill.backfill_end_timestamp
    return {
        "wall_s": (end or started + runs_seen_s) - started,
        "runs_done_s": profile["last_run_end_s"],
        **profile,
        "status": status,
        "phase_s": phase,
        "completion_lag_s": end - started - profile["last_run_end_s"] if end else None,
        "launch_call_s": launch_s,
        "dev_ready_s": ready_s,
    }


def follow(instance: Any, backfill_id: str, n: int, started: float) -> tuple[float, str]:
    """Poll until the backfill is final and its `n` runs too: (seconds seen, status)."""
    import dagster as dg

    deadline = time.monotonic() + DEADLINE_S
    runs_filter = dg.RunsFilter(tags={BACKFILL_TAG: backfill_id})
    while time.monotonic() < deadline:
        status = instance.get_backfill(backfill_id).status.value
        runs = instance.get_runs(runs_filter)
        if status in FINAL_BACKFILL and sum(r.status.value in FINAL_RUN for r in runs) >= n:
            return time.time() - started, status
        time.sleep(POLL_S)
    raise SystemExit(f"backfill {backfill_id} not final after {DEADLINE_S:.0f} s")


# --------------------------------------------------------------------------- the schedule path


def run_schedule(home: Path, symbols: Sequence[str], log: Path) -> dict[str, Any]:
    """One tick of the daily schedule, made to tick every minute, through `dagster dev`.

    `dagster dev` starts just after a minute boundary, so it has settled before the next tick;
    the universe sensor (and the bench) register exactly the symbols, and that first tick
    requests all of them. Times count from the tick's scheduled time (the minute boundary).
    """
    time.sleep(61.0 - time.time() % 60.0)
    env = {"RETRAIN_SCHEDULE_CRON": "* * * * *", "RETRAIN_SYMBOLS": ",".join(symbols)}
    with dagster_dev(home, log, **env) as _, instance_at(home) as instance:
        instance.add_dynamic_partitions("symbols", list(symbols))
        settled = time.time()
        tick, records = follow_tick(instance, len(symbols), settled)
        profile = run_profile(instance, records, tick)
    if profile["ok"] != len(symbols) or profile["runs"] != len(symbols):
        raise SystemExit(f"schedule tick runs not as expected: {profile} (log: {log})")
    return {
        "wall_s": profile["last_run_end_s"],
        "runs_done_s": profile["last_run_end_s"],
        **profile,
        "settled_before_tick_s": tick - settled,
    }


def follow_tick(instance: Any, n: int, after: float) -> tuple[float, list[Any]]:
    """Poll until the first tick after `after` has `n` final runs: (tick time, run records)."""
    import dagster as dg

    deadline = time.monotonic() + DEADLINE_S
    runs_filter = dg.RunsFilter(tags={SCHEDULE_NAME_TAG: SCHEDULE})
    while time.monotonic() < deadline:
        runs = instance.get_runs(runs_filter)
        ticks = sorted({r.tags[SCHEDULED_TIME_TAG] for r in runs if SCHEDULED_TIME_TAG in r.tags})
        if ticks:
            first = [r for r in runs if r.tags.get(SCHEDULED_TIME_TAG) == ticks[0]]
            if len(first) >= n and all(r.status.value in FINAL_RUN for r in first):
                tick = datetime.fromisoformat(ticks[0]).timestamp()
                if tick < after:
                    raise SystemExit("the first schedule tick came before dagster dev settled")
                tags = {SCHEDULE_NAME_TAG: SCHEDULE, SCHEDULED_TIME_TAG: ticks[0]}
                return tick, run_records(instance, tags)
        time.sleep(POLL_S)
    raise SystemExit(f"no complete schedule tick after {DEADLINE_S:.0f} s")


# --------------------------------------------------------------------------- apart


def worker_start_cost(home: Path, repeat: int = 2) -> dict[str, float]:
    """What a run worker pays before its first step: a new interpreter importing Dagster and
    the definitions (best of `repeat`, wall and CPU seconds)."""
    code = "import dagster, retrain_assets.definitions"
    walls, cpus = [], []
    for _ in range(repeat):
        before = _children_cpu_s()
        begun = time.time()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, env=bench_env(home), check=True)
        walls.append(time.time() - begun)
        cpus.append(_children_cpu_s() - before)
    return {"wall_s": min(walls), "cpu_s": min(cpus)}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


# --------------------------------------------------------------------------- reporting

ROWS = (
    ("wall: launch or tick to final", "wall_s"),
    ("wall: launch or tick to last run end", "runs_done_s"),
    ("first run created", "first_run_created_s"),
    ("first run started", "first_run_start_s"),
    ("mean run duration", "run_mean_s"),
    ("mean wait, created to started", "queue_wait_mean_s"),
    ("  in the queue (created..launched)", "queued_mean_s"),
    ("  worker start (launched..started)", "launch_to_start_mean_s"),
    ("last run end to backfill final", "completion_lag_s"),
)


def report(args: argparse.Namespace, n: int, results: dict[str, list[dict[str, Any]]]) -> None:
    """The table (best of the repeats, with each path's spread), the ratios and a JSON line."""
    paths = [k for k in PATHS if results.get(k)]
    best = {k: min(results[k], key=lambda r: r["wall_s"]) for k in paths}
    print()
    print(
        f"{n} symbol-days, no-op trainer, {os.cpu_count()} cores, instance yaml "
        f"{args.instance_yaml}, backfill launch phase {args.phase:.0f} s, best of {args.repeat}"
    )
    print(f"{'':<38}" + "".join(f"{k + ' s':>11}" for k in paths))
    for label, key in ROWS:
        print(f"{label:<38}" + "".join(_num(best[k].get(key), 11) for k in paths))
    for k in paths:
        print(f"{k} walls: " + " ".join(_num(r["wall_s"], 0) for r in results[k]))
    data: dict[str, Any] = {
        "bench": "daemon",
        "symbols": n,
        "cores": os.cpu_count(),
        "instance_yaml": str(args.instance_yaml),
        "phase_s": args.phase,
        "repeat": args.repeat,
        "best": best,
        "all": {k: results[k] for k in paths},
        "worker_start": results["worker_start"][0],
    }
    if "backfill" in best:
        data.update(backfill_bounds(best["backfill"]))
    if "cli" in best:
        cli = best["cli"]["wall_s"]
        data["ratios"] = {
            f"{k}_{m}": best[k][m] / cli
            for k in paths
            if k != "cli"
            for m in ("wall_s", "runs_done_s")
        }
        if "backfill" in best:
            data["ratios"]["backfill_runs_done_mean_phase"] = data["runs_done_s_by_phase"][1] / cli
        print("ratios to the CLI wall (target <= 2.00): " + _fmt(data["ratios"]))
    w = data["worker_start"]
    print(
        f"one run worker's start, apart (import dagster + definitions): {w['wall_s']:.2f} s "
        f"wall, {w['cpu_s']:.2f} s CPU; x{n} runs = {w['cpu_s'] * n:.1f} CPU s on "
        f"{os.cpu_count()} cores"
    )
    print("JSON " + json.dumps(_rounded(data), default=str))


def backfill_bounds(fill: dict[str, Any]) -> dict[str, Any]:
    """The backfill's wall by launch phase: the runs from pickup on are what settings move;
    the pickup is 0-30 s by when the backfill is launched in the daemon's cycle."""
    execution = fill["last_run_end_s"] - fill["first_run_created_s"]
    by_phase = [execution, execution + DAEMON_LOOP_S / 2, execution + DAEMON_LOOP_S]
    print(
        f"backfill pickup {fill['first_run_created_s']:.2f} s (launched {fill['phase_s']:.1f} s "
        f"into the daemon's {DAEMON_LOOP_S:.0f} s cycle); pickup to last run end "
        f"{execution:.2f} s, so launch to last run end "
        + " / ".join(f"{v:.1f}" for v in by_phase)
        + " s (best / mean / worst phase)"
    )
    return {"execution_s": execution, "runs_done_s_by_phase": by_phase}


def _fmt(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in values.items())


def _num(value: float | None, width: int) -> str:
    return f"{value:{width}.2f}" if value is not None else f"{'-':>{width}}"


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def run_path(
    path: str, scratch: Path, args: argparse.Namespace, symbols: Sequence[str]
) -> dict[str, Any]:
    """One timing of `path` on a new home."""
    if path == "schedule":
        home = new_home(scratch, args.instance_yaml, [])
        return run_schedule(home, symbols, home / "dagster_dev.log")
    home = new_home(scratch, args.instance_yaml, symbols)
    if path == "cli":
        return run_cli(home, symbols)
    return run_backfill(home, symbols, home / "dagster_dev.log", args.phase)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The bench's flags, checked."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=8, help="how many symbol-days (top N)")
    p.add_argument("--repeat", type=int, default=2, help="repeats; best and spread are shown")
    p.add_argument(
        "--instance-yaml",
        type=Path,
        default=REPO / "dagster.yaml",
        help="the dagster.yaml copied into each home (default: the repo's)",
    )
    p.add_argument(
        "--phase",
        type=float,
        default=15.0,
        help="launch this many seconds after a backfill daemon iteration (0-29; default 15)",
    )
    p.add_argument(
        "--paths", default=",".join(PATHS), help="comma-separated: cli,backfill,schedule"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary instances")
    args = p.parse_args(argv)
    args.paths = [s.strip() for s in args.paths.split(",") if s.strip()]
    if not args.paths or any(s not in PATHS for s in args.paths):
        p.error(f"--paths: choose from {','.join(PATHS)}")
    if not 1 <= args.symbols <= len(SYMBOLS) or args.repeat < 1:
        p.error(f"--symbols must be within 1..{len(SYMBOLS)}, --repeat at least 1")
    if not 0 <= args.phase < DAEMON_LOOP_S:
        p.error(f"--phase must be within 0..{DAEMON_LOOP_S:.0f}")
    args.instance_yaml = args.instance_yaml.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen paths `--repeat` times, each on a fresh home, and report."""
    args = parse_args(argv)
    symbols = list(SYMBOLS[: args.symbols])
    scratch = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in args.paths}
    try:
        home = new_home(scratch, args.instance_yaml, symbols)
        results["worker_start"] = [worker_start_cost(home)]  # also warms the page cache
        for i in range(args.repeat):
            for path in args.paths:
                load = os.getloadavg()[0]
                result = run_path(path, scratch, args, symbols)
                result["load_1m_before"] = load
                results[path].append(result)
                print(
                    f"[{i + 1}] {path:<8} {result['wall_s']:7.2f} s (load {load:.2f})", flush=True
                )
    finally:
        if args.keep:
            print(f"instances kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report(args, len(symbols), results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
