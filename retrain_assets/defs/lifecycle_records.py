"""What a day did to each symbol's model lifecycle, read from the runs' own records.

For the completion messages (the Telegram sensor and the CLI's notifier): which models were
promoted, which were kept back and by which gate conditions, and which symbols' features
drifted. Read per run from its `champion` materialization and its check evaluations, so a
message says what the records say and nothing a process remembered.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg

from retrain_assets.defs.records import check_evaluations_of, run_events

CHAMPION = "champion"
DRIFT_CHECK = "feature_drift"


@dataclass
class Lifecycle:
    """Promoted (name, model as of), kept back (name, failing conditions), demoted (name, why),
    drifted (name, why)."""

    promoted: list[tuple[str, str]] = field(default_factory=list)
    demoted: list[tuple[str, str]] = field(default_factory=list)
    kept_back: list[tuple[str, str]] = field(default_factory=list)
    drifted: list[tuple[str, str]] = field(default_factory=list)


def lifecycle_of(instance: dg.DagsterInstance, runs: Iterable[tuple[str, str]]) -> Lifecycle:
    """The lifecycle of each (name, run id): its champion's move and its drift check."""
    found = Lifecycle()
    for name, run_id in runs:
        champion = champion_metadata(instance, run_id)
        if champion is not None and champion.get("demoted"):
            reason = str(champion.get("reason") or "")
            found.demoted.append((name, reason.removeprefix("demoted: ").split(";")[0]))
        elif champion is not None and champion.get("moved"):
            found.promoted.append((name, str(champion.get("champion_as_of"))))
        elif champion is not None:
            found.kept_back.append((name, str(champion.get("gate_failing") or "gate")))
        for check in check_evaluations_of(instance, run_id):
            if check["check"] == DRIFT_CHECK and not check["passed"]:
                found.drifted.append((name, f"{check['severity']}: {check['description']}"))
    return found


def champion_metadata(instance: dg.DagsterInstance, run_id: str) -> dict | None:
    """The metadata values of the `champion` a run materialized, or None."""
    records = run_events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
    for record in reversed(records):
        mat = record.asset_materialization
        if mat is not None and mat.asset_key.path == [CHAMPION]:
            return {k: v.value for k, v in mat.metadata.items()}
    return None
