"""Shared fixtures: a persistent Dagster home and artifact root per test, and small data."""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.launcher.home import write_instance_config

REPO = Path(__file__).resolve().parents[1]
BINANCE_DIR = Path(
    os.environ.get("RETRAIN_TEST_DATA_DIR") or REPO.parent / "shared" / "data" / "binance-spot-1h"
)


@pytest.fixture(scope="session")
def empty_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DAGSTER_HOME whose instance Dagster has created and nothing has used, made once per
    test process: creating the SQLite storage costs ~0.6 CPU-s and ~2 s of fsyncs, and
    copying it a few milliseconds. The product's own set-up (`launcher.home.open_instance`,
    the `train` pool) is left to the code under test."""
    import dagster as dg

    home = tmp_path_factory.mktemp("empty_instance")
    write_instance_config(home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            instance.get_runs(limit=1)
    return home


@pytest.fixture
def dagster_home(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh DAGSTER_HOME (the repo's dagster.yaml and an unused instance; only the
    dagster.yaml under `@pytest.mark.bare_home`) and artifact root for one test."""
    home = tmp_path / "dagster_home"
    if request.node.get_closest_marker("bare_home"):
        home.mkdir()
        write_instance_config(home)
    else:
        shutil.copytree(request.getfixturevalue("empty_instance"), home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("RETRAIN_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.delenv("RETRAIN_DATA_SOURCE", raising=False)
    monkeypatch.delenv("RETRAIN_SYMBOLS", raising=False)
    return home


@pytest.fixture
def binance_dir() -> Path:
    """The real Binance 1h candles; tests using it skip when the folder is absent."""
    if not BINANCE_DIR.is_dir():
        pytest.skip(f"real market data not found at {BINANCE_DIR}")
    return BINANCE_DIR


@pytest.fixture
def synthetic_bars() -> pd.DataFrame:
    """200 days of deterministic synthetic 1h bars for one symbol."""
    from retrain_assets.core.data.synthetic import SyntheticSource

    bars, _ = SyntheticSource().load(
        "BTCUSDT", pd.Timestamp("2025-06-01", tz="UTC"), pd.Timedelta(days=200)
    )
    return bars


def expected_seconds(item: pytest.Item) -> float:
    """How long a test is expected to run on 2 cores: its `slow(seconds=N)` mark, 30 for any
    other slow or end-to-end test, 0 for the rest. Only the order of the run uses it."""
    mark = item.get_closest_marker("slow")
    if mark is not None and "seconds" in mark.kwargs:
        return float(mark.kwargs["seconds"])
    return 30.0 if mark is not None or item.get_closest_marker("e2e") else 0.0


def _units(items: list[pytest.Item]) -> tuple[list[list[pytest.Item]], list[pytest.Item]]:
    """The slow units (a slow test, or every test of one `xdist_group`: xdist runs a group on
    one worker, one after another) longest first, and the quick tests left."""
    groups: dict[str, list[pytest.Item]] = {}
    units: list[list[pytest.Item]] = []
    quick: list[pytest.Item] = []
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark is not None:
            name = str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            if name not in groups:
                groups[name] = []
                units.append(groups[name])
            groups[name].append(item)
        elif expected_seconds(item) > 0:
            units.append([item])
        else:
            quick.append(item)
    units.sort(key=lambda unit: sum(map(expected_seconds, unit)), reverse=True)
    return units, quick


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests longest first, with an even share of the quick ones after each.

    `make test` spreads the tests over workers (pytest-xdist, `--dist loadgroup`), each taking
    the next test as it frees up and holding one or two more: started first, the long
    end-to-end tests run side by side instead of ending the run one after another, and the
    quick tests between them keep a worker from queueing two long ones. A module whose tests
    share one server (`xdist_group`) stays on one worker, placed by the time of all its tests.
    """
    units, quick = _units(items)
    share = max(1, len(quick) // max(1, len(units)))
    ordered: list[pytest.Item] = []
    for n, unit in enumerate(units):
        ordered += [*unit, *quick[n * share : (n + 1) * share]]
    items[:] = ordered + quick[len(units) * share :]
