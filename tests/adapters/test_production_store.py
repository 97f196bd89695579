"""The champion's files: decisions as an append-only history, the pointer derived from them."""

import json

import pytest

from retrain_assets.adapters.hashing import sha256_bytes
from retrain_assets.adapters.production_store import ProductionStore, verified_model_bytes
from retrain_assets.core.errors import IntegrityError
from retrain_assets.core.lifecycle.production import ModelRef, decide, live_history

PASSED = {"passed": True, "failing": []}
FAILED = {"passed": False, "failing": ["evidence"]}


def _model(root, as_of: str) -> ModelRef:
    folder = root / "models" / "BTCUSDT" / f"{as_of.replace('-', '')}_000000Z_run"
    folder.mkdir(parents=True)
    data = f"model of {as_of}".encode()
    (folder / "model.bin").write_bytes(data)
    entry = {"path": f"{folder.relative_to(root)}/model.bin", "sha256": sha256_bytes(data)}
    return ModelRef("BTCUSDT", as_of, "run", str(folder.relative_to(root)), {"model.bin": entry})


def _decide(store: ProductionStore, date: str, gate: dict, demotion: str | None = None) -> None:
    previous = store.champion_before("BTCUSDT", date)
    decision = decide("BTCUSDT", date, _model(store.root, date), previous, gate, demotion=demotion)
    store.record(decision)


def test_a_failing_gate_never_moves_the_pointer_and_a_passing_one_does(tmp_path):
    store = ProductionStore(tmp_path)
    _decide(store, "2025-04-01", FAILED)
    assert store.pointer("BTCUSDT") is None
    _decide(store, "2025-04-02", PASSED)
    _decide(store, "2025-04-03", FAILED)
    pointer = store.pointer("BTCUSDT")
    assert pointer["champion"]["as_of"] == "2025-04-02"
    assert pointer["decided_on"] == "2025-04-03" and pointer["live_from"] == "2025-04-03"
    kept = store.decisions("BTCUSDT")[-1]
    assert not kept.moved and kept.action == "kept"
    assert (
        kept.reason
        == "kept (champion since 2025-04-02, model as of 2025-04-02): gate failed evidence"
    )


def test_a_backfill_of_an_older_date_never_rolls_the_pointer_back(tmp_path):
    store = ProductionStore(tmp_path)
    _decide(store, "2025-04-05", PASSED)
    _decide(store, "2025-04-01", PASSED)
    assert store.pointer("BTCUSDT")["champion"]["as_of"] == "2025-04-05"


def test_a_pointer_whose_decision_changed_is_not_a_champion(tmp_path):
    store = ProductionStore(tmp_path)
    _decide(store, "2025-04-02", PASSED)
    decision = store.decision_path("BTCUSDT", "2025-04-02")
    data = json.loads(decision.read_text())
    data["champion"]["as_of"] = "2099-01-01"
    decision.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match="fails its sha256"):
        store.pointer("BTCUSDT")


def test_a_model_file_that_changed_is_refused_and_a_missing_one_is_none(tmp_path):
    ref = _model(tmp_path, "2025-04-02")
    assert verified_model_bytes(ref, tmp_path) == b"model of 2025-04-02"
    path = tmp_path / ref.files["model.bin"]["path"]
    path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match="fails its sha256"):
        verified_model_bytes(ref, tmp_path)
    path.unlink()
    assert verified_model_bytes(ref, tmp_path) is None


def test_a_symbol_that_could_climb_out_of_the_store_is_refused(tmp_path):
    with pytest.raises(Exception, match="invalid symbol"):
        ProductionStore(tmp_path).symbol_dir("../etc")


def test_dates_finishing_out_of_order_give_the_champion_of_dates_in_order(tmp_path):
    """A UI backfill runs dates in parallel: 04-03 may be decided before 04-02."""
    in_order, shuffled = ProductionStore(tmp_path / "a"), ProductionStore(tmp_path / "b")
    gates = {"2025-04-01": PASSED, "2025-04-02": PASSED, "2025-04-03": FAILED}
    for date in ("2025-04-01", "2025-04-02", "2025-04-03"):
        _decide(in_order, date, gates[date])
    for date in ("2025-04-01", "2025-04-03", "2025-04-02"):
        _decide(shuffled, date, gates[date])
    for store in (in_order, shuffled):
        pointer = store.pointer("BTCUSDT")
        assert pointer["champion"]["as_of"] == "2025-04-02", store.root
        assert pointer["live_from"] == "2025-04-03" and pointer["decided_on"] == "2025-04-03"
    history = [live_history(s.decisions("BTCUSDT")) for s in (in_order, shuffled)]
    assert history[0] == history[1]
    assert [d.model_as_of for d in history[0]] == ["2025-04-01", "2025-04-02", "2025-04-02"]


def test_a_pointer_naming_a_model_its_decision_did_not_promote_is_refused(tmp_path):
    store = ProductionStore(tmp_path)
    _decide(store, "2025-04-02", PASSED)
    path = store.pointer_path("BTCUSDT")
    pointer = json.loads(path.read_text())
    pointer["champion"]["as_of"] = "2025-04-09"
    path.write_text(json.dumps(pointer))
    with pytest.raises(IntegrityError, match="did not promote"):
        store.pointer("BTCUSDT")


def test_a_deleted_pointer_is_rebuilt_byte_for_byte_from_the_decisions(tmp_path):
    store = ProductionStore(tmp_path)
    for date, gate in (("2025-04-01", PASSED), ("2025-04-02", FAILED), ("2025-04-03", FAILED)):
        _decide(store, date, gate)
    path = store.pointer_path("BTCUSDT")
    written = path.read_bytes()
    path.unlink()
    assert store.pointer("BTCUSDT") is None
    assert store.rebuild_pointer("BTCUSDT") == path
    assert path.read_bytes() == written
    assert store.pointer("BTCUSDT")["champion"]["as_of"] == "2025-04-01"


def test_decisions_that_never_promoted_rebuild_no_pointer(tmp_path):
    store = ProductionStore(tmp_path)
    assert store.derived_pointer("BTCUSDT") is None  # no decision at all
    _decide(store, "2025-04-01", FAILED)
    assert store.rebuild_pointer("BTCUSDT") is None
    assert not store.pointer_path("BTCUSDT").exists()


def test_a_demoted_champion_leaves_production_flat_and_the_pointer_says_why(tmp_path):
    store = ProductionStore(tmp_path)
    _decide(store, "2025-04-01", PASSED)
    _decide(store, "2025-04-02", PASSED, demotion="the champion's own record is negative")
    demoted = store.decisions("BTCUSDT")[-1]
    assert demoted.demoted and demoted.action == "demoted" and demoted.champion is None
    assert not demoted.moved  # a passing gate on the day of a demotion promotes nothing
    pointer = store.pointer("BTCUSDT")
    assert pointer["champion"] is None and pointer["demoted_on"] == "2025-04-02"
    assert pointer["flat_from"] == "2025-04-03" and "negative" in pointer["reason"]
    assert store.champion_before("BTCUSDT", "2025-04-03") is None
    _decide(store, "2025-04-03", PASSED)
    assert store.pointer("BTCUSDT")["champion"]["as_of"] == "2025-04-03"


def test_a_flat_pointer_whose_decision_demoted_nothing_is_refused(tmp_path):
    store = ProductionStore(tmp_path)
    _decide(store, "2025-04-01", PASSED)
    _decide(store, "2025-04-02", PASSED, demotion="negative")
    path = store.pointer_path("BTCUSDT")
    pointer = json.loads(path.read_bytes())
    pointer["decision"]["path"] = "production/BTCUSDT/decisions/2025-04-01.json"
    first = store.decision_path("BTCUSDT", "2025-04-01").read_bytes()
    pointer["decision"]["sha256"] = sha256_bytes(first)
    path.write_text(json.dumps(pointer))
    with pytest.raises(IntegrityError, match="demoted none"):
        store.pointer("BTCUSDT")


def test_a_window_of_decisions_is_read_by_date_alone(tmp_path):
    store = ProductionStore(tmp_path)
    for date in ("2025-04-01", "2025-04-02", "2025-04-03"):
        _decide(store, date, PASSED)
    found = store.decisions_on("BTCUSDT", ["2025-04-03", "2025-04-02", "2025-04-09"])
    assert [d.date for d in found] == ["2025-04-02", "2025-04-03"]
