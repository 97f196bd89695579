"""Method families: only the current family's days are pooled."""

from retrain_assets.core.data.families import describe, split_by_family
from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL, TRADED, DayPnl


def _day(day: str, family: str | None, status: str = TRADED) -> DayPnl:
    return DayPnl("BTCUSDT", day, "x", status, None, None, model_family=family)


def test_only_the_current_familys_days_are_pooled_and_every_family_is_listed():
    days = [
        _day("2021-06-01", "old@synthetic"),
        _day("2021-06-02", "old@synthetic"),
        _day("2021-06-03", "new@files"),
        _day("2021-06-04", None),
        _day("2021-06-05", None, status=NO_LIVE_MODEL),
    ]
    pooled, families = split_by_family(days, "new@files")
    assert [d.day for d in pooled] == ["2021-06-03", "2021-06-05"]
    assert [(f.key, f.first_day, f.last_day, f.days, f.current) for f in families] == [
        ("old@synthetic", "2021-06-01", "2021-06-02", 2, False),
        ("new@files", "2021-06-03", "2021-06-03", 1, True),
        ("unrecorded", "2021-06-04", "2021-06-04", 1, False),
    ]
    assert "left out" in describe(families).splitlines()[0]
    assert families[1].to_json_dict()["source"] == "files"
