"""Planning from the ledger: skip done symbols, reuse verified partials, redo the rest."""

from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.core.hashing import sha256_bytes
from retrain_assets.defs.partitions import partition_key
from retrain_assets.engine.plan import ASSET_ORDER, plan_symbol

DATE = "2025-05-01"


def _record(instance, asset: str, path: Path, *, verified: bool = False) -> None:
    data = path.read_bytes()
    entry = {
        "path": str(path),
        "sha256": sha256_bytes(data),
        "size": len(data),
        "verified": verified,
    }
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=asset,
            partition=str(partition_key(DATE, "BTCUSDT")),
            metadata={"files": {path.name: entry}, "dry_run": False},
        )
    )


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("symbols", ["BTCUSDT"])
        yield inst


def _file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(name.encode())
    return path


def test_nothing_recorded_plans_every_asset(instance):
    plan = plan_symbol(instance, DATE, "BTCUSDT", force=False, dry_run=False)
    assert plan.assets == ASSET_ORDER and not plan.skipped


def test_a_recorded_metrics_is_skipped_unless_forced(instance, tmp_path):
    _record(instance, "metrics", _file(tmp_path, "metrics.json"))
    assert plan_symbol(instance, DATE, "BTCUSDT", force=False, dry_run=False).skipped
    assert not plan_symbol(instance, DATE, "BTCUSDT", force=False, dry_run=True).skipped
    assert plan_symbol(instance, DATE, "BTCUSDT", force=True, dry_run=False).assets == ASSET_ORDER


def test_verified_partials_are_reused_and_everything_downstream_rerun(instance, tmp_path):
    _record(instance, "costs", _file(tmp_path, "costs.json"))
    _record(instance, "features", _file(tmp_path, "features.parquet"))
    plan = plan_symbol(instance, DATE, "BTCUSDT", force=False, dry_run=False)
    assert plan.assets == ("model", "metrics") and plan.reused == ("costs", "features")


def test_a_corrupted_partial_is_redone_with_its_downstream(instance, tmp_path):
    _record(instance, "costs", _file(tmp_path, "costs.json"))
    features = _file(tmp_path, "features.parquet")
    _record(instance, "features", features)
    features.write_bytes(b"changed after it was recorded")
    plan = plan_symbol(instance, DATE, "BTCUSDT", force=False, dry_run=False)
    assert plan.assets == ("features", "model", "metrics")


def test_a_partial_gone_locally_counts_when_its_remote_copy_was_verified(instance, tmp_path):
    costs = _file(tmp_path, "costs.json")
    _record(instance, "costs", costs, verified=True)
    features = _file(tmp_path, "features.parquet")
    _record(instance, "features", features, verified=False)
    costs.unlink()
    features.unlink()
    plan = plan_symbol(instance, DATE, "BTCUSDT", force=False, dry_run=False)
    assert plan.reused == ("costs",)
