"""`load_production_model` when the pointer is gone: rebuilt from the decisions, or refused."""

import logging

import pytest

from retrain_assets import api
from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.core.errors import PermanentError
from tests.adapters.test_production_store import FAILED, PASSED, _decide


def _store(tmp_path) -> ProductionStore:
    store = ProductionStore(tmp_path)
    for date, gate in (("2025-04-01", PASSED), ("2025-04-02", FAILED)):
        _decide(store, date, gate)
    store.pointer_path("BTCUSDT").unlink()
    return store


def test_a_missing_pointer_is_rebuilt_rewritten_and_reported(tmp_path, caplog):
    store = _store(tmp_path)
    with caplog.at_level(logging.WARNING, logger="retrain_assets.api"):
        live = api.load_production_model("BTCUSDT", tmp_path)
    assert live.as_of == "2025-04-01" and live.model_bytes == b"model of 2025-04-01"
    expected = "production/BTCUSDT/production.json was missing: rebuilt from 2 decisions"
    assert live.note == f"{expected} (rewritten)" and expected in caplog.text
    assert store.pointer("BTCUSDT") == live.pointer


def test_a_root_that_cannot_be_written_still_gets_the_replayed_champion(tmp_path, monkeypatch):
    store = _store(tmp_path)

    class ReadOnly:
        def __init__(self, path):
            self.path = path

        def __enter__(self):
            raise PermissionError(13, "Permission denied", str(self.path))

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(api, "FileLock", ReadOnly)
    live = api.load_production_model("BTCUSDT", tmp_path)
    assert live.as_of == "2025-04-01" and "not saved: PermissionError" in live.note
    assert store.pointer("BTCUSDT") is None


def test_decisions_that_never_promoted_still_mean_no_champion(tmp_path):
    _decide(ProductionStore(tmp_path), "2025-04-01", FAILED)
    with pytest.raises(PermanentError, match="no model has passed the gate yet"):
        api.load_production_model("BTCUSDT", tmp_path)
