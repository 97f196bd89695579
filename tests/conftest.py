"""Shared fixtures: a persistent Dagster home and artifact root per test, and small data."""

import os
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.launcher.home import write_instance_config

REPO = Path(__file__).resolve().parents[1]
BINANCE_DIR = Path(
    os.environ.get("RETRAIN_TEST_DATA_DIR") or REPO.parent / "shared" / "data" / "binance-spot-1h"
)


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh DAGSTER_HOME (with the repo's dagster.yaml) and artifact root for one test."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    write_instance_config(home)
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
