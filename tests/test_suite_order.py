"""The suite's own order and grouping (tests/conftest.py): what keeps `make test` short."""

import os
from dataclasses import dataclass, field

import pytest

from tests.conftest import _units, expected_seconds


@dataclass
class _Item:
    """A stand-in for a collected test: a name and its marks."""

    name: str
    marks: dict[str, pytest.Mark] = field(default_factory=dict)

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.marks.get(name)


def _item(name: str, seconds: float | None = None, group: str | None = None) -> _Item:
    marks = {}
    if seconds is not None:
        marks["slow"] = pytest.mark.slow(seconds=seconds).mark
    if group is not None:
        marks["xdist_group"] = pytest.mark.xdist_group(group).mark
    return _Item(name, marks)


def test_a_slow_marks_seconds_are_its_expected_time_and_other_e2e_tests_count_30():
    e2e = _Item("e2e", {"e2e": pytest.mark.e2e.mark})
    assert [expected_seconds(i) for i in (_item("a", 90), e2e, _item("quick"))] == [90, 30, 0]


def test_a_group_is_one_unit_placed_by_the_time_of_all_its_tests():
    items = [
        _item("q1"),
        _item("long", 70),
        _item("g1", 40, group="server"),
        _item("q2"),
        _item("g2", 40, group="server"),
        _item("g3", group="server"),  # quick, still with its group
        _item("mid", 60),
    ]
    units, quick = _units(items)
    assert [[i.name for i in unit] for unit in units] == [["g1", "g2", "g3"], ["long"], ["mid"]]
    assert [i.name for i in quick] == ["q1", "q2"]


@pytest.mark.xdist_group("suite_order")
def test_xdist_keeps_a_group_on_one_worker(request: pytest.FixtureRequest):
    """pytest-xdist 3.8 groups by a suffix on the test's id, which pytest 9 silently drops
    (pyproject.toml pins pytest below 9): under `make test` this test's id carries it."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not getattr(
        request.config.option, "loadgroup", False
    ):
        pytest.skip("only under `make test`'s workers (--dist loadgroup)")
    assert request.node.nodeid.endswith("@suite_order"), request.node.nodeid
