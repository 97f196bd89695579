"""A symbol-day asked for twice at once is trained once: the later request adopts the model.

The CLI, a UI backfill, the schedule and `--submit` may each ask for a symbol-day while another
of them is training it. The run queue's per-partition limit and the training lock keep the two
trainings apart in time, but not from happening twice. So, once a run holds the training lock,
it looks at the symbol-day's latest model: when another run recorded it after this run was asked
for (its backfill's launch, else the run's own creation), that training answered this request
too, and this run adopts its files, verified by sha256, instead of training again. A request
made after a model existed is a deliberate rebuild (a later backfill, `--force`) and trains.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg

from resources.artifact_io import read_verified
from resources.uploads import metadata_value
from retrain_assets.core.errors import IntegrityError
from retrain_assets.core.lifecycle.artifacts import ArtifactFiles
from retrain_assets.core.model.provenance import Provenance
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.tags import BACKFILL_TAG

ADOPTED_KEY = "adopted_from_run"
# What a model's materialization says of the model itself (not of this run's storage or time).
_MODEL_FACTS = (
    "best_iteration",
    "live_trees",
    "min_trees",
    "calibration_slope",
    "calibration_rows",
    "live_rows",
    "live_through",
    "prediction_fingerprint",
    "resumed_from_snapshot",
    "thread_count",
    "task_type",
    "provenance",
    "source",
    "method",
    "model_health",
    "feature_importance",
)


@dataclass(frozen=True)
class Trained:
    """A model another run recorded for the symbol-day after this run was asked for."""

    run_id: str
    metadata: dict[str, Any]


def requested_at(instance: dg.DagsterInstance, run: dg.DagsterRun) -> float:
    """When the work of `run` was asked for: its backfill's launch, else the run's creation.

    A backfill's runs are created by the daemon up to a loop (30 s) after the launch; the
    launch is the request. `get_backfill` is not in Dagster 1.13's public API, and no
    public API reads a backfill (the GraphQL API reads the same record).
    """
    backfill_id = run.tags.get(BACKFILL_TAG)
    if backfill_id:
        backfill = instance.get_backfill(backfill_id)
        if backfill is not None:
            return float(backfill.backfill_timestamp)
    record = instance.get_run_record_by_id(run.run_id)
    return record.create_timestamp.timestamp() if record is not None else 0.0


def trained_since_requested(context: dg.AssetExecutionContext) -> Trained | None:
    """The symbol-day's model, when another run recorded it after this run was asked for."""
    latest = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=context.asset_key, asset_partitions=[str(context.partition_key)]
        ),
        limit=1,
        ascending=False,
    ).records
    if not latest or latest[0].run_id == context.run.run_id:
        return None
    record = latest[0]
    if record.timestamp < requested_at(context.instance, context.run):
        return None
    mat = record.asset_materialization
    values = {k: metadata_value(v) for k, v in (mat.metadata if mat else {}).items()}
    if "files" not in values:
        return None
    return Trained(record.run_id, values)


def adopted_model(
    context: dg.AssetExecutionContext, wanted: Provenance
) -> dg.Output[ArtifactFiles] | None:
    """The model another run trained since this run was asked for, as this run's output;
    None when there is none, it was made from another source or method than `wanted`, or its
    files are no longer intact (then this run trains)."""
    trained = trained_since_requested(context)
    if trained is None:
        return None
    made = Provenance.from_json_dict(trained.metadata.get("provenance"))
    if made is None or (made.source, made.method) != (wanted.source, wanted.method):
        context.log.info(f"not adopting run {trained.run_id[:8]}'s model: made another way")
        return None
    try:
        output = adopted_output(trained)
    except IntegrityError as exc:
        context.log.warning(f"not adopting run {trained.run_id[:8]}'s model: {exc}")
        return None
    context.log.info(
        f"adopted the model run {trained.run_id[:8]} trained since this run was requested"
    )
    return output


def adopted_output(trained: Trained) -> dg.Output[ArtifactFiles]:
    """The other run's model files (verified), recorded as this run's, with nothing trained.

    Raises:
        IntegrityError: a recorded file is gone or changed since it was written.
    """
    files = {name: read_verified(name, entry) for name, entry in trained.metadata["files"].items()}
    facts = {k: trained.metadata[k] for k in _MODEL_FACTS if trained.metadata.get(k) is not None}
    return dg.Output(
        ArtifactFiles(files),
        metadata=unplotted({**facts, "train_minutes": 0.0, ADOPTED_KEY: trained.run_id}),
    )
