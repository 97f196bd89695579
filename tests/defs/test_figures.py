"""No chart in the UI mixes symbols: the symbol-day assets and checks record no plotted figure.

Dagster plots every int and float metadata entry of a partitioned asset across its partitions,
and a check's numeric metadata over its evaluations; a symbol-day's figures are text instead,
read back by `figure` / `whole` from old numeric records and new text ones alike.
"""

import json
import math
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.adapters.hashing import sha256_bytes
from retrain_assets.definitions import defs
from retrain_assets.defs.adoption import Trained, adopted_output
from retrain_assets.vocabulary.figures import figure, unplotted, whole
from retrain_assets.vocabulary.keys import partition_key

SYMBOL_DAY_ASSETS = ("costs", "features", "model", "walk_forward", "metrics", "champion")
DATES = ("2025-05-01", "2025-05-02")
PLOTTED = (dg.IntMetadataValue, dg.FloatMetadataValue)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dg.MetadataValue.int(412), "412"),
        (412, "412"),
        (dg.MetadataValue.float(3.14159265), "3.1416"),
        (-19.019608, "-19.0196"),
        (2.5e-05, "0.000025"),  # small: significant digits, never an exponent
        (-0.00567891, "-0.005679"),
        (1e16, "10000000000000000"),
        (412.0, "412.0"),  # a float stays a float: it reads back as one
        (float("nan"), "nan"),
    ],
)
def test_a_figure_becomes_text_that_reads_the_same(value, text):
    (shown,) = unplotted({"x": value}).values()
    assert shown == dg.MetadataValue.text(text)
    number = value.value if isinstance(value, dg.MetadataValue) else value
    back = figure(shown)
    assert math.isnan(back) if math.isnan(number) else back == pytest.approx(number, rel=1e-3)


def test_every_other_kind_of_metadata_is_left_as_it_was():
    kept = {
        "note": dg.MetadataValue.text("3.5"),
        "flag": dg.MetadataValue.bool(True),
        "raw_flag": False,
        "doc": dg.MetadataValue.json({"trades": 3}),
        "chart": dg.MetadataValue.md("![x](data:image/png;base64,AA==)"),
        "path": dg.MetadataValue.path("/data/x.json"),
        "raw_text": "none",
    }
    assert unplotted(kept) == kept
    assert list(unplotted({"b": 1, "a": 2})) == ["b", "a"]


@pytest.mark.parametrize(
    ("value", "as_figure", "as_whole"),
    [
        (dg.MetadataValue.float(5.25), 5.25, None),  # an old record: a number
        (dg.MetadataValue.int(7), 7.0, 7),
        (dg.MetadataValue.text("5.25"), 5.25, None),  # a new one: its text
        (dg.MetadataValue.text("7"), 7.0, 7),
        (7, 7.0, 7),  # raw values, as `latest_metadata_by_partition` gives them
        ("-3", -3.0, -3),
        ("12.0", 12.0, 12),
        ("none", None, None),
        ("", None, None),
        (None, None, None),
        (True, None, None),  # a verdict, not a figure
        ({"trades": 3}, None, None),
        (dg.MetadataValue.null(), None, None),
    ],
)
def test_a_reader_gets_the_number_from_an_old_or_a_new_record(value, as_figure, as_whole):
    assert figure(value) == as_figure
    assert whole(value) == as_whole


def test_an_adopted_model_recorded_with_numbers_by_an_older_run_is_recorded_as_text(tmp_path):
    model = tmp_path / "model.bin"
    model.write_bytes(b"trees")
    entry = {"path": str(model), "sha256": sha256_bytes(b"trees"), "size": 5}
    older = {"files": {"model.bin": entry}, "live_trees": 120, "calibration_slope": 0.8125}
    output = adopted_output(Trained("run-1", {**older, "task_type": "CPU"}))
    assert _plotted(output.metadata) == {}
    assert whole(output.metadata["live_trees"]) == 120
    assert figure(output.metadata["calibration_slope"]) == 0.8125
    assert figure(output.metadata["train_minutes"]) == 0.0
    assert output.metadata["task_type"] == dg.MetadataValue.text("CPU")


def _plotted(metadata: dict) -> dict:
    return {k: v for k, v in metadata.items() if isinstance(v, PLOTTED)}


def _symbol_days(instance: dg.DagsterInstance) -> list[dg.AssetCheckEvaluation]:
    """Two dates of one symbol (the second trades the first's model); their check verdicts."""
    retrain = defs.resolve_job_def("retrain_symbol_day")
    instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
    checks = []
    for date in DATES:
        key = str(partition_key(date, "BTCUSDT"))
        result = retrain.execute_in_process(partition_key=key, instance=instance)
        assert result.success
        checks += result.get_asset_check_evaluations()
    summary = defs.resolve_job_def("engine_summary_job")
    assert summary.execute_in_process(partition_key=DATES[-1], instance=instance).success
    return checks


def _latest(instance: dg.DagsterInstance, name: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(name))
    assert event is not None and event.asset_materialization is not None, name
    return dict(event.asset_materialization.metadata)


def test_no_symbol_day_materialization_or_check_carries_a_figure_the_ui_would_plot(dagster_home):
    with dg.DagsterInstance.get() as instance:
        checks = _symbol_days(instance)
        for name in SYMBOL_DAY_ASSETS:
            records = instance.fetch_materializations(dg.AssetKey(name), limit=10).records
            assert len(records) == len(DATES), name
            for record in records:
                metadata = record.asset_materialization.metadata
                assert _plotted(metadata) == {}, (name, record.partition_key)
        walk_forward = _latest(instance, "walk_forward")
        report = _latest(instance, "walk_forward_report")
        summary_md = _latest(instance, "engine_summary")
    # Every kind of check ran, none with a number; some carry figures, as text.
    names = {c.check_name for c in checks}
    assert {"feature_drift", "tree_floor", "live_ic", "promotion_gate", "usable_rows"} <= names
    assert [c.check_name for c in checks if _plotted(c.metadata)] == []
    assert any(isinstance(v, dg.TextMetadataValue) and figure(v) is not None
               for c in checks for v in c.metadata.values())  # fmt: skip
    # The traded day's figures read back through the accessor.
    assert whole(walk_forward["day_trades"]) is not None
    assert figure(walk_forward["day_net_bps"]) is not None
    # The per-date assets keep their numbers: one point per date on a chart.
    assert _plotted(summary_md) and _plotted(report)
    summary = json.loads(Path(str(summary_md["path"].value)).read_text())
    btc = summary["by_symbol"]["BTCUSDT"]
    assert isinstance(btc["walk_forward"]["trades"], int)
    assert isinstance(btc["walk_forward"]["net_bps"], float)
    assert isinstance(btc["trades"], int) and isinstance(btc["train_minutes"], float)
    assert btc["stage_seconds"] and btc["cpu_seconds"] > 0
    assert summary["avg_train_minutes"] is not None
