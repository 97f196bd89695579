"""The model asset reports its live model's health: tree count, best iteration, calibration."""

import dagster as dg

from retrain_assets.core.calibration import TREE_FLOOR
from retrain_assets.definitions import defs
from retrain_assets.defs.figures import whole
from retrain_assets.defs.partitions import partition_key

KEY = str(partition_key("2025-05-01", "BTCUSDT"))


def _run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
    job = defs.resolve_job_def("retrain_symbol_day")
    result = job.execute_in_process(partition_key=KEY, instance=instance, tags=tags)
    assert result.success
    return result


def _tree_floor(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == TREE_FLOOR]
    return check


def test_the_model_metadata_has_its_trees_best_iteration_and_calibration(dagster_home):
    with dg.DagsterInstance.get() as instance:
        result = _run(instance, {"retrain/dry_run": "true"})
        meta = instance.get_latest_materialization_event(
            dg.AssetKey("model")
        ).asset_materialization.metadata
    assert whole(meta["live_trees"]) == 10  # a dry run's budget, below `min_trees`: its floor
    assert whole(meta["min_trees"]) == 50
    assert {"best_iteration", "calibration_slope", "calibration_rows"} <= set(meta)
    assert (whole(meta["calibration_rows"]) or 0) > 0
    assert _tree_floor(result).passed


def test_a_live_model_below_the_tree_floor_is_a_warning_naming_it(dagster_home, monkeypatch):
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:OneTreeTrainer")
    with dg.DagsterInstance.get() as instance:
        check = _tree_floor(_run(instance, {}))
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.description == "live model BTCUSDT 2025-05-01 has 1 trees, below the floor of 50"
