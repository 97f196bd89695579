"""Python API for desks that call the scheduler from code (the spec's integration example).

    from retrain_assets.api import SchedulerConfig, TrainingMode, retrain
    results = retrain(["BTCUSDT", "ETHUSDT"], SchedulerConfig(mode=TrainingMode.HYBRID))

It goes through the same Dagster instance, pool, ledger and summary as the CLI. Workers are
forked from the calling process, so a script needs no `if __name__ == "__main__":` guard.
A desk's own model plugs in through `TrainingResource.trainer` (an import path).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from retrain_assets.launcher.config import SchedulerConfig, TrainingMode
from retrain_assets.launcher.main import run_invocation
from retrain_assets.launcher.outcome import InvocationResult
from retrain_assets.launcher.progress import ConsoleProgress, ProgressFn
from retrain_assets.launcher.status import SymbolStatus

__all__ = ["SchedulerConfig", "SymbolStatus", "TrainingMode", "retrain"]


def retrain(
    symbols: str | Sequence[str],
    config: SchedulerConfig | None = None,
    *,
    now: datetime | None = None,
    progress: ProgressFn | None = None,
) -> list[SymbolStatus]:
    """Retrain `symbols` (a list, or a selection string like 'top20') for one UTC day.

    Returns one `SymbolStatus` per symbol (status, run_id, run_folder, metrics_path, error...).

    Raises:
        RetrainError: Bad input (a symbol, the date, a setting), before any work.
    """
    spec = symbols if isinstance(symbols, str) else ",".join(symbols)
    result = run_invocation(
        spec, config or SchedulerConfig(), now=now, progress=progress, source="api"
    )
    return list(result.statuses.values())


def run_with_progress(
    symbols: str, config: SchedulerConfig, now: datetime, submit_url: str | None = None
) -> InvocationResult:
    """An invocation with console progress and a closing report (the CLI's behaviour)."""
    print(
        f"retrain {config.date or 'last complete day'}: symbols={symbols} mode={config.mode} "
        f"dry_run={config.dry_run}" + (f" submit={submit_url}" if submit_url else ""),
        flush=True,
    )
    result = run_invocation(
        symbols,
        config,
        now=now or datetime.now(UTC),
        progress=ConsoleProgress(),
        source="submit" if submit_url else "cli",
        submit_url=submit_url,
    )
    print(f"status:    {result.status_path}")
    if result.summary_path:
        print(f"summary:   {result.summary_path}")
    bad = [s.symbol for s in result.statuses.values() if not s.ok]
    print(f"{len(result.statuses) - len(bad)} ok, {len(bad)} not ok" + (f": {bad}" if bad else ""))
    if result.interrupted:
        print("interrupted: canceled runs keep their partials and snapshots; rerun to resume")
    return result
