"""The CLI's words for a decision match the state: no champion yet, kept since D, promoted,
demoted."""

from retrain_assets.launcher.ledger import champion_words


def test_a_new_install_reads_no_champion_yet_with_the_failing_conditions():
    decision = {"action": "flat", "gate_failing": "method_evidence, symbol_evidence"}
    assert champion_words(decision) == "no champion yet (method_evidence, symbol_evidence)"


def test_a_kept_champion_reads_the_date_it_went_live():
    decision = {
        "action": "kept",
        "champion_as_of": "2025-04-02",
        "champion_since": "2025-04-03",
        "gate_failing": "symbol_evidence",
    }
    assert champion_words(decision) == "kept (champion since 2025-04-03; symbol_evidence)"


def test_a_kept_champion_recorded_without_its_since_date_falls_back_to_its_as_of():
    decision = {"action": "kept", "champion_as_of": "2025-04-02", "champion_since": "none"}
    assert champion_words(decision) == "kept (champion since 2025-04-02; gate)"


def test_a_promotion_and_a_demotion_say_so():
    assert champion_words({"action": "promoted"}) == "champion promoted"
    demoted = {
        "action": "demoted",
        "reason": "demoted: live record -40.1 bps/day below zero; no production model from X",
    }
    assert champion_words(demoted) == (
        "champion demoted, now flat (live record -40.1 bps/day below zero)"
    )
