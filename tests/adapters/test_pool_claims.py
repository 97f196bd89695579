"""The one-machine event log takes pool-slot claims one at a time, whatever claims at once."""

import multiprocessing
from pathlib import Path

import pytest

from retrain_assets.adapters.pool_claims import SerialClaimsSqliteEventLogStorage

POOL = "train"
CLAIMERS = 6


def _claim(base_dir: str, run_id: str, barrier, claimed) -> None:
    storage = SerialClaimsSqliteEventLogStorage(base_dir)
    barrier.wait()
    status = storage.claim_concurrency_slot(POOL, run_id, "model")
    if status.is_claimed:
        claimed.append(run_id)


def _race(base_dir: Path, limit: int) -> list[str]:
    """`CLAIMERS` processes claim a slot of the pool at the same instant; who got one."""
    storage = SerialClaimsSqliteEventLogStorage(str(base_dir))
    storage.set_concurrency_slots(POOL, limit)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CLAIMERS)
    with context.Manager() as manager:
        claimed = manager.list()
        workers = [
            context.Process(target=_claim, args=(str(base_dir), f"run-{i}", barrier, claimed))
            for i in range(CLAIMERS)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        return list(claimed)


@pytest.mark.parametrize("round_", range(3))
def test_claims_made_at_the_same_instant_never_exceed_the_pool(tmp_path: Path, round_: int):
    claimed = _race(tmp_path, limit=2)
    assert len(claimed) == 2, claimed
    storage = SerialClaimsSqliteEventLogStorage(str(tmp_path))
    info = storage.get_concurrency_info(POOL)
    assert {slot.run_id for slot in info.claimed_slots} == set(claimed)
    assert info.pending_step_count == CLAIMERS - 2  # the others wait their turn


def test_a_freed_slot_goes_to_a_waiting_claim(tmp_path: Path):
    claimed = _race(tmp_path, limit=1)
    storage = SerialClaimsSqliteEventLogStorage(str(tmp_path))
    storage.free_concurrency_slots_for_run(claimed[0])
    waiting = [f"run-{i}" for i in range(CLAIMERS) if f"run-{i}" != claimed[0]]
    statuses = [storage.claim_concurrency_slot(POOL, run_id, "model") for run_id in waiting]
    assert sum(s.is_claimed for s in statuses) == 1
