"""Python API for desks that call the scheduler from code (the spec's integration example).

    from retrain_assets.api import SchedulerConfig, TrainingMode, retrain
    results = retrain(["BTCUSDT", "ETHUSDT"], SchedulerConfig(mode=TrainingMode.HYBRID))

It goes through the same Dagster instance, pool, ledger and summary as the CLI. Workers are
forked from the calling process, so a script needs no `if __name__ == "__main__":` guard.
A desk's own model plugs in through `TrainingResource.trainer` (an import path).
"""

import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrain_assets.adapters.locks import FileLock
from retrain_assets.adapters.production_store import ProductionStore, verified_model_bytes
from retrain_assets.core.data.symbols import normalize_symbol
from retrain_assets.core.errors import IntegrityError, PermanentError
from retrain_assets.core.lifecycle.artifacts import DESK_FILE
from retrain_assets.core.lifecycle.production import MODEL_FILE, ModelRef, checked_model_bytes
from retrain_assets.core.report.desk import ProductionRow, headline, production_rows, table_text
from retrain_assets.launcher.config import SchedulerConfig, TrainingMode
from retrain_assets.launcher.main import run_invocation
from retrain_assets.launcher.outcome import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    DeploymentDesk,
    InvocationResult,
)
from retrain_assets.launcher.progress import ConsoleProgress, ProgressFn, printable
from retrain_assets.launcher.status import SymbolStatus

THERE = " (on the deployment)"  # `--submit`: its files are on the deployment's disk

__all__ = [
    "ProductionModel",
    "SchedulerConfig",
    "SymbolStatus",
    "TrainingMode",
    "load_production_model",
    "retrain",
]


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
    symbols: str,
    config: SchedulerConfig,
    now: datetime,
    submit_url: str | None = None,
    table: bool = True,
) -> InvocationResult:
    """An invocation with console progress and a closing report (the CLI's behaviour): the
    production table (unless `table` is False: `--quiet`), its headline and where the desk
    report, the summary and the status are."""

    def announce(date: str) -> None:  # once every input is checked: a refusal prints one line
        header = (
            f"retrain {date}: symbols={symbols} mode={config.mode} dry_run={config.dry_run}"
            + (f" submit={submit_url}" if submit_url else "")
        )
        print(printable(header, sys.stdout), flush=True)

    result = run_invocation(
        symbols,
        config,
        now=now or datetime.now(UTC),
        progress=ConsoleProgress(),
        source="submit" if submit_url else "cli",
        submit_url=submit_url,
        announce=announce,
    )
    if result.deployment_desk is None:
        print_desk(result.summary_path, table)
    else:
        print_deployment_desk(result.deployment_desk, table)
    print(f"status:    {result.status_path}")
    if result.summary_path:
        print(f"summary:   {result.summary_path}")
    elif result.deployment_desk and result.deployment_desk.summary:
        print(printable(f"summary:   {result.deployment_desk.summary}{THERE}", sys.stdout))
    if result.dry_run_home:
        print(f"instance:  {result.dry_run_home} (dry runs only; `make dev-dry` shows it)")
    bad = [s.symbol for s in result.statuses.values() if not s.ok]
    print(f"{len(result.statuses) - len(bad)} ok, {len(bad)} not ok" + (f": {bad}" if bad else ""))
    if result.interrupted:
        print("interrupted: canceled runs keep their partials and snapshots; rerun to resume")
    return result


def print_desk(summary_path: Path | None, table: bool) -> None:
    """The production table of the summary the invocation refreshed (unless not `table`),
    its headline, and the desk report beside it; nothing when there is no summary here."""
    if summary_path is None or not summary_path.exists():
        return
    summary = json.loads(summary_path.read_bytes())
    rows = production_rows(summary)
    desk = summary_path.with_name(DESK_FILE)
    _print_table(rows, headline(summary, rows), str(desk) if desk.exists() else None, table)


def print_deployment_desk(desk: DeploymentDesk, table: bool) -> None:
    """`--submit`: the same closing lines, from the summary run the invocation queued on the
    deployment; its files are on the deployment's disk, and the lines say so."""
    if desk.problem:
        print(printable(f"desk:      {desk.problem}", sys.stdout))
        return
    report = f"{desk.report}{THERE}" if desk.report else None
    _print_table(list(desk.rows), desk.headline or "", report, table)


def _print_table(rows: list[ProductionRow], line: str, report: str | None, table: bool) -> None:
    """The production table (unless not `table`), its headline and the report's path."""
    if table and rows:
        for text in table_text(rows):
            print(printable(text, sys.stdout))
    print(printable(line, sys.stdout))
    if report:
        print(printable(f"report:    {report}", sys.stdout))


def run_dates_with_progress(
    symbols: str,
    config: SchedulerConfig,
    dates: Sequence[str],
    now: datetime,
    submit_url: str | None = None,
    table: bool = True,
) -> int:
    """`--dates`: each day in order, one invocation per day, each with the CLI's progress;
    returns the exit code. Walk-forward days build on the day before's model, so a day starts
    only once the one before has ended; an interrupt ends the range there (a rerun resumes:
    the days done are skipped). Bad input stops at the first day, before any work."""
    codes: list[int] = []
    try:
        for number, day in enumerate(dates, 1):
            print(f"-- {day} ({number}/{len(dates)})", flush=True)
            last = number == len(dates)
            result = run_with_progress(
                symbols, replace(config, date=day), now, submit_url, table=table and last
            )
            codes.append(result.exit_code)
            if result.interrupted:
                break
    except KeyboardInterrupt:  # between two days: nothing runs, nothing to cancel
        print("interrupted between days; rerun to resume", flush=True)
        return EXIT_INTERRUPTED
    failed = sum(1 for code in codes if code != EXIT_OK)
    print(f"dates: {len(codes)} of {len(dates)} run, {failed} with a symbol not ok", flush=True)
    if EXIT_INTERRUPTED in codes:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if failed else EXIT_OK


@dataclass(frozen=True)
class ProductionModel:
    """A symbol's champion: its verified model bytes and where they came from.

    Attributes:
        symbol: The symbol.
        as_of: The date the model was trained through.
        live_from: The first day it was live.
        model_bytes: model.bin, checked against the sha256 its decision recorded.
        reference: The champion's `ModelRef` (run id, run folder, file entries).
        pointer: The production.json manifest it was read from.
        note: Set when production.json was gone and had to be rebuilt from the decisions.
    """

    symbol: str
    as_of: str
    live_from: str
    model_bytes: bytes
    reference: ModelRef
    pointer: dict[str, Any]
    note: str | None = None


def load_production_model(symbol: str, artifact_root: str | Path | None = None) -> ProductionModel:
    """The champion of `symbol`: the model the promotion gate last let through.

    Reads production/{SYMBOL}/production.json under the artifact root (config, else
    $RETRAIN_ARTIFACT_ROOT, else ./artifacts), verifies the decision it names, then the model
    file by sha256; a model whose local copy is gone is downloaded from its recorded remote copy
    and verified the same way. A pointer that is gone is rebuilt from the decisions
    (production/{SYMBOL}/decisions/*.json) by the replay the champion step uses, rewritten
    atomically, and `note` (and a warning) says so.

    Raises:
        PermanentError: The symbol has no champion: no model has passed the gate yet, or the
            champion was demoted and the symbol trades flat (the message says when and why).
        IntegrityError: The pointer, its decision or the model fails its checksum.
    """
    from resources.settings import artifact_root as resolve_root

    root = resolve_root(None if artifact_root is None else str(artifact_root))
    name = normalize_symbol(symbol)
    store = ProductionStore(root)
    pointer, note = store.pointer(name), None
    if pointer is None:
        pointer, note = _rebuilt_pointer(store, name)
        logging.getLogger(__name__).warning(note)
    if pointer["champion"] is None:
        raise PermanentError(
            f"{name} has no production model: demoted on {pointer['demoted_on']} "
            f"({pointer['reason']}); flat from {pointer['flat_from']}"
        )
    ref = ModelRef.from_json_dict(pointer["champion"])
    data = verified_model_bytes(ref, root)
    if data is None:
        data = _download_model(ref, root)
    return ProductionModel(name, ref.as_of, str(pointer["live_from"]), data, ref, pointer, note)


def _rebuilt_pointer(store: ProductionStore, name: str) -> tuple[dict[str, Any], str]:
    """The pointer replayed from the decisions when production.json is gone, and why.

    Written under the symbol's lock, as the champion step writes it; a root this process may
    not write to still gets the replayed pointer, only not saved.

    Raises:
        PermanentError: No decision ever promoted a model.
    """
    decisions = len(store.decisions(name))
    derived = store.derived_pointer(name)
    if derived is None:
        raise PermanentError(f"{name} has no production model: no model has passed the gate yet")
    where = store.relative(store.pointer_path(name))
    try:
        with FileLock(store.lock_path(name)):
            if store.pointer(name) is None:  # the champion step may have written it meanwhile
                store.rebuild_pointer(name)
        pointer, saved = store.pointer(name) or derived, "rewritten"
    except OSError as exc:
        pointer, saved = derived, f"not saved: {type(exc).__name__}: {exc}"
    return pointer, f"{where} was missing: rebuilt from {decisions} decisions ({saved})"


def _download_model(ref: ModelRef, root: Path) -> bytes:
    """model.bin from the remote copy its entry records, verified by sha256."""
    import tempfile

    from resources.storage import StorageResource

    entry = ref.files[MODEL_FILE]
    if not entry.get("remote_path") or not entry.get("backend"):
        raise IntegrityError(
            f"{ref.symbol} champion as of {ref.as_of}: model.bin is gone locally "
            "and no remote copy is recorded"
        )
    backend = StorageResource().backend(entry["backend"], root)
    with tempfile.TemporaryDirectory() as scratch:
        dest = Path(scratch) / MODEL_FILE
        backend.get(entry["remote_path"], dest)
        data = dest.read_bytes()
    return checked_model_bytes(ref, data, f"the remote model.bin at {entry.get('uri')}")
