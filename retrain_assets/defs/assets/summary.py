"""The `engine_summary` asset: one date's retraining across every symbol."""

import dagster as dg
from pydantic import Field

from resources.artifact_io import ArtifactRootResource
from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.core.lifecycle.artifacts import json_bytes
from retrain_assets.core.report.desk import production_rows
from retrain_assets.core.report.summary_text import markdown_table
from retrain_assets.defs.assets.common import RETRAIN_GROUP
from retrain_assets.defs.assets.desk import production_table
from retrain_assets.defs.partitions import EVERY_SYMBOL_OF_THE_DATE, date_partitions
from retrain_assets.defs.summary_records import date_summary
from retrain_assets.vocabulary.tags import RunTags


class SummaryConfig(dg.Config):
    """What only the launcher knows: the symbols it skipped, and why."""

    skipped: dict[str, str] = Field(
        default_factory=dict,
        description="Symbols the launching invocation skipped (symbol -> reason).",
    )


@dg.asset(
    partitions_def=date_partitions,
    group_name=RETRAIN_GROUP,
    kinds={"json"},
    deps=[dg.AssetDep("metrics", partition_mapping=EVERY_SYMBOL_OF_THE_DATE)],
)
def engine_summary(
    context: dg.AssetExecutionContext, config: SummaryConfig, artifacts: ArtifactRootResource
) -> dg.MaterializeResult:
    """The day's engine summary (engine_summary.json): counts, train minutes, by-symbol results.

    Its `symbols` table is the production table (`core.desk`, the same as `desk_report`'s):
    the symbols needing attention first (failed runs, then checks failing with ERROR, then
    warnings), what production trades, yesterday's model's net, the gate window's net with
    its interval and evidence, and the problem.

    Built from the instance's run and materialization records, so failed and skipped symbols
    are included; refreshed when a launcher invocation, backfill or schedule tick finishes. A
    dry run's summary is its own instance's, under its own artifact root.
    """
    date = context.partition_key
    summary = date_summary(
        context.instance,
        date,
        skipped=config.skipped,
        requested_by=RunTags.from_tags(context.run.tags),
    )
    path = artifacts.layout().summary_file(date)
    atomic_write_bytes(path, json_bytes(summary))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "symbols": production_table(production_rows(summary)),
            "summary": dg.MetadataValue.md(markdown_table(summary)),
            "invocation": dg.MetadataValue.text(summary["invocation"] or ""),
            "total_symbols": dg.MetadataValue.int(summary["total_symbols"]),
            "succeeded": dg.MetadataValue.int(summary["succeeded"]),
            "failed": dg.MetadataValue.int(summary["failed"]),
            "skipped": dg.MetadataValue.int(summary["skipped"]),
            "total_wall_minutes": dg.MetadataValue.float(float(summary["total_wall_minutes"] or 0)),
            "estimated_cost_usd": dg.MetadataValue.float(summary["estimated_cost_usd"]),
            "made_by": dg.MetadataValue.md(
                "\n".join(
                    f"- {m['source']} · method {m['method']}: {m['symbols']} symbol(s)"
                    for m in summary["made_by"]
                )
            ),
        }
    )
