"""Python API for desks that call the scheduler from code (the spec's integration example).

    from retrain_assets.api import SchedulerConfig, TrainingMode, retrain
    results = retrain(["BTCUSDT", "ETHUSDT"], SchedulerConfig(mode=TrainingMode.HYBRID))

It goes through the same Dagster instance, pool, ledger and summary as the CLI. A desk's own
model plugs in through `TrainingResource.trainer` (an import path), keeping everything else.
"""

import json
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrain_assets.core.errors import RetrainError
from retrain_assets.core.symbols import Selection
from retrain_assets.engine.config import SchedulerConfig, TrainingMode
from retrain_assets.engine.progress import ConsoleProgress, ProgressFn

__all__ = ["SchedulerConfig", "SymbolResult", "TrainingMode", "retrain"]


@dataclass(frozen=True)
class SymbolResult:
    """The outcome of one symbol: status, where its files are, its metrics or its error."""

    symbol: str
    status: str
    run_id: str | None = None
    metrics_path: str | None = None
    metrics: dict[str, Any] | None = None
    error_type: str | None = None
    error: str | None = None
    skip_reason: str | None = None

    @property
    def run_folder(self) -> str | None:
        """The run folder holding every artifact of the symbol-day."""
        return str(Path(self.metrics_path).parent) if self.metrics_path else None


def retrain(
    symbols: str | Sequence[str],
    config: SchedulerConfig | None = None,
    *,
    now: datetime | None = None,
    progress: ProgressFn | None = None,
) -> list[SymbolResult]:
    """Retrain `symbols` (a list, or a selection string like 'top20') for one UTC day."""
    from retrain_assets.core.symbols import parse_selection
    from retrain_assets.engine.dates import (
        first_partition_date,
        last_complete_utc_day,
        validate_date,
    )
    from retrain_assets.engine.home import ensure_dagster_home
    from retrain_assets.engine.workers import start_workers

    config = config or SchedulerConfig()
    now = now or datetime.now(UTC)
    spec = symbols if isinstance(symbols, str) else ",".join(symbols)
    selection = parse_selection(spec)  # rejects bad symbols before any work starts
    date = validate_date(config.date or last_complete_utc_day(now), first_partition_date(), now)
    ensure_dagster_home()  # before the workers start: they get this environment
    # Workers fork from a forkserver importing Dagster and CatBoost while this process plans.
    pool = start_workers(_worker_count(selection, config))
    try:
        check_storage(config)  # before any training: a bad store fails the invocation, not runs
        with pool:
            return _run(selection, config, date, progress, pool)
    except BaseException:
        # Wait for the workers to leave: they hold this process's stdout, and one that
        # outlived its parent would keep a caller reading that pipe waiting forever.
        pool.shutdown(wait=True, cancel_futures=True)
        raise


def _run(
    selection: Selection,
    config: SchedulerConfig,
    date: str,
    progress: ProgressFn | None,
    pool: ProcessPoolExecutor,
) -> list[SymbolResult]:
    import dagster as dg

    from resources.market_data import MarketDataResource
    from retrain_assets.core.symbols import resolve_selection
    from retrain_assets.defs.assets.common import day_end
    from retrain_assets.engine.invocation import Invocation, execute

    chosen = resolve_selection(selection, MarketDataResource().bar_source(), day_end(date))
    with dg.DagsterInstance.get() as instance:
        inv = Invocation(date=date, symbols=chosen, config=config, instance=instance)
        status = execute(inv, progress, pool)
        summary_path = inv.layout.summary_file(date)
    summary = json.loads(summary_path.read_text())
    return [_result(s, status[s], summary["by_symbol"].get(s, {})) for s in chosen]


def _worker_count(selection: Selection, config: SchedulerConfig) -> int:
    """Workers to start before planning: the cap, or fewer when fewer symbols are asked."""
    from retrain_assets.core.hardware import detect_hardware

    count = selection.top_n if selection.kind == "top" else len(selection.symbols)
    return max(1, min(config.cap(detect_hardware(), count or 1), count or 1))


def check_storage(config: SchedulerConfig) -> None:
    """Prove the chosen driver's credentials and bucket/folder work; dry runs upload nothing.

    Raises:
        StorageConfigError: Missing or refused credentials, a missing bucket or folder, or a
            store that could not be reached; the message never holds a secret.
    """
    if config.dry_run:
        return
    from resources.settings import artifact_root
    from resources.storage import StorageResource
    from retrain_assets.core.storage import StorageConfigError
    from retrain_assets.definitions import build_resources

    storage = build_resources()["storage"]
    if not isinstance(storage, StorageResource):
        raise TypeError("the 'storage' resource must be a StorageResource")
    try:
        storage.check_access(config.driver, artifact_root(None))
    except RetrainError as exc:  # messages name the store, never a secret
        raise StorageConfigError(
            f"storage driver {config.driver!r} is not usable, nothing was trained: {exc}"
        ) from None


def _result(symbol: str, entry: dict[str, Any], summary: dict[str, Any]) -> SymbolResult:
    path = summary.get("metrics_path")
    metrics = json.loads(Path(path).read_text()) if path and Path(path).exists() else None
    return SymbolResult(
        symbol=symbol,
        status=entry.get("status", "pending"),
        run_id=entry.get("run_id"),
        metrics_path=path,
        metrics=metrics,
        error_type=entry.get("error_type"),
        error=entry.get("error"),
        skip_reason=entry.get("skip_reason"),
    )


def run_with_progress(symbols: str, config: SchedulerConfig, now: datetime) -> list[SymbolResult]:
    """`retrain` with console progress and a closing report (the CLI's behaviour)."""
    from resources.settings import artifact_root
    from retrain_assets.core.artifacts import ArtifactLayout
    from retrain_assets.engine.dates import last_complete_utc_day

    date = config.date or last_complete_utc_day(now)
    print(f"retrain {date}: symbols={symbols} mode={config.mode} dry_run={config.dry_run}")
    results = retrain(symbols, config, now=now, progress=ConsoleProgress())
    layout = ArtifactLayout(artifact_root(None))
    print(f"artifacts: {layout.root / 'models'}")
    print(f"status:    {layout.status_file(date)}")
    print(f"summary:   {layout.summary_file(date)}")
    failed = [r.symbol for r in results if r.status not in ("success", "skipped")]
    print(
        f"{len(results) - len(failed)} ok, {len(failed)} failed" + (f": {failed}" if failed else "")
    )
    return results
