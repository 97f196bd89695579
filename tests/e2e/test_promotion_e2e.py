"""The promotion decision through the CLI on markets whose truth is known (issue 19).

`bench/planted_market.py` writes the bars: AR(1) hourly returns, momentum at lag 1 (`phi`
0.5) that the default CatBoost models learn from `logret_1`, or random walks (`phi` 0). The
CLI runs 16 dates in order with the default trainer; the gate is the product's, with its
windows shortened in the settings file so a short history can reach each decision (the
defaults wait for 7 pooled days and demote after 10 failing dates, see docs/lifecycle.md).

- On the planted market the method's pooled record clears zero and symbols are promoted; the
  symbol whose edge vanishes on day 11 loses its costs and is demoted (its own live record
  negative over its last 5 live days, or its gate failing 3 dates in a row).
- On random walks with costs set to zero, calibration off and a one-bar hold, the noise-fit
  models trade hundreds of times, and nothing is promoted. Three symbols over 11 dates: the
  method's pooled record holds its 5 days from the 7th date on, so the last 5 decisions are
  taken on a record, not on its absence. The gate's error rates over many markets are
  `tests/core/lifecycle/test_gate_error_rates.py`'s.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.planted_market import PlantedSymbol, write_market
from retrain_assets.adapters.production_store import ProductionStore
from tests.e2e.conftest import run_cli

FIRST, LAST = "2021-07-01", "2021-07-16"
NULL_LAST = "2021-07-11"
EDGE = ("AAAUSDT", "BBBUSDT", "CCCUSDT")
FADE = "FADEUSDT"
VANISH = pd.Timestamp("2021-07-11", tz="UTC")
GATE = "promotion:\n  min_method_days: 5\n  demote_window_days: 5\n  demote_after_failed_days: 3\n"
# Costs at zero, calibration off and a one-bar hold: the noise-fit models trade on the sign of
# every hour's prediction (141 trades over 60 symbol-days with the default 4-bar hold).
NO_COSTS = (
    "cost_model:\n  taker_fee_bps: 0\n  maker_fee_bps: 0\n  impact_k: 0\n"
    "  quoted_spread_bps: {AAAUSDT: 0, BBBUSDT: 0, CCCUSDT: 0}\n"
    "training:\n  calibrate: false\n  horizon_bars: 1\n"
)


def _run_market(
    tmp: Path, specs: list[PlantedSymbol], settings: str, last: str = LAST
) -> ProductionStore:
    bars = pd.Timestamp("2021-01-01", tz="UTC"), pd.Timestamp("2021-07-18", tz="UTC")
    write_market(tmp / "market", specs, *bars)
    (tmp / "settings.yaml").write_text(settings)
    env = {
        "RETRAIN_START_DATE": "2021-06-01",
        "RETRAIN_DATA_SOURCE": "files",
        "RETRAIN_DATA_DIR": str(tmp / "market"),
        "RETRAIN_SETTINGS": str(tmp / "settings.yaml"),
    }
    symbols = ",".join(s.symbol for s in specs)
    result = run_cli("--symbols", symbols, "--dates", f"{FIRST}..{last}", env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    days = (pd.Timestamp(last) - pd.Timestamp(FIRST)).days + 1
    assert f"dates: {days} of {days} run, 0 with a symbol not ok" in result.stdout
    return ProductionStore(tmp / "artifacts")


def _report(store: ProductionStore, last: str = LAST) -> dict:
    path = store.root / "summary" / f"{last.replace('-', '')}Z" / "walk_forward.json"
    return json.loads(path.read_bytes())


@pytest.mark.slow(seconds=250)
def test_a_planted_edge_is_found_and_promoted_and_a_vanished_one_demoted(dagster_home, tmp_path):
    specs = [PlantedSymbol(s, 0.5) for s in EDGE] + [PlantedSymbol(FADE, 0.5, VANISH)]
    store = _run_market(tmp_path, specs, GATE)

    report = _report(store)
    assert report["pooled"]["net_bps_per_day_interval"][0] > 0, report["pooled"]  # the edge
    method_lows = [
        (d.gate["figures"].get("method_interval_bps") or [0.0])[0] for d in store.decisions(FADE)
    ]
    assert max(method_lows) > 0  # the method's always-valid interval cleared zero
    promoted = [s for s in EDGE if "promoted" in {d.action for d in store.decisions(s)}]
    assert len(promoted) >= 2, {s: [d.reason for d in store.decisions(s)] for s in EDGE}
    fade = store.decisions(FADE)
    first_promotion = min(d.date for d in fade if d.action == "promoted")
    demoted = [d for d in fade if d.action == "demoted"]
    assert first_promotion < "2021-07-11" and demoted, [d.reason for d in fade]
    assert demoted[0].date >= "2021-07-11"  # after the edge vanished, not before
    after = [d for d in fade if d.date > demoted[0].date]
    assert all(d.action in ("flat", "promoted") for d in after)  # nothing left to keep
    # Production's own record is the report's headline, beside the newest models'.
    assert report["live"]["pooled"]["days"] > 0 and report["live"]["pooled"]["trades"] > 0


@pytest.mark.slow(seconds=170)
def test_random_walks_without_costs_trade_hundreds_of_times_and_promote_nothing(
    dagster_home, tmp_path
):
    specs = [PlantedSymbol(s, 0.0) for s in ("AAAUSDT", "BBBUSDT", "CCCUSDT")]
    store = _run_market(tmp_path, specs, GATE + NO_COSTS, last=NULL_LAST)

    report = _report(store, NULL_LAST)
    assert report["pooled"]["trades"] >= 200, report["pooled"]  # a null the gate reaches
    for spec in specs:
        decisions = store.decisions(spec.symbol)
        assert len(decisions) == 11
        assert all(d.gate["figures"]["method_days"] >= 5 for d in decisions[-5:]), decisions
        assert {d.action for d in decisions} == {"flat"}, [d.reason for d in decisions]
        assert store.pointer(spec.symbol) is None
