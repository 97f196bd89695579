"""The walk_forward_report asset chains the ledger and shows it where people look."""

import json

import dagster as dg
import pytest

from retrain_assets.definitions import defs
from retrain_assets.vocabulary.keys import partition_key

SYMBOLS = ("BTCUSDT", "ETHUSDT")
DATES = ("2025-05-01", "2025-05-02", "2025-05-03")


@pytest.mark.slow(seconds=11)
def test_the_report_chains_every_symbols_days_into_a_png_and_a_table(dagster_home, tmp_path):
    retrain = defs.resolve_job_def("retrain_symbol_day")
    summary = defs.resolve_job_def("engine_summary_job")
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", list(SYMBOLS))
        for date in DATES:
            for symbol in SYMBOLS:
                key = str(partition_key(date, symbol))
                assert retrain.execute_in_process(partition_key=key, instance=instance).success
        assert summary.execute_in_process(partition_key=DATES[-1], instance=instance).success
        mat = instance.get_latest_materialization_event(dg.AssetKey("walk_forward_report"))
    metadata = mat.asset_materialization.metadata
    png = tmp_path / "artifacts" / "summary" / "20250503Z" / "walk_forward.png"
    assert metadata["png"].value == str(png)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert metadata["equity_curves"].value.startswith("![walk-forward](data:image/png;base64,")
    for symbol in SYMBOLS:  # each symbol also alone, never on an axis shared with another
        assert (png.parent / "walk_forward" / f"{symbol}.png").read_bytes().startswith(b"\x89PNG")
    rows = {r.data["series"]: r.data for r in metadata["figures"].value.records}
    assert set(rows) == {*SYMBOLS, "pooled", "portfolio"}
    # The first date had no live model: two traded days per symbol.
    assert all(rows[s]["days"] == 2 for s in SYMBOLS)
    assert rows["pooled"]["trades"] == sum(rows[s]["trades"] for s in SYMBOLS)
    health = {r.data["symbol"]: r.data for r in metadata["model_health"].value.records}
    assert set(health) == set(SYMBOLS)
    for row in health.values():  # the model that traded the last date, and its health
        assert row["model"] == "champion" or row["as_of"] == DATES[-2]
        assert row["trees"] > 0 and row["top_features"] not in (None, "not reported")
    document = json.loads(png.with_name("walk_forward.json").read_text())
    assert document["through"] == DATES[-1]
    assert document["symbols_without_model"] == {s: 1 for s in SYMBOLS}
    summary = json.loads(png.with_name("engine_summary.json").read_text())
    today = summary["by_symbol"]["BTCUSDT"]["walk_forward"]
    assert today["status"] == "traded" and today["live_model_as_of"] == DATES[-2]
    assert today["trades"] >= 0 and isinstance(today["net_bps"], float)


def test_a_symbol_without_trades_or_days_is_a_row_of_empty_cells_not_zeros(tmp_path):
    from retrain_assets.core.report.pnl_chain import chain_pnl
    from retrain_assets.core.trading.walk_forward import NO_LIVE_MODEL, DayPnl, untraded_day
    from retrain_assets.defs.assets.report import report_metadata

    flat_day = DayPnl(
        "ETHUSDT",
        "2025-05-02",
        "2025-05-01",
        "traded",
        "2025-05-02T00:00:00+00:00",
        10.0,
        timestamps=("2025-05-02T00:00:00+00:00",),
        position=(0.0,),
        gross=(0.0,),
        net=(0.0,),
        buy_and_hold_gross=(0.001,),
        buy_and_hold_net=(0.001,),
    )
    record = chain_pnl([flat_day, untraded_day("XLMUSDT", "2025-05-02", NO_LIVE_MODEL)])
    table = report_metadata(record, b"\x89PNG", tmp_path, 0)["figures"].value
    rows = {r.data["series"]: r.data for r in table.records}
    assert rows["XLMUSDT"]["days"] == 0 and rows["XLMUSDT"]["net_bps_per_trade"] is None
    assert rows["ETHUSDT"]["trades"] == 0 and rows["ETHUSDT"]["net_bps_per_day"] is None
    assert {len(r.data) for r in table.records} == {len(table.schema.columns)}


def test_the_ui_table_has_a_described_column_for_every_figure_of_a_row():
    from retrain_assets.core.report.pnl_chain import TABLE_COLUMNS
    from retrain_assets.defs.assets.report import _COLUMNS

    assert [name for name, _, _ in _COLUMNS] == list(TABLE_COLUMNS)
