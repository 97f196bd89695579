"""The model asset reports its live model's health: tree count, best iteration, calibration,
CatBoost's feature importance; the walk-forward report shows the health of each live model."""

import json
from pathlib import Path

import dagster as dg

from resources.uploads import metadata_value
from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.core.lifecycle.production import ModelRef, decide
from retrain_assets.core.model.calibration import TREE_FLOOR
from retrain_assets.core.model.features import FEATURE_NAMES
from retrain_assets.definitions import defs
from retrain_assets.defs.adoption import Trained, adopted_output
from retrain_assets.defs.model_health import live_health_table, model_health
from retrain_assets.vocabulary.figures import whole
from retrain_assets.vocabulary.keys import partition_key

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


def _model_metadata(instance: dg.DagsterInstance) -> dict[str, dg.MetadataValue]:
    event = instance.get_latest_materialization_event(dg.AssetKey("model"))
    return dict(event.asset_materialization.metadata)


def test_the_model_metadata_has_its_trees_best_iteration_and_calibration(dagster_home):
    with dg.DagsterInstance.get() as instance:
        result = _run(instance, {"retrain/dry_run": "true"})
        meta = _model_metadata(instance)
    assert whole(meta["live_trees"]) == 10  # a dry run's budget, below `min_trees`: its floor
    assert whole(meta["min_trees"]) == 50
    assert {"best_iteration", "calibration_slope", "calibration_rows"} <= set(meta)
    assert (whole(meta["calibration_rows"]) or 0) > 0
    assert _tree_floor(result).passed


def test_the_model_records_its_health_with_catboosts_feature_importance(dagster_home):
    with dg.DagsterInstance.get() as instance:
        _run(instance, {"retrain/dry_run": "true"})
        meta = _model_metadata(instance)
        read_back = model_health(instance, [KEY, "2025-04-30|BTCUSDT"])
    health = meta["model_health"].value
    assert health["trees"] == 10
    assert health["best_iteration"] == whole(meta["best_iteration"])
    importance = health["feature_importance"]
    assert 0 < len(importance) <= 10
    assert {r["feature"] for r in importance} <= set(FEATURE_NAMES)
    assert all(isinstance(r["importance"], float) for r in importance)
    table = meta["feature_importance"].value
    assert [c.name for c in table.schema.columns] == ["feature", "importance"]
    assert [r.data for r in table.records] == importance
    config = json.loads(Path(meta["files"].value["config.json"]["path"]).read_text())
    assert config["model_health"] == health  # kept with the model's files
    assert read_back == {KEY: health}  # the other date has no model: absent
    # A run asked for the same symbol-day meanwhile adopts the model with its health.
    values = {k: metadata_value(v) for k, v in meta.items()}
    adopted = adopted_output(Trained("other-run", values)).metadata
    assert adopted["model_health"].value == health
    assert adopted["feature_importance"].value.records == table.records


def test_a_trainer_without_importances_records_none_and_no_table(dagster_home, monkeypatch):
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:NoopTrainer")
    with dg.DagsterInstance.get() as instance:
        _run(instance, {"retrain/dry_run": "true"})
        meta = _model_metadata(instance)
    assert meta["model_health"].value["feature_importance"] is None
    assert "feature_importance" not in meta


def test_a_live_model_below_the_tree_floor_is_a_warning_naming_it(dagster_home, monkeypatch):
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:OneTreeTrainer")
    with dg.DagsterInstance.get() as instance:
        result = _run(instance, {})
        health = _model_metadata(instance)["model_health"].value
    check = _tree_floor(result)
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.description == "live model BTCUSDT 2025-05-01 has 1 trees, below the floor of 50"
    facts = {k: v.value for k, v in check.metadata.items()}
    assert facts == {  # text, not numbers: the UI would plot numbers across symbols
        "model": "BTCUSDT 2025-05-01",
        "trees": "1",
        "min_trees": "50",
        "best_iteration": "0",
    }
    assert health["trees"] == 1  # the model's own record agrees with the check
    assert 0 < len(health["feature_importance"]) <= 6  # one tree of depth 6 splits on <= 6


def _record_model(instance: dg.DagsterInstance, pkey: str, health: dict | None) -> None:
    metadata = {} if health is None else {"model_health": dg.MetadataValue.json(health)}
    instance.report_runless_asset_event(
        dg.AssetMaterialization("model", partition=pkey, metadata=metadata)
    )


def _ref(symbol: str, as_of: str) -> ModelRef:
    entry = {"path": f"models/{symbol}/{as_of}/model.bin", "sha256": "0" * 64}
    return ModelRef(symbol, as_of, "run", f"models/{symbol}/{as_of}", {"model.bin": entry})


def test_the_report_table_shows_the_model_that_traded_the_date(dagster_home, tmp_path):
    store = ProductionStore(tmp_path / "artifacts")
    # BTCUSDT's model of 04-28 was promoted: it is the champion live on 05-02.
    store.record(
        decide("BTCUSDT", "2025-04-28", _ref("BTCUSDT", "2025-04-28"), None, {"passed": True})
    )
    importance = [
        {"feature": "rvol_168", "importance": 60.0},
        {"feature": "ret_24", "importance": 40.0},
    ]
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"])
        _record_model(
            instance,
            "2025-04-28|BTCUSDT",
            {"trees": 120, "best_iteration": 119, "feature_importance": importance},
        )
        _record_model(
            instance,
            "2025-05-01|BTCUSDT",
            {"trees": 2, "best_iteration": 1, "feature_importance": None},
        )
        _record_model(
            instance,
            "2025-05-01|ETHUSDT",
            {"trees": 2, "best_iteration": 1, "feature_importance": None},
        )
        _record_model(instance, "2025-05-01|SOLUSDT", None)  # recorded before health was kept
        table = live_health_table(instance, store, "2025-05-02").value
    rows = {r.data["symbol"]: r.data for r in table.records}
    assert len(table.schema.columns) <= 8
    assert rows["BTCUSDT"] == {
        "symbol": "BTCUSDT", "model": "champion", "as_of": "2025-04-28", "trees": 120,
        "best_iteration": 119, "top_features": "rvol_168 60.0%, ret_24 40.0%",
    }  # fmt: skip
    assert rows["ETHUSDT"] == {
        "symbol": "ETHUSDT", "model": "newest", "as_of": "2025-05-01", "trees": 2,
        "best_iteration": 1, "top_features": "not reported",
    }  # fmt: skip
    assert rows["SOLUSDT"]["top_features"] == "not recorded" and rows["SOLUSDT"]["trees"] is None
    assert rows["XRPUSDT"]["model"] == "none" and rows["XRPUSDT"]["as_of"] is None
