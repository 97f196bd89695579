"""Retention plans over crafted run folder names: what is kept, what is deleted and why."""

import pytest

from retrain_assets.core.lifecycle.retention import (
    Action,
    ChampionManifestError,
    Reason,
    RetentionError,
    RetentionPolicy,
    champion_in_manifest,
    folders_of_runs,
    plan_retention,
    protections,
)

SYM = "BTCUSDT"
# Oldest first; the run ids' first 8 characters end each name.
NAMES = [f"2021060{d}_010203Z_run{d}0000" for d in range(1, 7)]


def path(name: str, symbol: str = SYM) -> str:
    return f"models/{symbol}/{name}"


def actions(plan) -> dict[str, tuple[Action, Reason]]:
    return {d.path.rsplit("/", 1)[1]: (d.action, d.reason) for d in plan.folders}


def deleted(plan) -> set[str]:
    return {d.path.rsplit("/", 1)[1] for d in plan.deletions()}


@pytest.mark.parametrize(
    ("keep", "expected_deleted"),
    [
        (1, set(NAMES[:5])),
        (3, set(NAMES[:3])),
        (6, set()),
        (50, set()),
    ],
)
def test_the_newest_keep_folders_are_kept_and_the_rest_deleted(keep, expected_deleted):
    plan = plan_retention({SYM: list(reversed(NAMES))}, keep)  # input order does not matter
    assert deleted(plan) == expected_deleted
    assert len(plan.folders) == len(NAMES)
    assert all(d.reason is Reason.OLDER for d in plan.deletions())


@pytest.mark.parametrize("reason", [Reason.CHAMPION, Reason.PENDING_UPLOAD, Reason.UNFINISHED_RUN])
def test_a_protected_folder_is_kept_and_does_not_count_toward_keep(reason):
    protected = {path(NAMES[0]): reason, path(NAMES[5]): reason}
    plan = plan_retention({SYM: NAMES}, 2, protected)
    assert actions(plan)[NAMES[0]] == (Action.KEEP, reason)
    assert actions(plan)[NAMES[5]] == (Action.KEEP, reason)
    # the two newest *unprotected* folders stay besides the protected newest one
    assert actions(plan)[NAMES[4]] == (Action.KEEP, Reason.NEWEST)
    assert actions(plan)[NAMES[3]] == (Action.KEEP, Reason.NEWEST)
    assert deleted(plan) == {NAMES[1], NAMES[2]}


def test_a_plain_set_of_protected_folders_reads_as_champions():
    plan = plan_retention({SYM: NAMES}, 1, {path(NAMES[0])})
    assert actions(plan)[NAMES[0]] == (Action.KEEP, Reason.CHAMPION)


def test_the_strongest_protection_is_named_when_a_folder_has_several():
    found = protections({"a"}, {"a", "b"}, {"a", "b", "c"})
    assert found == {
        "a": Reason.CHAMPION,
        "b": Reason.UNFINISHED_RUN,
        "c": Reason.PENDING_UPLOAD,
    }


def test_unfinished_runs_protect_their_folders_by_the_run_id_prefix():
    folders = {SYM: NAMES, "ETHUSDT": ["20210601_000000Z_run30000"]}
    run_ids = ["run30000-1111-2222-3333-444455556666", "zzzzzzzz-0000"]
    expected = {path(NAMES[2]), path("20210601_000000Z_run30000", "ETHUSDT")}
    assert folders_of_runs(folders, run_ids) == expected


def test_folders_that_are_not_run_folders_are_never_deleted_nor_counted():
    plan = plan_retention({SYM: [*NAMES, "scratch", "20210601_x"]}, 1)
    assert actions(plan)["scratch"] == (Action.KEEP, Reason.UNRECOGNIZED)
    assert actions(plan)["20210601_x"] == (Action.KEEP, Reason.UNRECOGNIZED)
    assert actions(plan)[NAMES[5]] == (Action.KEEP, Reason.NEWEST)
    assert deleted(plan) == set(NAMES[:5])


def test_symbols_are_planned_independently():
    plan = plan_retention({SYM: NAMES, "ETHUSDT": NAMES[:2]}, 2)
    by_symbol = {(d.symbol, d.path.rsplit("/", 1)[1]) for d in plan.deletions()}
    assert by_symbol == {(SYM, n) for n in NAMES[:4]}


@pytest.mark.parametrize("keep", [0, -1, True, 1.5])
def test_keep_below_one_is_refused(keep):
    with pytest.raises(RetentionError, match="keep must be an integer >= 1"):
        plan_retention({SYM: NAMES}, keep)
    with pytest.raises(RetentionError, match="keep must be"):
        RetentionPolicy(keep)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"source_run_folder": "models/BTCUSDT/20210601_010203Z_abcd1234"}',
         "models/BTCUSDT/20210601_010203Z_abcd1234"),
        ('{"champion": {"source_run_folder": "models\\\\BTCUSDT\\\\20210601_010203Z_abcd1234"}}',
         "models/BTCUSDT/20210601_010203Z_abcd1234"),  # a Windows-written path reads the same
        ('{"symbol": "BTCUSDT", "champion": null}', None),
    ],
)  # fmt: skip
def test_a_manifest_names_its_champion_folder_or_none(text, expected):
    assert champion_in_manifest(text, "m.json", SYM) == expected


def test_a_manifest_naming_no_run_folder_stops_its_symbol_and_says_where():
    unreadable = rf"m\.json: unreadable manifest .*; retention of {SYM} stopped"
    with pytest.raises(ChampionManifestError, match=unreadable):
        champion_in_manifest("{not json", "m.json", SYM)
    with pytest.raises(ChampionManifestError, match=r"m\.json: source_run_folder='x' is not"):
        champion_in_manifest('{"source_run_folder": "x"}', "m.json", SYM)
