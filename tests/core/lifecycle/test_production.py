"""The champion as values: decisions, their replay, the history and the pointer they give."""

import json

import pytest

from retrain_assets.core.digests import sha256_bytes
from retrain_assets.core.errors import IntegrityError
from retrain_assets.core.lifecycle.artifacts import json_bytes
from retrain_assets.core.lifecycle.production import (
    Decision,
    ModelRef,
    champion_before,
    checked_model_bytes,
    checked_pointer,
    decide,
    derive_pointer,
    failed_in_a_row,
    live_history,
    parse_decision,
    tenure,
)

PASSED = {"passed": True, "failing": []}
FAILED = {"passed": False, "failing": ["evidence"]}


def _ref(as_of: str) -> ModelRef:
    folder = f"models/BTCUSDT/{as_of.replace('-', '')}_000000Z_run"
    entry = {"path": f"{folder}/model.bin", "sha256": sha256_bytes(f"model of {as_of}".encode())}
    return ModelRef("BTCUSDT", as_of, "run", folder, {"model.bin": entry})


def _decide(decisions: list[Decision], date: str, gate: dict, demotion: str | None = None) -> None:
    previous = champion_before(decisions, date)
    decisions.append(decide("BTCUSDT", date, _ref(date), previous, gate, demotion=demotion))


def _ref_of(date: str) -> dict[str, str]:
    """A stand-in for the decision file's reference: the pure core never reads the file."""
    return {"path": f"decisions/{date}.json", "sha256": f"digest of {date}"}


def test_the_history_says_which_model_was_live_on_every_day_without_holes():
    decisions: list[Decision] = []
    for date, gate in (("2025-04-01", PASSED), ("2025-04-02", FAILED), ("2025-04-05", PASSED)):
        _decide(decisions, date, gate)
    days = [(d.day, d.model_as_of) for d in live_history(decisions)]
    assert days == [
        ("2025-04-02", "2025-04-01"),
        ("2025-04-03", "2025-04-01"),
        ("2025-04-04", "2025-04-01"),
        ("2025-04-05", "2025-04-01"),
        ("2025-04-06", "2025-04-05"),
    ]


def test_without_a_champion_there_is_nothing_to_demote():
    decision = decide("BTCUSDT", "2025-04-01", _ref("2025-04-01"), None, FAILED,
                      demotion="anything")  # fmt: skip
    assert decision.action == "flat" and decision.reason == "no champion yet: gate failed evidence"


def test_a_tenure_starts_when_production_leaves_flat_and_ends_at_a_demotion():
    decisions: list[Decision] = []
    _decide(decisions, "2025-04-01", FAILED)
    _decide(decisions, "2025-04-02", PASSED)
    _decide(decisions, "2025-04-03", PASSED)
    _decide(decisions, "2025-04-04", FAILED)
    since, during = tenure(decisions, "2025-04-05")
    assert since == "2025-04-02" and [d.date for d in during] == ["2025-04-03", "2025-04-04"]
    _decide(decisions, "2025-04-05", FAILED, demotion="stale")
    assert tenure(decisions, "2025-04-06") == (None, [])
    assert failed_in_a_row(decisions) == 2


def test_the_pointer_names_the_promoting_decision_whatever_order_dates_were_decided_in():
    gates = {"2025-04-01": PASSED, "2025-04-02": PASSED, "2025-04-03": FAILED}
    pointers = []
    # a UI backfill runs dates in parallel: 04-03 may be decided before 04-02
    for order in (sorted(gates), ["2025-04-03", "2025-04-01", "2025-04-02"]):
        decisions: list[Decision] = []
        for date in order:
            _decide(decisions, date, gates[date])
        pointers.append(derive_pointer("BTCUSDT", decisions, _ref_of))
    assert pointers[0] == pointers[1]
    assert pointers[0]["champion"]["as_of"] == "2025-04-02"
    assert pointers[0]["live_from"] == "2025-04-03" and pointers[0]["decided_on"] == "2025-04-03"
    assert pointers[0]["decision"] == _ref_of("2025-04-02")


def test_decisions_that_never_promoted_give_no_pointer_and_a_demotion_a_flat_one():
    decisions: list[Decision] = []
    assert derive_pointer("BTCUSDT", decisions, _ref_of) is None
    _decide(decisions, "2025-04-01", FAILED)
    assert derive_pointer("BTCUSDT", decisions, _ref_of) is None
    _decide(decisions, "2025-04-02", PASSED)
    _decide(decisions, "2025-04-03", FAILED, demotion="negative")
    pointer = derive_pointer("BTCUSDT", decisions, _ref_of)
    assert pointer["champion"] is None and pointer["demoted_on"] == "2025-04-03"
    assert pointer["flat_from"] == "2025-04-04" and pointer["decision"] == _ref_of("2025-04-03")


def _backed_pointer(decision: Decision) -> tuple[dict, bytes]:
    data = json_bytes(decision.to_json_dict())
    ref = {"path": f"decisions/{decision.date}.json", "sha256": sha256_bytes(data)}
    return derive_pointer("BTCUSDT", [decision], lambda _: ref), data


def test_a_pointer_is_refused_when_its_decision_does_not_back_it():
    decisions: list[Decision] = []
    _decide(decisions, "2025-04-01", PASSED)
    pointer, data = _backed_pointer(decisions[0])
    assert checked_pointer(pointer, data, "production.json") == pointer
    with pytest.raises(IntegrityError, match=r"production.json: .* fails its sha256"):
        checked_pointer(pointer, data + b" ", "production.json")
    other = json.loads(json.dumps(pointer))
    other["champion"]["as_of"] = "2025-04-09"
    with pytest.raises(IntegrityError, match="did not promote"):
        checked_pointer(other, data, "production.json")
    flat = {**pointer, "champion": None}
    with pytest.raises(IntegrityError, match="demoted none"):
        checked_pointer(flat, data, "production.json")


def test_an_unreadable_decision_or_a_changed_model_is_an_integrity_error():
    with pytest.raises(IntegrityError, match=r"d\.json: unreadable decision"):
        parse_decision(b"{not json", "d.json")
    ref = _ref("2025-04-02")
    assert checked_model_bytes(ref, b"model of 2025-04-02", "here") == b"model of 2025-04-02"
    with pytest.raises(IntegrityError, match="here fails its sha256"):
        checked_model_bytes(ref, b"tampered", "here")
