"""The one-machine instance's event log, with each pool-slot claim taken under a file lock.

Dagster's SQL event log claims a pool slot in several statements: count the free slots, queue
the step as assigned, then take a free slot row with `SELECT ... FOR UPDATE`. SQLite ignores
`FOR UPDATE`, so run workers that claim at the same instant can all see the same free slot:
CI saw three `model` steps train at once under a `train` pool of 2 (three queued runs of one
backfill, started within 40 ms). This storage holds an exclusive `flock` beside the database
for the length of each claim, so the claims of every process on the machine (CLI workers,
queued runs, backfills, schedule ticks) are taken one after another and the pool's limit is
exact. Releasing a slot needs no lock: it only empties a slot row. Postgres deployments keep
Dagster's own storage (`deploy/dagster.yaml`).
"""

from pathlib import Path

# The class is `@public` in Dagster and documented for dagster.yaml under this module path;
# Dagster exports it from no other module (tests/test_house.py checks the decorator).
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
    ConsolidatedSqliteEventLogStorage,
)

from retrain_assets.adapters.locks import FileLock

CLAIMS_LOCK = "pool_claims.lock"


class SerialClaimsSqliteEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """`ConsolidatedSqliteEventLogStorage` whose pool-slot claims never overlap in time."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        self._claims_lock = Path(base_dir) / CLAIMS_LOCK

    def claim_concurrency_slot(
        self, concurrency_key: str, run_id: str, step_key: str, priority: int | None = None
    ):
        """Dagster's claim, with no other process claiming between its reads and its writes."""
        with FileLock(self._claims_lock):
            return super().claim_concurrency_slot(
                concurrency_key, run_id, step_key, priority=priority
            )
