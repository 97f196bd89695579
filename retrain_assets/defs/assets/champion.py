"""The `champion` asset: the promotion gate, and the production pointer it guards.

Partition `date|symbol` decides whether the model trained through `date` replaces the symbol's
champion from the next day on. The gate (`core.gate`) reads the symbol's walk-forward record
over a trailing window; its verdict is this asset's `promotion_gate` check, evaluated in the
same step that moves the pointer, so no path moves the pointer past a failing gate.

The gate is not a Dagster *blocking* check on an upstream asset: a blocking failure fails the
run, and a model kept back is a normal outcome of a day, not a failed symbol to retry, alert on
or resume. A failing gate is an ERROR when the record shows the model losing after costs, a
WARN when it only lacks evidence; both keep the champion where it is.
"""

import base64
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from resources.artifact_io import ArtifactRootResource
from resources.method import method_of
from resources.promotion import PromotionResource
from resources.storage import StorageResource
from resources.training import CostModelResource, TrainingResource
from resources.uploads import PENDING_KEY, UnavailableBackend, metadata_value, upload_entry
from retrain_assets.core.artifacts import ArtifactLayout
from retrain_assets.core.families import describe, split_by_family
from retrain_assets.core.gate import GATE_CHECK, GatePolicy, GateVerdict, promotion_gate
from retrain_assets.core.hashing import sha256_bytes
from retrain_assets.core.ledger_chain import chain_ledgers, equity_curves
from retrain_assets.core.ledger_plot import render_symbol_png
from retrain_assets.core.locks import FileLock
from retrain_assets.core.production import Decision, ModelRef, ProductionStore, decide, model_ref
from retrain_assets.core.provenance import family_of
from retrain_assets.core.quarantine import Quarantined
from retrain_assets.core.storage import StorageBackend
from retrain_assets.defs.assets.common import RETRAIN_GROUP
from retrain_assets.defs.ledger_records import ledger_days, window_dates
from retrain_assets.defs.partitions import split_partition_key, symbol_day_partitions
from retrain_assets.defs.provenance import (
    derived_provenance,
    provenance_metadata,
    upstream_provenance,
)
from retrain_assets.defs.quarantine import tidy_symbol_day
from retrain_assets.defs.tags import is_dry_run

CHAMPION_ASSET = "champion"
_RECORDS_SCANNED = 20

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks: preview in 1.13
    GATE_SPEC = dg.AssetCheckSpec(
        GATE_CHECK,
        asset=CHAMPION_ASSET,
        partitions_def=symbol_day_partitions,
        description=(
            "Walk-forward net after costs above zero with its interval, at least the minimum "
            "trades, better than flat and buy-and-hold. ERROR: the record loses; WARN: too "
            "little evidence. Either keeps yesterday's champion live."
        ),
    )


@dg.asset(
    partitions_def=symbol_day_partitions,
    group_name=RETRAIN_GROUP,
    kinds={"json"},
    deps=["model", "walk_forward", "metrics"],
    check_specs=[GATE_SPEC],
)
def champion(
    context: dg.AssetExecutionContext,
    promotion: PromotionResource,
    training: TrainingResource,
    cost_model: CostModelResource,
    artifacts: ArtifactRootResource,
    storage: StorageResource,
) -> dg.MaterializeResult:
    """The symbol's champion after this date's gate (production/{SYMBOL}/production.json).

    Writes the date's decision (production/{SYMBOL}/decisions/{date}.json, the append-only
    history of which model is live on which day) and re-derives the pointer by replaying every
    decision; both are uploaded to the run's store under the symbol's lock, so the store's
    pointer is never older than the disk's. A decision left pending is retried by the
    pending-uploads sensor; the pointer, which changes, is uploaded again by the next decision.
    A dry run's decision and pointer stay local, under the dry run's own artifact root.
    Then the folders earlier runs of the symbol-day left damaged or unfinished are moved to
    quarantine/ (`defs/quarantine.py`), and the metadata's `quarantined` names each move.

    The gate reads only the days whose live model was of the candidate's family (its method
    and data source): days of another method are another strategy's record.
    """
    date, symbol = split_partition_key(context.partition_key)
    policy = promotion.policy()
    root = artifacts.layout().root
    store = ProductionStore(root)
    method = method_of(training, cost_model, promotion)
    made = derived_provenance(context, CHAMPION_ASSET, method, training.trainer_path())
    candidate_made = upstream_provenance(
        context.instance, dg.AssetKey("model"), context.partition_key
    )
    family = (
        candidate_made.family
        if candidate_made
        else family_of(method.digest_of("model"), made.source_kind)
    )
    verdict, chart, families = _gate(context, symbol, date, policy, family)
    candidate = _candidate(context, symbol, date, root)
    backend = _backend(storage, context.run.tags, root)
    with FileLock(store.lock_path(symbol)):
        previous = store.champion_before(symbol, date)
        decision = decide(symbol, date, candidate, previous, verdict.to_json_dict())
        decision_path, pointer_path = store.record(decision)
        files = {"decision.json": _store(context, backend, store, decision_path)}
        pointer = None if pointer_path is None else _store(context, backend, store, pointer_path)
    context.log.info(f"{symbol} {date}: {decision.reason}")
    metadata = {
        **provenance_metadata(made),
        **_metadata(decision, files, pointer),
        "gate_window": chart,
        "gate_family": dg.MetadataValue.text(family),
        "method_families": dg.MetadataValue.md(families),
    }
    moved = _tidy(context, (date, symbol), artifacts.layout())
    if moved:
        metadata["quarantined"] = dg.MetadataValue.json([m.to_json() for m in moved])
    return dg.MaterializeResult(metadata=metadata, check_results=[_check_result(verdict)])


def _tidy(
    context: dg.AssetExecutionContext, partition: tuple[str, str], layout: ArtifactLayout
) -> list[Quarantined]:
    """Move aside what earlier runs of the symbol-day left; housekeeping never fails the run."""
    try:
        moved = tidy_symbol_day(
            context.instance, layout, partition, context.run.run_id, datetime.now(UTC)
        )
    except Exception as exc:  # a folder that cannot be moved stays; the next run tries again
        context.log.warning(f"leftover run folders not moved aside: {type(exc).__name__}: {exc}")
        return []
    for m in moved:
        context.log.info(f"moved {len(m.files)} file(s) of {m.folder} to {m.moved_to}: {m.why}")
    return moved


def _gate(
    context: dg.AssetExecutionContext, symbol: str, date: str, policy: GatePolicy, family: str
) -> tuple[GateVerdict, dg.MetadataValue, str]:
    """The gate's verdict on the symbol's ledger days of `family` in the window ending at
    `date`, the window's equity curves of this symbol alone (the UI's per-symbol view), and
    the families seen in the window (one line each)."""
    found = ledger_days(context.instance, window_dates(date, policy.window_days), [symbol])
    for pkey, why in sorted(found.unreadable.items()):
        context.log.warning(f"walk_forward [{pkey}] left out of the gate: {why}")
    days, families = split_by_family(found.days, family)
    left_out = sum(f.days for f in families if not f.current)
    if left_out:
        context.log.info(f"{symbol}: {left_out} day(s) of another method or source left out")
    record = chain_ledgers(days, min_trades=policy.min_trades)
    figures = record.per_symbol.get(symbol)
    verdict = promotion_gate(symbol, date, figures, policy)
    if figures is None:
        chart = dg.MetadataValue.md(f"{symbol}: no walk-forward day of this method in the window")
        return verdict, chart, describe(families)
    title = f"{symbol} walk-forward, {policy.window_days} days through {date}"
    png = render_symbol_png(equity_curves(days), figures, title=title)
    image = base64.b64encode(png).decode()
    chart = dg.MetadataValue.md(f"![{symbol}](data:image/png;base64,{image})")
    return verdict, chart, describe(families)


def _candidate(
    context: dg.AssetExecutionContext, symbol: str, date: str, root: Path
) -> ModelRef | None:
    """The model trained through `date` (its latest materialization), or None."""
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("model"), asset_partitions=[context.partition_key]
        ),
        limit=_RECORDS_SCANNED,
        ascending=False,
    )
    for record in result.records:
        mat = record.asset_materialization
        if mat is None:
            continue
        entries = metadata_value(mat.metadata.get("files")) or {}
        if "model.bin" in entries:
            return model_ref(symbol, date, record.run_id, root, entries)
    context.log.warning(f"{symbol} {date}: no model materialization with model.bin recorded")
    return None


def _backend(
    storage: StorageResource, tags: Mapping[str, str], root: Path
) -> StorageBackend | None:
    """The run's store; None for a dry run, which stores locally only, whatever its driver."""
    if is_dry_run(tags):
        return None
    try:
        return storage.backend(storage.driver_for(tags), root)
    except Exception as exc:  # the upload stays pending; the pending-uploads sensor retries
        return UnavailableBackend(str(storage.driver_for(tags)), exc)


def _store(
    context: dg.AssetExecutionContext,
    backend: StorageBackend | None,
    store: ProductionStore,
    path: Path,
) -> dict[str, Any]:
    """Upload one production file under its path relative to the root; its recorded entry
    (without a backend, a dry run's: recorded, not uploaded)."""
    if backend is None:
        return {**_entry(path), "pending_upload": False}
    return upload_entry(context, backend, path.name, _entry(path), store.relative(path))


def _entry(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"path": str(path), "sha256": sha256_bytes(data), "size": len(data)}


def _metadata(
    decision: Decision, files: dict[str, dict[str, Any]], pointer: dict[str, Any] | None
) -> dict[str, dg.MetadataValue]:
    champion = decision.champion
    figures = decision.gate.get("figures") or {}
    metadata: dict[str, dg.MetadataValue] = {
        "moved": dg.MetadataValue.bool(decision.moved),
        "reason": dg.MetadataValue.text(decision.reason),
        "gate_passed": dg.MetadataValue.bool(bool(decision.gate.get("passed"))),
        "gate_failing": dg.MetadataValue.text(", ".join(decision.gate.get("failing") or [])),
        "champion_as_of": dg.MetadataValue.text(champion.as_of if champion else "none"),
        "live_on": dg.MetadataValue.text(decision.live_on),
        "files": dg.MetadataValue.json(files),
        PENDING_KEY: dg.MetadataValue.int(sum(1 for e in files.values() if e["pending_upload"])),
    }
    if pointer is not None:
        metadata["pointer"] = dg.MetadataValue.json(pointer)
    metadata.update(_figures_metadata(figures))
    return metadata


def _figures_metadata(figures: Mapping[str, Any]) -> dict[str, dg.MetadataValue]:
    """The gate window's figures; undefined ones are absent, never 0.0."""
    found: dict[str, dg.MetadataValue] = {}
    if "trades" in figures:
        found["window_trades"] = dg.MetadataValue.int(int(figures["trades"]))
        found["window_days"] = dg.MetadataValue.int(int(figures["days"]))
    for name in ("net_bps_per_trade", "total_net_bps", "buy_and_hold_net_bps"):
        if figures.get(name) is not None:
            found[f"window_{name}"] = dg.MetadataValue.float(float(figures[name]))
    interval = figures.get("net_bps_interval")
    if interval:
        found["window_net_bps_lo"] = dg.MetadataValue.float(float(interval[0]))
        found["window_net_bps_hi"] = dg.MetadataValue.float(float(interval[1]))
    return found


def _check_result(verdict: GateVerdict) -> dg.AssetCheckResult:
    only_evidence = verdict.failing == ("evidence",)
    severity = dg.AssetCheckSeverity.WARN if only_evidence else dg.AssetCheckSeverity.ERROR
    figures = verdict.figures or {}
    metadata: dict[str, Any] = {
        "failing": dg.MetadataValue.text(", ".join(verdict.failing) or "none"),
        **_figures_metadata(figures),
    }
    return dg.AssetCheckResult(
        check_name=GATE_CHECK,
        passed=verdict.passed,
        severity=severity,
        description=verdict.describe()[:1000],
        metadata=metadata,
    )
