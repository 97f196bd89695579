"""A model with too few trades is reported with its interval but never ranked best or worst."""

import json
from collections.abc import Iterator

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.report.telegram_text import best_and_worst
from retrain_assets.core.trading.evaluation import evaluate
from retrain_assets.defs.assets.metrics import metrics_metadata
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.defs.summary_records import date_summary, run_net_bps
from retrain_assets.launcher.ledger import metrics_of_run
from retrain_assets.vocabulary.figures import unplotted
from retrain_assets.vocabulary.keys import partition_tags
from retrain_assets.vocabulary.tags import RunTags
from tests.fakes.costs import fee_only_costs

DATE = "2025-05-01"
DOC_TAG = "test/metrics_document"
AS_TEXT_TAG = "test/figures_as_text"


def document(min_trades: int, trade: bool = True) -> dict:
    """metrics.json of a model with 2 trades (worked in tests/core/trading/test_evaluation.py)."""
    open_ = np.array([100.0, 102.0, 103.0, 101.0, 100.0, 97.0])
    close = np.array([101.0, 103.0, 102.0, 100.0, 98.0, 99.0])
    frame = pd.DataFrame(
        {"close": close, "body_1": np.log(close / open_), "sigma": 0.01, "label": 0.001}
    )
    pred = np.array([0.01, -0.01, 0.0, -0.01, 0.0, 0.0]) * trade
    costs = fee_only_costs(10.0, as_of="2025-04-01T00:00:00+00:00")
    return evaluate(frame, pred, costs, horizon=2, min_trades=min_trades).to_json_dict()


@dg.asset(name="metrics", partitions_def=symbol_day_partitions)
def stand_in_metrics(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The real asset's metadata for the metrics.json in the run's tags: figures as text, as
    it records them now, or as numbers, as records made before did."""
    metadata = metrics_metadata(json.loads(context.run.tags[DOC_TAG]))
    as_text = context.run.tags.get(AS_TEXT_TAG) == "true"
    return dg.MaterializeResult(metadata=unplotted(metadata) if as_text else metadata)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
        yield instance


@pytest.fixture(params=[False, True], ids=["recorded-as-numbers", "recorded-as-text"])
def as_text(request: pytest.FixtureRequest) -> bool:
    """Figures recorded as numbers (records made before they were text) or as text: every
    reader reads both."""
    return bool(request.param)


def run_with(instance: dg.DagsterInstance, symbol: str, doc: dict, as_text: bool) -> str:
    run_tags = {
        **RunTags("inv-1", "cli", mode="hybrid").to_tags(),
        **partition_tags(DATE, symbol),
        DOC_TAG: json.dumps(doc),
        AS_TEXT_TAG: str(as_text).lower(),
    }
    result = dg.materialize(
        [stand_in_metrics], instance=instance, partition_key=f"{DATE}|{symbol}", tags=run_tags
    )
    return result.run_id


def test_metadata_omits_undefined_figures_instead_of_showing_zero():
    md = metrics_metadata(document(min_trades=30, trade=False))
    assert md["status"].value == "insufficient_evidence" and md["trades"].value == 0
    for key in ("net_bps_after_costs", "net_bps_per_trade", "net_bps_lo", "hit_rate", "sharpe"):
        assert key not in md
    assert md["long_trades"].value == 0 and "long_net_bps" not in md


def test_metadata_of_a_ranked_model_carries_net_interval_sides_and_market_neutral():
    doc = document(min_trades=2)
    md = metrics_metadata(doc)
    assert md["status"].value == "ok"
    assert md["net_bps_after_costs"].value == md["net_bps_per_trade"].value
    assert md["net_bps_lo"].value < md["net_bps_per_trade"].value < md["net_bps_hi"].value
    assert (md["long_trades"].value, md["short_trades"].value) == (1, 1)
    assert md["market_neutral_net_bps"].value == pytest.approx(doc["market_neutral"]["net_bps"])


def test_insufficient_evidence_is_never_ranked_best_or_worst(instance, as_text):
    runs = {
        "BTCUSDT": run_with(instance, "BTCUSDT", document(min_trades=2), as_text),
        "ETHUSDT": run_with(instance, "ETHUSDT", document(min_trades=30), as_text),
        "SOLUSDT": run_with(instance, "SOLUSDT", document(min_trades=30, trade=False), as_text),
    }
    nets = {s: run_net_bps(instance, r) for s, r in runs.items()}
    assert nets["BTCUSDT"] == pytest.approx(-19.019608)
    assert nets["ETHUSDT"] is None and nets["SOLUSDT"] is None
    # The launcher's status file and notifier read the same key.
    assert metrics_of_run(instance, runs["ETHUSDT"])["net_bps_after_costs"] is None
    btc = metrics_of_run(instance, runs["BTCUSDT"])
    assert btc["net_bps_after_costs"] == pytest.approx(-19.019608) and btc["trades"] == 2
    low, high = btc["net_bps_interval"]
    assert low < btc["net_bps_per_trade"] < high
    # One ranked model is no ranking; the two without evidence do not make one.
    assert best_and_worst(list(nets.items())) == (None, None)


def test_the_summary_reports_an_insufficient_models_net_and_interval_not_zero(instance, as_text):
    run_with(instance, "ETHUSDT", document(min_trades=30), as_text)
    run_with(instance, "SOLUSDT", document(min_trades=30, trade=False), as_text)
    by_symbol = date_summary(instance, DATE)["by_symbol"]
    eth, sol = by_symbol["ETHUSDT"], by_symbol["SOLUSDT"]
    assert eth["evidence"] == "insufficient_evidence" and eth["trades"] == 2
    assert eth["net_bps_after_costs"] == pytest.approx(-19.019608)
    low, high = eth["net_bps_interval"]
    assert low < eth["net_bps_after_costs"] < high
    assert (sol["net_bps_after_costs"], sol["net_bps_interval"], sol["trades"]) == (None, None, 0)


@pytest.mark.parametrize(
    ("scores", "ranked"),
    [
        ([("A", 1.0), ("B", None), ("C", -2.0)], (("A", 1.0), ("C", -2.0))),
        ([("A", 1.0), ("B", float("nan"))], (None, None)),
    ],
)
def test_best_and_worst_leave_out_symbols_without_a_rankable_score(scores, ranked):
    assert best_and_worst(scores) == ranked
