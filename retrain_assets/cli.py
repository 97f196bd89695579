"""`retrain` / `python -m retrain_assets`: the spec's command line, running through Dagster."""

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from retrain_assets.core.errors import RetrainError
from retrain_assets.engine.config import DRIVERS, SchedulerConfig, TrainingMode


def build_parser() -> argparse.ArgumentParser:
    """The spec's flags (underscore spellings, dashed aliases accepted) plus --date."""
    p = argparse.ArgumentParser(
        prog="retrain",
        description="Retrain one CatBoost model per symbol for a UTC day, through Dagster.",
    )
    p.add_argument("--mode", choices=[m.value for m in TrainingMode], default="hybrid")
    p.add_argument(
        "--max_concurrent",
        "--max-concurrent",
        type=int,
        default=None,
        help="symbols training at once (default: 12 with a GPU, 2 without)",
    )
    p.add_argument("--symbols", default="top20", help="topN, SYM1,SYM2 or a CSV file")
    p.add_argument("--timeout_minutes", "--timeout-minutes", type=float, default=45.0)
    p.add_argument("--force", action="store_true", help="retrain symbols already done")
    p.add_argument("--driver", choices=DRIVERS, default="local", help="artifact storage")
    p.add_argument(
        "--dry_run",
        "--dry-run",
        action="store_true",
        help="tiny training budget, artifacts marked dry-run, nothing uploaded",
    )
    p.add_argument("--date", default=None, help="YYYY-MM-DD (default: last complete UTC day)")
    return p


def config_from_args(args: argparse.Namespace) -> SchedulerConfig:
    """The SchedulerConfig the flags describe."""
    return SchedulerConfig(
        mode=TrainingMode(args.mode),
        max_concurrent=args.max_concurrent,
        timeout_minutes=args.timeout_minutes,
        force=args.force,
        dry_run=args.dry_run,
        driver=args.driver,
        date=args.date,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one invocation; exit 0 when every symbol succeeded or was skipped, 1 otherwise.

    A symbol left pending or running (a worker that died) counts as not done.
    """
    args = build_parser().parse_args(argv)
    try:
        from retrain_assets.api import run_with_progress

        results = run_with_progress(args.symbols, config_from_args(args), datetime.now(UTC))
    except RetrainError as exc:
        print(f"retrain: error: {exc}", file=sys.stderr)
        return 2
    return 0 if all(r.status in ("success", "skipped") for r in results) else 1


def run() -> None:
    """Console entry point: exit without the interpreter's teardown once everything is written.

    The instance is closed and every file is on disk when `main` returns; tearing down the
    imported Dagster, CatBoost and pandas modules only costs about a second on two cores.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
