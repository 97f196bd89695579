"""The `champion` asset: the production model of a symbol, and the gate that guards it.

Partition `date|symbol` first trades the champion live on `date` (its own live record), then
decides, from the gate (`core.gate`: the method's pooled record, the symbol's own record, the
newest models against the champion), whether the model trained through `date` goes to
production from the next day on, what is live stays, or the champion is demoted and the
symbol goes flat. The verdict is this asset's `promotion_gate` check, evaluated in the same
step that moves the pointer, so no path moves the pointer past a failing gate.

The gate is not a Dagster *blocking* check on an upstream asset: a blocking failure fails the
run, and a model kept back is a normal outcome of a day, not a failed symbol to retry, alert on
or resume. A failing gate is an ERROR when the record argues against the model, a WARN when it
only lacks evidence; both keep what is live (or flat).

The champion's live day is `champion_live`'s; the gate's evidence, chart and check are
`champion_gate`'s.
"""

import warnings
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from resources.artifact_io import ArtifactIOManager, ArtifactRootResource
from resources.method import method_of
from resources.promotion import PromotionResource
from resources.storage import StorageResource
from resources.training import CostModelResource, TrainingResource
from resources.uploads import PENDING_KEY, UnavailableBackend, metadata_value, upload_entry
from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.adapters.hashing import sha256_bytes
from retrain_assets.adapters.locks import FileLock
from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.adapters.quarantine import Quarantined
from retrain_assets.adapters.storage import StorageBackend
from retrain_assets.core.lifecycle.artifacts import ArtifactLayout, json_bytes
from retrain_assets.core.lifecycle.gate import (
    GATE_CHECK,
    DayNet,
    GatePolicy,
    GateVerdict,
    day_nets,
    demotion,
)
from retrain_assets.core.lifecycle.production import (
    Decision,
    ModelRef,
    decide,
    failed_in_a_row,
    model_ref,
    replay,
    tenure,
)
from retrain_assets.core.model.provenance import Method, Provenance, family_of
from retrain_assets.defs.assets.champion_gate import (
    fresh_since,
    gate,
    gate_check_result,
    method_dates,
)
from retrain_assets.defs.assets.champion_live import (
    live_day,
    live_from,
    live_record,
    live_summary,
)
from retrain_assets.defs.assets.common import RETRAIN_GROUP
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.defs.pnl_records import family_day_nets
from retrain_assets.defs.provenance import (
    derived_provenance,
    provenance_metadata,
    upstream_provenance,
)
from retrain_assets.defs.quarantine import tidy_symbol_day
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import split_partition_key
from retrain_assets.vocabulary.tags import is_dry_run

CHAMPION_ASSET = "champion"
_RECORDS_SCANNED = 20

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks: preview in 1.13
    GATE_SPEC = dg.AssetCheckSpec(
        GATE_CHECK,
        asset=CHAMPION_ASSET,
        partitions_def=symbol_day_partitions,
        description=(
            "The method's pooled walk-forward record above zero by an always-valid interval, "
            "the symbol's own record not losing with enough trades, the newest models not "
            "worse than the champion. ERROR: the record argues against the model; WARN: too "
            "little evidence yet. Either keeps what is live (or flat)."
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
    artifact_io_manager: dg.ResourceParam[ArtifactIOManager],
) -> dg.MaterializeResult:
    """The symbol's production model after this date's decision (production/{SYMBOL}/...).

    First the champion live on this date trades the date's bars: its own live record
    (production/{SYMBOL}/live/{date}.json; flat without a champion). Then the gate
    (`core.gate`): the method's pooled record of every symbol of the candidate's family before
    the date, the symbol's own record in its window, and the newest models against the
    champion's live record on the same days. Then the decision (decisions/{date}.json, the
    append-only history): demote the champion (its own record negative, or the gate failing
    too long), promote the candidate, or keep what is live; the pointer is re-derived by
    replaying every decision. All of it happens under the symbol's lock, and the files are
    uploaded to the run's store, so the store's pointer is never older than the disk's. A
    decision left pending is retried by the pending-uploads sensor. A dry run's files stay
    local, under the dry run's own artifact root. Then the folders earlier runs of the
    symbol-day left damaged or unfinished are moved to quarantine/ (`defs/quarantine.py`).
    """
    date, symbol = split_partition_key(context.partition_key)
    policy = promotion.policy()
    root = artifacts.layout().root
    store = ProductionStore(root)
    method = method_of(training, cost_model, promotion)
    made = derived_provenance(context, CHAMPION_ASSET, method, training.trainer_path())
    family = _candidate_family(context, method, made)
    candidate = _candidate(context, symbol, date, root)
    backend = _backend(storage, context.run.tags, root)
    method_days = family_day_nets(
        context.instance, method_dates(date, policy), family, store.method_days_cache(family)
    )
    with FileLock(store.lock_path(symbol)):
        settings = (store, training, policy)
        decided = _decide(context, artifact_io_manager, settings, (family, method_days), candidate)
        decision, verdict, chart, families, since = decided
        files, pointer = _record(context, backend, store, decision, (date, symbol))
    context.log.info(f"{symbol} {date}: {decision.reason}")
    metadata = {
        **provenance_metadata(made),
        **_metadata(decision, files, pointer),
        "champion_since": dg.MetadataValue.text(str(live_from(since) or "none")),
        "gate_window": chart,
        "gate_family": dg.MetadataValue.text(family),
        "method_families": dg.MetadataValue.md(families),
    }
    moved = _tidy(context, (date, symbol), artifacts.layout())
    if moved:
        metadata["quarantined"] = dg.MetadataValue.json([m.to_json() for m in moved])
    metadata = unplotted(metadata)  # no figure plotted across symbols: vocabulary/figures.py
    return dg.MaterializeResult(metadata=metadata, check_results=[gate_check_result(verdict)])


def _candidate_family(context: dg.AssetExecutionContext, method: Method, made: Provenance) -> str:
    """The family the gate pools the method's record over: the candidate model's own, as its
    provenance records it; else (no provenance recorded) the current method's and source's."""
    candidate_made = upstream_provenance(
        context.instance, dg.AssetKey("model"), context.partition_key
    )
    return (
        candidate_made.family
        if candidate_made
        else family_of(method.digest_of("model"), made.source_kind)
    )


def _record(
    context: dg.AssetExecutionContext,
    backend: StorageBackend | None,
    store: ProductionStore,
    decision: Decision,
    partition: tuple[str, str],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """Under the symbol's lock: append the decision and re-derive the pointer, then upload the
    day's live record, the decision and the pointer; returns the files' recorded entries and
    the pointer's (None when no champion is named, so there is no pointer file)."""
    date, symbol = partition
    decision_path, pointer_path = store.record(decision)
    files = {
        "live.json": _store(context, backend, store, store.live_path(symbol, date)),
        "decision.json": _store(context, backend, store, decision_path),
    }
    pointer = None if pointer_path is None else _store(context, backend, store, pointer_path)
    return files, pointer


def _decide(
    context: dg.AssetExecutionContext,
    io: ArtifactIOManager,
    settings: tuple[ProductionStore, TrainingResource, GatePolicy],
    method: tuple[str, list[DayNet]],
    candidate: ModelRef | None,
) -> tuple[Decision, GateVerdict, dg.MetadataValue, str, str | None]:
    """Under the symbol's lock: the champion's live day (written), the gate, the demotion and
    the decision; with the gate's chart, the families seen and the tenure's start."""
    store, training, policy = settings
    family, method_days = method
    date, symbol = split_partition_key(context.partition_key)
    decisions = [d for d in store.decisions(symbol) if d.date < date]
    chain = replay(decisions)  # read once: the champion live on `date` is the replay's last
    previous = chain[-1][1] if chain else None
    since, during = tenure(decisions, date)
    today = live_day(context, io, store, training, previous)
    live_file, live_bytes = store.live_path(symbol, date), json_bytes(today.to_json_dict())
    atomic_write_bytes(live_file, live_bytes)
    live = [*live_record(during), *day_nets([today])] if previous else None
    verdict, chart, families = gate(
        context, (date, symbol), policy, family, method_days, fresh_since(decisions), live
    )
    failed = 0 if verdict.passed else 1 + failed_in_a_row(during)
    demoted = demotion(live, failed, policy) if live is not None else None
    decision = decide(
        symbol, date, candidate, previous, verdict.to_json_dict(),
        demotion=demoted.reason if demoted else None,
        live_day={
            **live_summary(today),
            "path": store.relative(live_file),
            "sha256": sha256_bytes(live_bytes),
        },
        champion_since=live_from(since),
    )  # fmt: skip
    if demoted is not None:
        decision = replace(decision, gate={**decision.gate, "demotion": demoted.figures})
    return decision, verdict, chart, families, since


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
    live = decision.live_day or {}
    metadata: dict[str, dg.MetadataValue] = {
        "action": dg.MetadataValue.text(decision.action),
        "moved": dg.MetadataValue.bool(decision.moved),
        "demoted": dg.MetadataValue.bool(decision.demoted),
        "reason": dg.MetadataValue.text(decision.reason),
        "gate_passed": dg.MetadataValue.bool(bool(decision.gate.get("passed"))),
        "gate_failing": dg.MetadataValue.text(", ".join(decision.gate.get("failing") or [])),
        "champion_as_of": dg.MetadataValue.text(champion.as_of if champion else "none"),
        "live_on": dg.MetadataValue.text(decision.live_on),
        "live_model_as_of": dg.MetadataValue.text(str(live.get("model_as_of") or "none")),
        "files": dg.MetadataValue.json(files),
        PENDING_KEY: dg.MetadataValue.int(sum(1 for e in files.values() if e["pending_upload"])),
    }
    if live.get("model_as_of"):
        metadata["live_day_net_bps"] = dg.MetadataValue.float(round(1e4 * live["net"], 4))
        metadata["live_day_trades"] = dg.MetadataValue.int(int(live["trades"]))
    if pointer is not None:
        metadata["pointer"] = dg.MetadataValue.json(pointer)
    metadata.update(_figures_metadata(decision.gate.get("figures") or {}))
    return metadata


def _figures_metadata(figures: Mapping[str, Any]) -> dict[str, dg.MetadataValue]:
    """The gate's figures: the symbol's window per trade, the method's pooled days; undefined
    ones are absent, never 0.0."""
    found: dict[str, dg.MetadataValue] = {}
    window = figures.get("window") or {}
    if "trades" in window:
        found["window_trades"] = dg.MetadataValue.int(int(window["trades"]))
        found["window_days"] = dg.MetadataValue.int(int(window["days"]))
    for name in ("net_bps_per_trade", "total_net_bps"):
        if window.get(name) is not None:
            found[f"window_{name}"] = dg.MetadataValue.float(float(window[name]))
    interval = window.get("net_bps_interval")
    if interval:
        found["window_net_bps_lo"] = dg.MetadataValue.float(float(interval[0]))
        found["window_net_bps_hi"] = dg.MetadataValue.float(float(interval[1]))
    if figures.get("method_days") is not None:
        found["method_days"] = dg.MetadataValue.int(int(figures["method_days"]))
        found["method_symbols"] = dg.MetadataValue.int(int(figures["method_symbols"]))
    if figures.get("method_net_bps_per_day") is not None:
        value = float(figures["method_net_bps_per_day"])
        found["method_net_bps_per_day"] = dg.MetadataValue.float(value)
    method = figures.get("method_interval_bps")
    if method:
        found["method_net_bps_lo"] = dg.MetadataValue.float(float(method[0]))
        found["method_net_bps_hi"] = dg.MetadataValue.float(float(method[1]))
    return found
