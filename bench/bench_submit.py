"""The per-run cost of `--submit` (a deployment's run queue) against in-process `execute_job`.

Run from the repo root: `.venv/bin/python bench/bench_submit.py [--symbols 8]`.

Both timings use one fresh DAGSTER_HOME (the repo's `dagster.yaml`), synthetic data and
`bench.noop_trainer:NoopTrainer`, so what is measured is orchestration, not training; they
run one after the other, so they never share the cores:
  in-process  N symbol-days of `retrain_symbol_day`, one `dg.execute_job` after the other in
              this process, on that instance (the definitions are imported before the clock
              starts, as a deployment has loaded them before anyone submits);
  submit      `dagster dev` (webserver + daemon: QueuedRunCoordinator, default run launcher)
              is started on the same home and left to settle (not timed), then the N
              symbol-days go through `Deployment.submit`, all at once, and are followed on
              the shared instance with `--submit`'s reader until all are final. The
              deployment's queue limits apply (`max_concurrent_runs`, the `train` pool).
Printed: wall time from the first launch to the last run's end, the first run's start latency,
the mean run duration and queue wait from the run records, their ratios, and a `JSON {...}`
line. The machine must be otherwise idle.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATE = "2025-05-01"
JOB = "retrain_symbol_day"
ASSETS = (("costs",), ("features",), ("model",), ("walk_forward",), ("metrics",))
NOOP_TRAINER = "bench.noop_trainer:NoopTrainer"
POLL_S = 0.2
DEADLINE_S = 600.0
SETTLE_S = 5.0
# In-process runs log every event to this console otherwise (a deployment's go to its log).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# The synthetic source's most liquid pairs, in the order `topN` picks them.
SYMBOLS = (
    "BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT", "AVAXUSDT",
    "MATICUSDT", "DOTUSDT", "LINKUSDT", "LTCUSDT", "TRXUSDT", "SHIBUSDT", "ATOMUSDT",
    "NEARUSDT", "FILUSDT", "UNIUSDT", "BCHUSDT", "ETCUSDT",
)  # fmt: skip


def prepare_home(scratch: Path, symbols: list[str]) -> Path:
    """A fresh DAGSTER_HOME with the symbols registered; the environment points at it."""
    import dagster as dg

    home = scratch / "dagster_home"
    home.mkdir()
    from retrain_assets.launcher.home import write_instance_config

    write_instance_config(home)
    os.environ.update(
        {
            "DAGSTER_HOME": str(home),
            "RETRAIN_ARTIFACT_ROOT": str(scratch / "artifacts"),
            "RETRAIN_DATA_SOURCE": "synthetic",
            "RETRAIN_TRAINER": NOOP_TRAINER,
            # The run workers import `bench.noop_trainer` by path.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p
            ),
        }
    )
    for name in ("RETRAIN_SYMBOLS", "RETRAIN_START_DATE", "TELEGRAM_TOKEN", "TELEGRAM_CHAT_ID"):
        os.environ.pop(name, None)
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", symbols)
    return home


def tags_for(invocation: str) -> dict[str, str]:
    """The invocation tags of a `--submit` run."""
    from retrain_assets.vocabulary.tags import RunTags

    return RunTags(invocation=invocation, source="submit").to_tags()


def run_in_process(symbols: list[str]) -> dict[str, Any]:
    """N `execute_job` runs one after the other in this process, on the bench's instance."""
    import dagster as dg

    from retrain_assets.launcher.jobs import retrain_job_def  # what the local launcher runs
    from retrain_assets.vocabulary.keys import partition_tags

    begun = time.time()
    job = dg.reconstructable(retrain_job_def)
    retrain_job_def()  # import the definitions before the clock starts
    load_s = time.time() - begun
    invocation = f"bench-local-{uuid.uuid4().hex[:8]}"
    selection = [dg.AssetKey(list(k)) for k in ASSETS]
    with dg.DagsterInstance.get() as instance, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # `dagster/partition/<dim>` keys
        started = time.time()
        for symbol in symbols:
            tags = {**tags_for(invocation), **partition_tags(DATE, symbol)}
            with dg.execute_job(
                job, instance=instance, tags=tags, asset_selection=selection, run_config=QUIET
            ) as result:
                if not result.success:
                    raise SystemExit(f"in-process run of {symbol} failed")
        ended = time.time()
        records = run_records(instance, invocation)
        return {"load_s": load_s, **profile(instance, records, started, ended)}


def run_submitted(symbols: list[str], log: Path) -> dict[str, Any]:
    """N symbol-days submitted at once to `dagster dev` on the bench's instance."""
    import dagster as dg

    from retrain_assets.launcher.runs import RunSpec
    from retrain_assets.launcher.submit import Deployment
    from tests.e2e.dagster_dev import dagster_dev

    begun = time.time()
    with dagster_dev(log) as url:
        ready_s = time.time() - begun
        deployment = Deployment(url)
        info = deployment.check([JOB])
        time.sleep(SETTLE_S)  # let the daemon's first ticks pass, as on a long-lived deployment
        invocation = f"bench-submit-{uuid.uuid4().hex[:8]}"
        tags = tags_for(invocation)
        with dg.DagsterInstance.get() as instance:  # opened before the clock, as `--submit` has
            started = time.time()
            for symbol in symbols:
                deployment.submit(RunSpec(DATE, symbol, JOB, ASSETS, tags))
            submitted = time.time()
            runs = wait_final(instance, invocation, set(symbols))
            seen = time.time()
            failed = sorted(s for s, r in runs.items() if r.status != "success")
            if failed:
                raise SystemExit(f"submitted runs not successful: {failed} (log: {log})")
            records = run_records(instance, invocation)
            ended = max(r.end_time or 0.0 for r in records)
            result = profile(instance, records, started, ended)
    return {
        **result,
        "dev_ready_s": ready_s,
        "submit_all_s": submitted - started,
        "submit_mean_s": (submitted - started) / len(symbols),
        "seen_final_s": seen - started,
        "run_queuing": info.run_queuing,
    }


def wait_final(instance: Any, invocation: str, symbols: set[str]) -> dict[str, Any]:
    """Read the invocation's runs, as `--submit` does, until every symbol's run is final."""
    from retrain_assets.launcher.ledger import InvocationLedger
    from retrain_assets.launcher.plan import SymbolPlan

    ledger = InvocationLedger(instance, invocation, [SymbolPlan(s, ()) for s in sorted(symbols)])
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        runs = ledger.refresh()
        if all(runs[s].status in ("success", "failed", "canceled") for s in symbols):
            return runs
        time.sleep(POLL_S)
    raise SystemExit(f"runs of {invocation} not final after {DEADLINE_S:.0f} s")


def run_records(instance: Any, invocation: str) -> list[Any]:
    """The invocation's run records, oldest first."""
    import dagster as dg

    from retrain_assets.vocabulary.tags import INVOCATION_TAG

    records = instance.get_run_records(
        dg.RunsFilter(tags={INVOCATION_TAG: invocation}), ascending=True
    )
    return sorted(records, key=lambda r: r.create_timestamp.timestamp())


def profile(instance: Any, records: list[Any], started: float, ended: float) -> dict[str, Any]:
    """Wall time and per-run figures from run records and events (epoch seconds)."""
    import dagster as dg

    boots = []  # RUN_STARTING (the launcher starts a worker) to RUN_START (it runs the job)
    for r in records:
        events = instance.get_records_for_run(
            r.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_STARTING
        ).records
        if events and r.start_time:
            boots.append(r.start_time - events[0].event_log_entry.timestamp)
    starts = [r.start_time for r in records if r.start_time]
    durations = [r.end_time - r.start_time for r in records if r.start_time and r.end_time]
    waits = [r.start_time - r.create_timestamp.timestamp() for r in records if r.start_time]
    return {
        "runs": len(records),
        "wall_s": ended - started,
        "first_run_start_s": min(starts) - started if starts else None,
        "run_mean_s": statistics.fmean(durations) if durations else None,
        "run_max_s": max(durations) if durations else None,
        "queue_wait_mean_s": statistics.fmean(waits) if waits else None,
        "worker_start_mean_s": statistics.fmean(boots) if boots else None,
    }


def report(n: int, local: dict[str, Any], remote: dict[str, Any]) -> None:
    """The table, the ratios and one JSON line."""
    rows = (
        ("wall, first launch to last run end", "wall_s"),
        ("first run start after first launch", "first_run_start_s"),
        ("mean run duration (run records)", "run_mean_s"),
        ("mean wait, run created to started", "queue_wait_mean_s"),
        ("  of which worker start-up (STARTING..)", "worker_start_mean_s"),
    )
    print()
    print(f"{n} symbol-days, no-op trainer, {DATE}, {os.cpu_count()} cores")
    print(f"{'':<38} {'in-process s':>13} {'submit s':>9} {'submit/in-process':>18}")
    for label, key in rows:
        a, b = local[key], remote[key]
        ratio = f"{b / a:18.2f}" if a and b else f"{'-':>18}"
        print(f"{label:<38} {_num(a, 13)} {_num(b, 9)} {ratio}")
    per_run = (remote["wall_s"] - local["wall_s"]) / n
    print(
        f"per symbol-day: in-process {local['wall_s'] / n:.3f} s, submit "
        f"{remote['wall_s'] / n:.3f} s, submit overhead {per_run:+.3f} s "
        "(the deployment overlaps runs up to its queue limits; in-process runs one at a time)"
    )
    print(
        f"submit calls: {remote['submit_all_s']:.3f} s for {n} ({remote['submit_mean_s']:.3f} s "
        f"each); last run seen final by polling after {remote['seen_final_s']:.2f} s"
    )
    print(
        f"not timed: importing the definitions {local['load_s']:.2f} s; "
        f"`dagster dev` ready in {remote['dev_ready_s']:.2f} s"
    )
    data = {
        "bench": "submit",
        "symbols": n,
        "cores": os.cpu_count(),
        "date": DATE,
        "in_process": local,
        "submit": remote,
        "ratios": {
            k: remote[k] / local[k]
            for k in ("wall_s", "first_run_start_s", "run_mean_s")
            if local[k] and remote[k]
        },
        "submit_overhead_s_per_symbol_day": per_run,
    }
    print("JSON " + json.dumps(_rounded(data)))


def _num(value: float | None, width: int) -> str:
    return f"{value:{width}.3f}" if value is not None else f"{'-':>{width}}"


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    """Run both timings on one fresh instance and report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=8, help="how many symbol-days (top N)")
    p.add_argument("--keep", action="store_true", help="keep the temporary instance")
    args = p.parse_args(argv)
    if not 1 <= args.symbols <= len(SYMBOLS):
        p.error(f"--symbols must be within 1..{len(SYMBOLS)}")
    symbols = list(SYMBOLS[: args.symbols])
    scratch = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    try:
        prepare_home(scratch, symbols)
        local = run_in_process(symbols)
        print(f"in-process {local['wall_s']:7.2f} s", flush=True)
        remote = run_submitted(symbols, scratch / "dagster_dev.log")
        print(f"submit     {remote['wall_s']:7.2f} s", flush=True)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report(len(symbols), local, remote)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
