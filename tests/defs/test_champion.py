"""The champion through a real instance: the gate moves the pointer, or it stays put.

Crafted data: TRENDUSDT rises 12 hours, falls 12, and so on, while CHOPUSDT turns every 2
hours; `MomentumTrainer` follows each bar's last return, so by construction the walk-forward
record of TREND makes money after costs, and CHOP's models are wrong-footed (their calibration
slope is 0 and they stay flat).
"""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.api import load_production_model
from retrain_assets.core.errors import IntegrityError, PermanentError
from retrain_assets.core.lifecycle.production import live_history
from retrain_assets.definitions import defs
from retrain_assets.vocabulary.figures import figure, whole
from retrain_assets.vocabulary.keys import partition_key
from tests.fakes.markets import write_market, zigzag_bars

END = pd.Timestamp("2025-05-01", tz="UTC")
DATES = ("2025-04-21", "2025-04-22", "2025-04-23", "2025-04-24", "2025-04-25", "2025-04-26")
TRAINING = {"lookback_days": 120, "test_days": 10, "validation_days": 5, "min_trades": 5}


@pytest.fixture
def crafted(dagster_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = write_market(
        tmp_path / "data",
        {
            "TRENDUSDT": zigzag_bars(END, 130, block_bars=12, seed=1),
            "CHOPUSDT": zigzag_bars(END, 130, block_bars=2, seed=2),
        },
    )
    monkeypatch.setenv("RETRAIN_DATA_SOURCE", "files")
    monkeypatch.setenv("RETRAIN_DATA_DIR", str(data))
    monkeypatch.setenv("RETRAIN_TRAINER", "tests.fakes.trainers:MomentumTrainer")
    return Path(str(dagster_home))


# A short history: the method test may pass after 3 pooled days at a 20% error rate (the
# defaults wait for 7 days at 5%, see docs/lifecycle.md).
GATE = {"window_days": 30, "alpha": 0.2, "planned_days": 5, "min_method_days": 3}


def _run(instance: dg.DagsterInstance, date: str, symbol: str, min_trades: int = 5, **gate) -> dict:
    """Run one symbol-day; return the champion's metadata and the gate's evaluation."""
    promotion = {**GATE, "min_trades": min_trades, **gate}
    config = {
        "resources": {
            "training": {"config": TRAINING},
            "promotion": {"config": promotion},
        }
    }
    result = defs.resolve_job_def("retrain_symbol_day").execute_in_process(
        partition_key=str(partition_key(date, symbol)), instance=instance, run_config=config
    )
    assert result.success
    (gate,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "promotion_gate"]
    mat = next(
        m for m in result.get_asset_materialization_events() if m.asset_key.path == ["champion"]
    )
    metadata = {k: v.value for k, v in mat.materialization.metadata.items()}
    return {"gate": gate, **metadata}


def _root() -> Path:
    from resources.settings import artifact_root

    return artifact_root(None)


@pytest.mark.slow(seconds=12)
def test_a_passing_gate_moves_the_pointer_and_a_failing_one_never_does(crafted):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["TRENDUSDT", "CHOPUSDT"])
        trend = [_run(instance, d, "TRENDUSDT") for d in DATES]
        chop = [_run(instance, d, "CHOPUSDT") for d in DATES]

    # The first day has no walk-forward record: too little evidence, a warning, no champion.
    assert trend[0]["gate"].passed is False
    assert trend[0]["gate"].severity == dg.AssetCheckSeverity.WARN
    assert trend[0]["moved"] is False and trend[0]["champion_as_of"] == "none"
    # Once the record holds enough trades that make money after costs, the pointer moves.
    assert trend[-1]["gate"].passed is True, trend[-1]["gate"].description
    assert trend[-1]["moved"] is True and trend[-1]["champion_as_of"] == DATES[-1]
    assert figure(trend[-1]["window_net_bps_lo"]) > 0 and figure(trend[-1]["method_net_bps_lo"]) > 0
    assert trend[-1]["action"] == "promoted"
    assert trend[-1]["gate_window"].startswith("![TRENDUSDT](data:image/png;base64,")
    live = load_production_model("TRENDUSDT")
    assert live.as_of == DATES[-1]
    assert live.model_bytes == f"momentum:TRENDUSDT:{DATES[-1]}".encode()

    # CHOP's models are wrong-footed: calibrated on validation data their slope is 0, so they
    # stay out of the market, and with no evidence of their own they never become champion
    # while the method works on TREND.
    assert all(not day["gate"].passed for day in chop)
    assert "symbol_evidence" in chop[-1]["gate_failing"]
    assert chop[-1]["gate"].severity == dg.AssetCheckSeverity.WARN  # no trades: no evidence
    assert chop[-1]["action"] == "flat" and chop[-1]["reason"].startswith("no champion yet")
    assert all(day["moved"] is False for day in chop)
    assert ProductionStore(_root()).pointer("CHOPUSDT") is None
    with pytest.raises(PermanentError, match="CHOPUSDT has no production model"):
        load_production_model("CHOPUSDT")


@pytest.mark.slow(seconds=8)
def test_yesterdays_champion_stays_live_when_todays_gate_fails(crafted):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["TRENDUSDT"])
        for date in DATES:
            _run(instance, date, "TRENDUSDT")
        kept = _run(instance, "2025-04-27", "TRENDUSDT", min_trades=10_000)

    assert kept["gate"].passed is False and kept["moved"] is False
    assert kept["champion_as_of"] == DATES[-1]
    assert kept["action"] == "kept" and kept["reason"].startswith("kept (champion since ")
    assert load_production_model("TRENDUSDT").as_of == DATES[-1]
    store = ProductionStore(_root())
    days = live_history(store.decisions("TRENDUSDT"))
    assert [(d.day, d.model_as_of) for d in days][-2:] == [
        ("2025-04-27", DATES[-1]),
        ("2025-04-28", DATES[-1]),
    ]


@pytest.mark.slow(seconds=6)
def test_a_champion_is_read_back_from_the_store_and_refused_when_a_copy_changed(
    crafted, tmp_path, monkeypatch
):
    store = tmp_path / "store"  # a separate local store: the uploads' remote copies
    monkeypatch.setenv("RETRAIN_LOCAL_STORE_ROOT", str(store))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["TRENDUSDT"])
        for date in DATES:
            _run(instance, date, "TRENDUSDT")
    live = load_production_model("TRENDUSDT")
    entry = live.reference.files["model.bin"]
    local = _root() / entry["path"]
    local.write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match="fails its sha256"):
        load_production_model("TRENDUSDT")

    local.unlink()  # gone locally: downloaded from the store and verified
    assert load_production_model("TRENDUSDT").model_bytes == live.model_bytes
    (store / entry["remote_path"]).write_bytes(b"tampered remote")
    with pytest.raises(IntegrityError, match=r"the remote model\.bin at .* fails its sha256"):
        load_production_model("TRENDUSDT")


@pytest.mark.slow(seconds=8)
def test_a_champion_whose_gate_keeps_failing_is_demoted_and_production_goes_flat(crafted):
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["TRENDUSDT"])
        for date in DATES:
            _run(instance, date, "TRENDUSDT")
        kept = _run(instance, "2025-04-27", "TRENDUSDT", min_trades=10_000)
        demoted = _run(
            instance, "2025-04-28", "TRENDUSDT", min_trades=10_000, demote_after_failed_days=2
        )

    assert kept["action"] == "kept" and kept["live_model_as_of"] == DATES[-1]
    # The champion's own live record of the day is kept with the decision.
    assert whole(kept["live_day_trades"]) >= 0 and figure(kept["live_day_net_bps"]) is not None
    assert demoted["action"] == "demoted" and demoted["demoted"] is True
    assert demoted["champion_as_of"] == "none"
    assert "the gate failed on 2 dates in a row" in demoted["reason"]
    pointer = ProductionStore(_root()).pointer("TRENDUSDT")
    assert pointer["champion"] is None and pointer["flat_from"] == "2025-04-29"
    with pytest.raises(PermanentError, match="demoted on 2025-04-28"):
        load_production_model("TRENDUSDT")
