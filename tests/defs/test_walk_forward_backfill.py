"""A backfill of past dates reproduces the walk-forward ledger the daily runs wrote, bit for bit.

The daily runs see only the bars that existed at each day's end (the data folder is cut at the
day's close before each day runs); the backfill runs the same dates later, on a folder holding
bars well past the range. Point-in-time inputs everywhere mean the ledger files are identical.
"""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from retrain_assets.core.data.synthetic import SyntheticSource
from retrain_assets.definitions import defs
from retrain_assets.launcher.home import write_instance_config
from retrain_assets.vocabulary.keys import partition_key

SYMBOLS = ("BTCUSDT", "SOLUSDT")
DATES = ("2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04")
FULL_END = pd.Timestamp("2025-05-12", tz="UTC")


def _write_bars(folder: Path, end: pd.Timestamp) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    source = SyntheticSource()
    for symbol in SYMBOLS:
        bars, _ = source.load(symbol, end, pd.Timedelta(days=400))
        bars.to_parquet(folder / f"{symbol}.parquet", index=False)
    return folder


def _run_dates(home: Path, artifacts: Path, data_for, monkeypatch) -> dict[str, str]:
    """Runs every date in order, each symbol; returns walk_forward.json's sha256 by partition."""
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("RETRAIN_ARTIFACT_ROOT", str(artifacts))
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    job = defs.resolve_job_def("retrain_symbol_day")
    ledger: dict[str, str] = {}
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", list(SYMBOLS))
        for date in DATES:
            monkeypatch.setenv("RETRAIN_DATA_DIR", str(data_for(date)))
            for symbol in SYMBOLS:
                key = str(partition_key(date, symbol))
                assert job.execute_in_process(partition_key=key, instance=instance).success
        for record in instance.fetch_materializations(
            dg.AssetKey("walk_forward"), limit=100
        ).records:
            mat = record.asset_materialization
            ledger[str(mat.partition)] = mat.metadata["files"].value["walk_forward.json"]["sha256"]
    return ledger


@pytest.mark.slow(seconds=25)
def test_a_backfill_reproduces_the_daily_ledger_bit_for_bit(tmp_path, monkeypatch):
    def as_known_that_day(date: str) -> Path:
        end = pd.Timestamp(date, tz="UTC") + pd.Timedelta(days=1)
        return _write_bars(tmp_path / "daily-data" / date, end)

    full = _write_bars(tmp_path / "full-data", FULL_END)
    homes = {}
    for name in ("daily", "backfill"):
        homes[name] = tmp_path / name / "home"
        homes[name].mkdir(parents=True)
        write_instance_config(homes[name])

    daily = _run_dates(homes["daily"], tmp_path / "daily" / "art", as_known_that_day, monkeypatch)
    later = _run_dates(
        homes["backfill"], tmp_path / "backfill" / "art", lambda d: full, monkeypatch
    )

    assert len(daily) == len(SYMBOLS) * len(DATES)
    assert later == daily


def test_bars_after_the_traded_day_never_reach_its_ledger(tmp_path):
    """The premise of the test above: the two folders differ after the day, not before."""
    day_end = pd.Timestamp(DATES[0], tz="UTC") + pd.Timedelta(days=1)
    cut = pd.read_parquet(_write_bars(tmp_path / "cut", day_end) / "BTCUSDT.parquet")
    full = pd.read_parquet(_write_bars(tmp_path / "full", FULL_END) / "BTCUSDT.parquet")
    assert cut["timestamp"].max() < day_end <= full["timestamp"].max()
    start = max(cut["timestamp"].min(), full["timestamp"].min())
    span = [f[(f["timestamp"] >= start) & (f["timestamp"] < day_end)] for f in (cut, full)]
    assert len(span[0]) > 24 * 200
    pd.testing.assert_frame_equal(*(f.reset_index(drop=True) for f in span))
