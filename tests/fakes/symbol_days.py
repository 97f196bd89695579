"""Stand-in symbol-day runs: a `metrics` asset driven by run tags.

Real runs, real records, no training: the tags say the net bps a run reports or the error it
raises, so sensor and summary tests build any mix of outcomes in well under a second a run.
"""

import dagster as dg

from retrain_assets.core.errors import DataSourceError
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import partition_tags
from retrain_assets.vocabulary.tags import is_dry_run

NET_TAG = "test/net_bps"
FAIL_TAG = "test/fail"


@dg.asset(name="metrics", partitions_def=symbol_day_partitions)
def metrics(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """A stand-in for the real `metrics`."""
    tags = context.run.tags
    if tags.get(FAIL_TAG):
        raise DataSourceError(tags[FAIL_TAG])
    metadata = {
        "net_bps_after_costs": dg.MetadataValue.float(float(tags.get(NET_TAG, "0"))),
        "trades": dg.MetadataValue.int(7),
        "train_minutes": dg.MetadataValue.float(0.5),
        "dry_run": dg.MetadataValue.bool(is_dry_run(tags)),
    }
    # Recorded as the real asset records them: figures as text (`vocabulary/figures.py`).
    return dg.MaterializeResult(metadata=unplotted(metadata))


def run_symbol_day(
    instance: dg.DagsterInstance,
    date: str,
    symbol: str,
    tags: dict[str, str],
    *,
    net: float = 0.0,
    fail: str | None = None,
) -> str:
    """Execute one symbol-day run with `tags`; returns its run id.

    Args:
        instance: The test instance (the symbol is registered as a partition if needed).
        date: The day.
        symbol: The symbol.
        tags: Run tags (usually `RunTags(...).to_tags()`).
        net: The `net_bps_after_costs` the run reports.
        fail: When set, the run fails with a `DataSourceError` of this message.
    """
    if symbol not in instance.get_dynamic_partitions("symbols"):
        instance.add_dynamic_partitions("symbols", [symbol])
    run_tags = {**tags, **partition_tags(date, symbol), NET_TAG: str(net)}
    if fail:
        run_tags[FAIL_TAG] = fail
    result = dg.materialize(
        [metrics],
        instance=instance,
        partition_key=f"{date}|{symbol}",
        tags=run_tags,
        raise_on_error=False,
    )
    return result.run_id
