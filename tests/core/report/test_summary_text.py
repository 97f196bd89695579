"""The engine summary's markdown table says what traded today and the diagnostic's evidence."""

from retrain_assets.core.report.summary_text import markdown_table


def _summary(**symbol) -> dict:
    entry = {
        "status": "success",
        "net_bps_after_costs": 12.345,
        "net_bps_interval": [-40.0, 61.5],
        "trades": 14,
        "evidence": "insufficient_evidence",
        "train_minutes": 0.1,
        "error_type": None,
        "skip_reason": None,
        "walk_forward": {"status": "traded", "net_bps": -3.21, "trades": 2},
        **symbol,
    }
    return {
        "date": "2025-05-02",
        "succeeded": 1,
        "failed": 0,
        "skipped": 0,
        "total_symbols": 1,
        "by_symbol": {"BTCUSDT": entry},
    }


def test_a_row_shows_the_walk_forward_day_and_the_held_out_interval_with_its_evidence():
    row = markdown_table(_summary()).splitlines()[-1]
    assert "| -3.2 (2) |" in row
    assert "| 12.35 [-40.0, 61.5] |" in row
    assert "insufficient_evidence" in row


def test_a_day_without_a_live_model_says_so_instead_of_a_zero():
    row = markdown_table(_summary(walk_forward={"status": "no_live_model"})).splitlines()[-1]
    assert "| no_live_model |" in row
    assert "| 0.0 (0) |" not in row
