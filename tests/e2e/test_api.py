"""The Python API: the same Dagster path as the CLI, one result per symbol, pluggable trainer."""

import pytest

from retrain_assets.api import SchedulerConfig, TrainingMode, retrain
from retrain_assets.core.errors import InvalidSymbolError
from tests.e2e.conftest import DATE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_retrain_returns_one_result_per_symbol_with_paths_and_metrics(artifacts):
    config = SchedulerConfig(mode=TrainingMode.HYBRID, max_concurrent=2, dry_run=True, date=DATE)
    results = retrain(["BTCUSDT", "ETHUSDT"], config)
    assert [r.symbol for r in results] == ["BTCUSDT", "ETHUSDT"]
    for result in results:
        assert result.status == "success" and result.run_id
        assert result.metrics["status"] in ("ok", "insufficient_evidence")
        assert result.metrics["symbol"] == result.symbol and result.metrics["trades"] >= 0
        assert result.run_folder.startswith(str(artifacts / "dry_run" / "models" / result.symbol))

    again = retrain(["BTCUSDT"], config)
    assert again[0].status == "skipped" and "already done" in again[0].skip_reason


def test_a_desks_own_trainer_plugs_in_by_import_path(artifacts, monkeypatch):
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:NoopTrainer")
    results = retrain(["SOLUSDT"], SchedulerConfig(dry_run=True, date=DATE))
    assert results[0].status == "success"
    assert results[0].metrics["trainer"] == "noop"
    assert results[0].metrics["trades"] == 0  # a model that predicts nothing never trades


def test_bad_symbols_raise_before_any_work(artifacts):
    with pytest.raises(InvalidSymbolError):
        retrain(["BTCUSDT", "../../etc"], SchedulerConfig(dry_run=True, date=DATE))
    assert not (artifacts / "models").exists()
