"""Issue 18: a symbol or a data source the runs cannot use is refused before anything is
registered, and a symbol registered by mistake can be removed again, through the real CLI."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.core.errors import InvalidSymbolError
from tests.e2e.conftest import DATE, REPO, run_cli
from tests.fakes.fake_binance import FakeBinanceState, fake_binance

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOOP = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}


def _refused(result: subprocess.CompletedProcess, *expected: str) -> str:
    """The one error line of a run refused as bad input (exit 2), checked for `expected`."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("retrain: error: "), lines
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def _nothing_registered(home: Path) -> None:
    """No database was created in the home, so no partition, run or event was written."""
    assert not list(home.rglob("*.db")), list(home.rglob("*.db"))
    with dg.DagsterInstance.get() as instance:
        assert "FOOBAR" not in instance.get_dynamic_partitions("symbols")
        assert not instance.get_run_records()


@pytest.fixture
def exchange_api() -> Iterator[tuple[str, FakeBinanceState]]:
    """Binance's API on 127.0.0.1 listing BTC/USDT and ETH/USDT; yields its URL and state."""
    state = FakeBinanceState(
        listed={"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT")}, first_ms=0, last_ms=0
    )
    with fake_binance(state) as url:
        yield url, state


@pytest.mark.bare_home
def test_foobar_on_the_synthetic_source_is_refused_and_nothing_registered(
    artifacts: Path, dagster_home: Path
) -> None:
    result = run_cli("--symbols", "BTCUSDT,FOOBAR", "--date", DATE)

    line = _refused(result, "--symbols: FOOBAR is not a symbol of the synthetic source")
    print(line)
    _nothing_registered(dagster_home)
    assert not artifacts.exists()


@pytest.mark.bare_home
def test_foobar_on_the_files_source_is_refused_and_nothing_registered(
    dagster_home: Path, binance_dir: Path
) -> None:
    env = {"RETRAIN_DATA_SOURCE": "files", "RETRAIN_DATA_DIR": str(binance_dir)}

    result = run_cli("--symbols", "FOOBAR", "--date", DATE, env=env)

    line = _refused(result, f"FOOBAR is not a symbol of the files source ({binance_dir}")
    print(line)
    _nothing_registered(dagster_home)


@pytest.mark.bare_home
def test_foobar_on_the_exchange_source_is_refused_and_nothing_registered(
    dagster_home: Path, exchange_api: tuple[str, FakeBinanceState]
) -> None:
    url, state = exchange_api
    env = {"RETRAIN_DATA_SOURCE": "exchange", "RETRAIN_EXCHANGE_API_URL": url}

    result = run_cli("--symbols", "ETHUSDT,FOOBAR", "--date", DATE, env=env)

    line = _refused(result, "FOOBAR is not a symbol of the exchange source (binance at ")
    print(line)
    assert line.endswith("known: BTCUSDT, ETHUSDT")
    assert state.requests and all(r.startswith("/api/v3/exchangeInfo") for r in state.requests)
    _nothing_registered(dagster_home)


@pytest.mark.bare_home
def test_foobar_with_submit_is_refused_before_the_deployment_is_asked(
    dagster_home: Path,
) -> None:
    # Nothing listens on port 9: a symbol checked after contacting it would fail differently.
    result = run_cli("--symbols", "FOOBAR", "--submit", "http://127.0.0.1:9", "--date", DATE)

    _refused(result, "--symbols: FOOBAR is not a symbol of the synthetic source")
    _nothing_registered(dagster_home)


@pytest.mark.bare_home
def test_foobar_through_the_python_api_raises_and_registers_nothing(dagster_home: Path) -> None:
    from retrain_assets.api import SchedulerConfig, retrain

    with pytest.raises(InvalidSymbolError, match="FOOBAR is not a symbol of the synthetic"):
        retrain(["BTCUSDT", "FOOBAR"], SchedulerConfig(date=DATE))
    _nothing_registered(dagster_home)


def _unreadable_folder(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "candles"
    folder.mkdir()
    (folder / "BTC_USDT-1h.json").write_text("this is not JSON")
    return {"RETRAIN_DATA_SOURCE": "files", "RETRAIN_DATA_DIR": str(folder)}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"RETRAIN_DATA_SOURCE": "files", "RETRAIN_DATA_DIR": "/nonexistent"},
            "RETRAIN_DATA_DIR: market-data folder '/nonexistent' does not exist",
        ),
        (
            {"RETRAIN_DATA_SOURCE": "exchange", "RETRAIN_EXCHANGE": "nosuchexchange"},
            "RETRAIN_EXCHANGE: unknown ccxt exchange 'nosuchexchange'",
        ),
        (
            {"RETRAIN_DATA_SOURCE": "parquet"},
            "RETRAIN_DATA_SOURCE: unknown market-data source 'parquet'",
        ),
        (None, "--symbols: BTCUSDT: "),  # an unreadable candle file, built per test
    ],
    ids=["missing-folder", "unknown-exchange", "unknown-source", "unreadable-file"],
)
def test_an_unusable_data_source_is_one_line_exit_2_and_creates_nothing(
    tmp_path: Path, env: dict[str, str] | None, expected: str
) -> None:
    home, root = tmp_path / "new_home", tmp_path / "new_artifacts"
    env = env or _unreadable_folder(tmp_path)
    env = {**env, "DAGSTER_HOME": str(home), "RETRAIN_ARTIFACT_ROOT": str(root)}

    result = run_cli("--symbols", "BTCUSDT", "--date", DATE, env=env)

    assert not home.exists() and not root.exists(), result.stdout + result.stderr
    print(_refused(result, expected))


def _materialize_the_old_way(symbol: str) -> None:
    """What an old version allowed: the symbol added as a partition, its symbol-day run."""
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", [symbol])
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-m",
            "retrain_assets.definitions",
            "--select",
            "costs,features,model,walk_forward,metrics,champion",
            "--partition",
            f"{DATE}|{symbol}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **NOOP, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _summary_and_report(artifacts: Path) -> tuple[dict, str]:
    folder = artifacts / "summary" / (DATE.replace("-", "") + "Z")
    summary = json.loads((folder / "engine_summary.json").read_text())
    return summary, (folder / "walk_forward.json").read_text()


def test_the_removal_command_removes_a_symbol_from_partitions_summary_and_report(
    artifacts: Path, dagster_home: Path
) -> None:
    _materialize_the_old_way("FOOBAR")
    trained = run_cli("--symbols", "BTCUSDT", "--date", DATE, env=NOOP)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    summary, report = _summary_and_report(artifacts)
    assert set(summary["by_symbol"]) == {"BTCUSDT", "FOOBAR"}
    assert "FOOBAR" in report

    removed = run_cli("--remove_symbol", "foobar")

    assert removed.returncode == 0, removed.stdout + removed.stderr
    print(removed.stdout)
    assert removed.stdout.splitlines()[0] == "removed FOOBAR: no longer a `symbols` partition"
    assert f"refreshed engine_summary of {DATE} (without FOOBAR)" in removed.stdout
    assert f"refreshed walk_forward_report of {DATE} (without FOOBAR)" in removed.stdout
    assert f"refreshed desk_report of {DATE} (without FOOBAR)" in removed.stdout
    summary, report = _summary_and_report(artifacts)
    assert set(summary["by_symbol"]) == {"BTCUSDT"} and summary["total_symbols"] == 1
    assert "FOOBAR" not in report
    with dg.DagsterInstance.get() as instance:
        assert instance.get_dynamic_partitions("symbols") == ["BTCUSDT"]
        latest = instance.get_latest_materialization_event(dg.AssetKey("engine_summary"))
        assert latest.asset_materialization.metadata["total_symbols"].value == 1
        kept = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition/symbol": "FOOBAR"}))
        assert kept  # its history stays
    assert (artifacts / "models" / "FOOBAR").is_dir()  # so do its files, until removed by hand

    again = run_cli("--remove_symbol", "FOOBAR")
    print(
        _refused(again, "--remove_symbol: FOOBAR is not a registered symbol (registered: BTCUSDT)")
    )
