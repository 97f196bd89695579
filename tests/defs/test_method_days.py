"""The method test's pooled days: read from the records incrementally, a rebuilt day replacing
its entry, only the family's traded days of the window."""

from pathlib import Path

import dagster as dg

from retrain_assets.core.lifecycle.gate import DayNet
from retrain_assets.defs.pnl_records import family_day_nets

KEYS = ["2025-04-01|AAAUSDT", "2025-04-02|AAAUSDT", "2025-04-02|BBBUSDT", "2025-04-03|AAAUSDT"]


@dg.asset(name="walk_forward", partitions_def=dg.StaticPartitionsDefinition(KEYS))
def _ledger(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    values = context.run.tags
    return dg.MaterializeResult(
        metadata={
            "ledger_status": values.get("status", "traded"),
            "live_model_family": values.get("family", "m1@files"),
            "day_net_bps": float(values.get("net", "10")),
            "day_trades": int(values.get("trades", "2")),
        }
    )


def _write(instance: dg.DagsterInstance, key: str, **tags: str) -> None:
    result = dg.materialize([_ledger], instance=instance, partition_key=key, tags=tags)
    assert result.success


def test_pooled_days_follow_the_records_and_a_rebuilt_day_replaces_its_entry(tmp_path: Path):
    cache = tmp_path / "cache.json"
    dates = ["2025-04-01", "2025-04-02"]
    with dg.DagsterInstance.ephemeral() as instance:
        _write(instance, KEYS[0])
        _write(instance, KEYS[1], family="m0@files")  # another method's day
        _write(instance, KEYS[2], status="no_live_model")
        _write(instance, KEYS[3])  # outside the window
        assert family_day_nets(instance, dates, "m1@files", cache) == [
            DayNet("AAAUSDT", "2025-04-01", 0.001, 2)
        ]
        _write(instance, KEYS[0], net="-30", trades="5")  # the day rebuilt
        _write(instance, KEYS[2], net="20")  # now traded
        assert family_day_nets(instance, dates, "m1@files", cache) == [
            DayNet("AAAUSDT", "2025-04-01", -0.003, 5),
            DayNet("BBBUSDT", "2025-04-02", 0.002, 2),
        ]
        cache.write_text("{torn")  # a torn cache is read again from the start
        assert len(family_day_nets(instance, dates, "m1@files", cache)) == 2
