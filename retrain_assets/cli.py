"""`retrain` / `python -m retrain_assets`: the spec's command line, running through Dagster."""

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from retrain_assets.core.errors import PermanentError, RetrainError
from retrain_assets.launcher.config import DRIVERS, SchedulerConfig, TrainingMode
from retrain_assets.launcher.outcome import (
    EXIT_BAD_INPUT,
    EXIT_DEPLOYMENT_LOST,
    EXIT_FAILED,
    DeploymentLost,
)

EPILOG = """\
exit codes:
  0    every symbol succeeded or was already done
  1    any symbol failed or did not finish
  2    bad input: one line says what, nothing was done
  3    the --submit deployment stopped answering (its runs may go on there: rerun the same
       command to follow them)
  130  interrupted (Ctrl-C or SIGTERM): rerun the same command to resume

examples:
  retrain --symbols BTCUSDT,ETHUSDT --date 2026-11-27    retrain two symbols for one day
  retrain --symbols top10 --dates 2021-06-01..2021-06-30        a month, day by day
  retrain --symbols BTCUSDT --dry_run                    a smoke test on its own instance
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each flag's default after its help (when it has one), and the epilog as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _deployment_timeout() -> str:
    """The deployment's timeout for `--help` (a bad setting is reported by the checks)."""
    from resources.deployment import deployment_settings

    try:
        return f"{deployment_settings().timeout_minutes:g}"
    except PermanentError:
        return "the deployment's"


def build_parser() -> argparse.ArgumentParser:
    """The spec's flags (underscore spellings, dashed aliases accepted) plus --date, --submit."""
    p = argparse.ArgumentParser(
        prog="retrain",
        description="Retrain one CatBoost model per symbol for a UTC day, through Dagster.",
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    # --help lists the flags in the order they are added: training, dates, then the actions.
    _add_training_flags(p)
    _add_date_flags(p)
    _add_action_flags(p)
    return p


def _add_training_flags(p: argparse.ArgumentParser) -> None:
    """The spec's flags: how many symbols train at once, which, for how long, where stored."""
    p.add_argument(
        "--mode",
        choices=[m.value for m in TrainingMode],
        default="hybrid",
        help="sequential: one symbol at a time; parallel: as many as the machine holds; "
        "hybrid: up to --max_concurrent",
    )
    p.add_argument(
        "--max_concurrent",
        "--max-concurrent",
        type=int,
        default=None,
        help="this invocation's symbols at once (unset: 12 with a GPU, 2 without); the "
        "`train` pool limit of the instance still caps training for everyone",
    )
    p.add_argument("--symbols", default="top20", help="topN, SYM1,SYM2 or a CSV file")
    p.add_argument(
        "--timeout_minutes",
        "--timeout-minutes",
        type=float,
        default=None,
        help=f"per-symbol training timeout of this invocation, 1 to 1440 (default: "
        f"{_deployment_timeout()}: training.timeout_minutes in RETRAIN_SETTINGS, else "
        "RETRAIN_TIMEOUT_MINUTES, else 45)",
    )
    p.add_argument("--force", action="store_true", help="retrain symbols already done")
    p.add_argument("--driver", choices=DRIVERS, default="local", help="artifact storage")
    p.add_argument(
        "--dry_run",
        "--dry-run",
        action="store_true",
        help="a smoke test: tiny training budget, nothing uploaded, on its own instance and "
        "artifact root (dry_run/ in each); not with --submit",
    )


def _add_date_flags(p: argparse.ArgumentParser) -> None:
    """--date or --dates, never both: one UTC day, or a range run day by day."""
    days = p.add_mutually_exclusive_group()
    days.add_argument("--date", default=None, help="YYYY-MM-DD (unset: the last complete UTC day)")
    days.add_argument(
        "--dates",
        metavar="FIRST..LAST",
        default=None,
        help="every day from FIRST to LAST (YYYY-MM-DD..YYYY-MM-DD), in date order, each after "
        "the one before has ended; a rerun skips the days done",
    )


def _add_action_flags(p: argparse.ArgumentParser) -> None:
    """What the invocation does instead of, or besides, training here: remove a symbol, print
    less, or send the runs to a deployment."""
    p.add_argument(
        "--remove_symbol",
        "--remove-symbol",
        metavar="SYMBOL",
        default=None,
        help="unregister a symbol added by mistake (its partition; the summaries and reports "
        "that listed it are refreshed; its runs and files stay), then exit; nothing is trained",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="leave the production table out of the closing lines (its headline and the "
        "report's path stay)",
    )
    p.add_argument(
        "--submit",
        metavar="URL",
        default=None,
        help="send the runs to a running deployment (its webserver, e.g. http://dagster:3000) "
        "instead of running them here",
    )


def config_from_args(args: argparse.Namespace) -> SchedulerConfig:
    """The SchedulerConfig the flags describe (checked: raises PermanentError)."""
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
    """Run one invocation: 0 all done or skipped, 1 any failed, 2 bad input, 3 deployment lost,
    130 interrupted."""
    args = build_parser().parse_args(argv)
    if args.remove_symbol is not None:
        return remove(args.remove_symbol, args.submit)
    try:
        if args.dates is not None:
            return _run_dates(args)
        from retrain_assets.api import run_with_progress

        result = run_with_progress(
            args.symbols,
            config_from_args(args),
            datetime.now(UTC),
            submit_url=args.submit,
            table=not args.quiet,
        )
    except DeploymentLost as exc:
        print(f"retrain: lost: {exc}", file=sys.stderr)
        return EXIT_DEPLOYMENT_LOST
    except RetrainError as exc:
        print(f"retrain: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return result.exit_code


def _run_dates(args: argparse.Namespace) -> int:
    """`--dates FIRST..LAST`: the range checked whole first, then each day in order."""
    from resources.deployment import deployment_settings
    from retrain_assets.api import run_dates_with_progress
    from retrain_assets.core.data.dates import date_range
    from retrain_assets.launcher.environment import check_text

    now = datetime.now(UTC)
    check_text("--dates", args.dates)
    dates = date_range(args.dates, deployment_settings().start_date, now)
    config = config_from_args(args)
    return run_dates_with_progress(
        args.symbols, config, dates, now, submit_url=args.submit, table=not args.quiet
    )


def remove(symbol: str, submit_url: str | None) -> int:
    """`--remove_symbol`: 0 removed and refreshed, 1 a refresh failed, 2 bad input."""
    try:
        if submit_url:
            raise PermanentError(
                "--remove_symbol works on the instance DAGSTER_HOME names and the local artifact "
                "root, not through --submit: run it where the deployment's instance and "
                "artifact volume are"
            )
        from retrain_assets.launcher.removal import remove_symbol

        removal = remove_symbol(symbol)
    except RetrainError as exc:
        print(f"retrain: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in removal.lines():
        print(line)
    return EXIT_FAILED if removal.failed else 0


def run() -> None:
    """Console entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
