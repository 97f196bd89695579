"""Asset backfills launched the way the UI launches them: GraphQL `launchPartitionBackfill`.

The backfill record is real (asset backfill data, status, timestamps); its runs are left to
the test, since no daemon runs here, and `finish_backfill` stands in for the daemon's last step.
"""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

DEFS_FILE = Path(__file__).with_name("symbol_day_defs.py")
LAUNCH = """
mutation($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""


def launch_asset_backfill(
    instance: dg.DagsterInstance, partitions: Sequence[str], asset: Sequence[str] = ("metrics",)
) -> str:
    """Request an asset backfill of `asset` over `partitions`; returns its id."""
    params = {"partitionNames": list(partitions), "assetSelection": [{"path": list(asset)}]}
    with define_out_of_process_context(str(DEFS_FILE), "defs", instance) as context:
        result = execute_dagster_graphql(context, LAUNCH, variables={"backfillParams": params})
    answer = result.data["launchPartitionBackfill"]
    assert answer["__typename"] == "LaunchBackfillSuccess", answer
    return answer["backfillId"]


def finish_backfill(instance: dg.DagsterInstance, backfill_id: str) -> None:
    """Mark the backfill completed, as the daemon does once its runs have ended."""
    backfill = instance.get_backfill(backfill_id)
    status = type(backfill.status)  # the status enum, without importing Dagster internals
    instance.update_backfill(backfill.with_status(status("COMPLETED_SUCCESS")))
