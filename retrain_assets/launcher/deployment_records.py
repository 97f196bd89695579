"""What a `--submit` deployment recorded, read back over GraphQL, so a `--submit` run prints
what a local run prints.

A local run reads its lines from its own instance (`launcher.ledger`, `api.print_desk`); a
`--submit` CLI need not share the deployment's instance or disk, so it asks the deployment:
each successful run's `metrics` and `champion` materializations (turned into the same
`SymbolStatus` facts by `metrics_facts` and `champion_words`), the newest `metrics` of the
symbols it skipped, and, at the end, the date's `desk_report` from a summary run it queues
there (the deployment's summary sensor leaves invocations that report themselves alone).
"""

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from retrain_assets.core.report.desk import row_from_table
from retrain_assets.defs.partitions import SUMMARY_JOB, split_partition_key, symbol_day_key
from retrain_assets.defs.tags import PARTITION_TAG, SUMMARY_OF_TAG
from retrain_assets.launcher.ledger import champion_words, metrics_facts
from retrain_assets.launcher.outcome import DeploymentDesk
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.launcher.submit import Deployment, DeploymentError

# How long the end of a `--submit` run waits for its summary run (queued behind other runs).
SUMMARY_WAIT_S = 600.0
POLL_S = 1.0
_FINAL = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

_ENTRIES = """
  label __typename
  ... on TextMetadataEntry { text }
  ... on FloatMetadataEntry { floatValue }
  ... on IntMetadataEntry { intRepr }
  ... on BoolMetadataEntry { boolValue }
  ... on JsonMetadataEntry { jsonString }
  ... on PathMetadataEntry { path }
  ... on UrlMetadataEntry { url }
  ... on MarkdownMetadataEntry { mdStr }
  ... on TableMetadataEntry { table { records } }
"""


def _materializations(arguments: str = "") -> str:
    return (
        f"assetMaterializations{arguments} {{ assetKey {{ path }} partition runId timestamp"
        f" metadataEntries {{ {_ENTRIES} }} }}"
    )


_RUN = f"__typename ... on Run {{ status {_materializations()} }} ... on PythonError {{ message }}"
_SUMMARY_RUN = f"query RetrainSummaryRun($r: ID!) {{ run: runOrError(runId: $r) {{ {_RUN} }} }}"
_STATUS = (
    "query RetrainRunStatus($r: ID!) { run: runOrError(runId: $r) {"
    " __typename ... on Run { status } } }"
)
_LATEST_METRICS = f"""
query RetrainLatestMetrics($keys: [String!]) {{
  assetOrError(assetKey: {{ path: ["metrics"] }}) {{
    __typename ... on Asset {{ {_materializations("(partitions: $keys)")} }}
  }}
}}
"""


def metadata_values(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The metadata entries of a GraphQL materialization as the values an instance's records
    give (`MetadataValue.value`): text, numbers, booleans, parsed JSON, paths, and a table as
    its records' cells."""
    return {str(entry["label"]): _value(entry) for entry in entries}


def _value(entry: Mapping[str, Any]) -> Any:
    kind = entry.get("__typename")
    if kind == "JsonMetadataEntry":
        return json.loads(entry["jsonString"])
    if kind == "IntMetadataEntry":
        return int(entry["intRepr"])
    if kind == "TableMetadataEntry":
        return [json.loads(record) for record in entry["table"]["records"]]
    for name in ("text", "floatValue", "boolValue", "path", "url", "mdStr"):
        if name in entry:
            return entry[name]
    return None  # a null entry, or a kind no line reads


def by_asset(materializations: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metadata of a run's materializations by asset name (the last one of each)."""
    return {
        "/".join(m["assetKey"]["path"]): metadata_values(m.get("metadataEntries") or [])
        for m in materializations
    }


class DeploymentRecords:
    """Fills the facts of each symbol's line from the deployment, once a run is final."""

    def __init__(self, deployment: Deployment, date: str) -> None:
        self.deployment = deployment
        self.date = date
        self._facts: dict[str, dict[str, Any]] = {}  # run id -> its line's facts

    def filled(self, statuses: Mapping[str, SymbolStatus]) -> dict[str, SymbolStatus]:
        """`statuses` with each successful run's net, trades, evidence, champion words,
        source and method (one request for the runs newly succeeded)."""
        new = [
            s.run_id
            for s in statuses.values()
            if s.status == "success" and s.run_id and s.run_id not in self._facts
        ]
        if new:
            self._facts.update(self._run_facts(new))
        return {
            symbol: entry.with_run(**self._facts[entry.run_id])
            if entry.status == "success" and entry.run_id in self._facts
            else entry
            for symbol, entry in statuses.items()
        }

    def skipped_metrics(self, statuses: Mapping[str, SymbolStatus]) -> dict[str, SymbolStatus]:
        """`statuses` with each skipped symbol's newest `metrics` facts, as a local run has
        them (`session._with_metrics`)."""
        keys = [
            symbol_day_key(self.date, s.symbol) for s in statuses.values() if s.status == "skipped"
        ]
        if not keys:
            return dict(statuses)
        data = self.deployment.query(_LATEST_METRICS, {"keys": keys})
        asset = data.get("assetOrError") or {}
        newest: dict[str, dict[str, Any]] = {}
        ordered = sorted(asset.get("assetMaterializations") or [], key=_stamp, reverse=True)
        for mat in ordered:
            newest.setdefault(str(mat["partition"]), mat)
        result = dict(statuses)
        for key, mat in newest.items():
            symbol = split_partition_key(key)[1]
            if symbol in result:
                md = metadata_values(mat.get("metadataEntries") or [])
                result[symbol] = result[symbol].with_run(**metrics_facts(md))
        return result

    def _run_facts(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        indexes = range(len(run_ids))
        params = ", ".join(f"$r{i}: ID!" for i in indexes)
        fields = "\n".join(f"r{i}: runOrError(runId: $r{i}) {{ {_RUN} }}" for i in indexes)
        variables = {f"r{i}": run_id for i, run_id in enumerate(run_ids)}
        data = self.deployment.query(f"query RetrainRunFacts({params}) {{\n{fields}\n}}", variables)
        facts = {}
        for i, run_id in enumerate(run_ids):
            assets = by_asset((data.get(f"r{i}") or {}).get("assetMaterializations") or [])
            found: dict[str, Any] = {}
            if "metrics" in assets:
                found.update(metrics_facts(assets["metrics"]))
            if "champion" in assets:
                found["champion"] = champion_words(assets["champion"])
            facts[run_id] = found
        return facts


def summarize_on(
    deployment: Deployment,
    date: str,
    tags: Mapping[str, str],
    skipped: Mapping[str, str],
    invocation: str,
    wait_s: float = SUMMARY_WAIT_S,
) -> DeploymentDesk:
    """Queue the date's summary run on the deployment (engine summary, walk-forward report,
    desk report, from its records onto its disk), wait for it, and read its table back.

    Raises:
        DeploymentError: the deployment refused the run or does not know it.
        DeploymentLost: the deployment stopped answering for longer than its patience.
    """
    run_config = {"ops": {"engine_summary": {"config": {"skipped": dict(skipped)}}}}
    run_tags = {**tags, PARTITION_TAG: date, SUMMARY_OF_TAG: invocation}
    run_id = deployment.launch(SUMMARY_JOB, run_tags, run_config=run_config, what=SUMMARY_JOB)
    deadline = time.monotonic() + wait_s
    status = _status_of(deployment, run_id)
    while status not in _FINAL and time.monotonic() < deadline:
        time.sleep(POLL_S)
        status = _status_of(deployment, run_id)
    run = deployment.query(_SUMMARY_RUN, {"r": run_id}).get("run") or {}
    return desk_of(run_id, status, by_asset(run.get("assetMaterializations") or []))


def _status_of(deployment: Deployment, run_id: str) -> str:
    run = deployment.query(_STATUS, {"r": run_id}).get("run") or {}
    if run.get("__typename") != "Run":
        raise DeploymentError(f"--submit {deployment.url}: summary run {run_id} not found")
    return str(run["status"])


def desk_of(run_id: str, status: str, assets: Mapping[str, Mapping[str, Any]]) -> DeploymentDesk:
    """The production table, headline and paths a summary run recorded; else why not."""
    desk, summary = assets.get("desk_report"), assets.get("engine_summary") or {}
    if desk is None or "production" not in desk:
        why = f"summary run {run_id} on the deployment ended {status} without a production table"
        if status not in _FINAL:
            why = (
                f"summary run {run_id} still {status} on the deployment (desk_report will show it)"
            )
        return DeploymentDesk(run_id, summary=summary.get("path"), problem=why)
    return DeploymentDesk(
        run_id,
        rows=tuple(row_from_table(cells) for cells in desk["production"]),
        headline=desk.get("headline"),
        report=desk.get("report"),
        summary=summary.get("path"),
    )


def _stamp(materialization: Mapping[str, Any]) -> float:
    return float(materialization.get("timestamp") or 0)
