"""The completion message's lifecycle lines: promoted, kept back with why, drifted."""

from retrain_assets.core.report.telegram_text import (
    LISTED_SYMBOLS,
    format_completion,
    format_lifecycle,
)


def test_the_lifecycle_names_promoted_kept_back_with_the_failing_check_and_drifted():
    lines = format_lifecycle(
        promoted=[("BTCUSDT", "2025-04-26")],
        kept_back=[("ETHUSDT", "evidence"), ("SOLUSDT", "net_after_costs, beats_buy_and_hold")],
        drifted=[("SOLUSDT", "ERROR: rvol_72 PSI 0.81 (fail ...)")],
    )
    assert lines == [
        "Promoted (1): <code>BTCUSDT</code> → 2025-04-26",
        "Not promoted (2): <code>ETHUSDT</code> (evidence), "
        "<code>SOLUSDT</code> (net_after_costs, beats_buy_and_hold)",
        "Drifted (1): <code>SOLUSDT</code> ERROR: rvol_72 PSI 0.81 (fail ...)",
    ]


def test_nothing_to_say_is_no_line_and_long_lists_are_counted():
    assert format_lifecycle([], [], []) == []
    many = [(f"S{i}USDT", "evidence") for i in range(LISTED_SYMBOLS + 3)]
    (line,) = format_lifecycle([], many, [])
    assert line.endswith(" and 3 more") and line.count("<code>") == LISTED_SYMBOLS


def test_symbols_and_reasons_are_escaped_and_the_lines_close_the_completion():
    lifecycle = format_lifecycle([], [("<B>USDT", "a&b")], [])
    text = format_completion("desk", "2025-04-26", 1, 0, 0, 12.0, None, None, lifecycle)
    assert text.endswith("<code>&lt;B&gt;USDT</code> (a&amp;b)")
    assert "Best" not in text


def test_a_demoted_champion_is_named_first_with_why_and_that_the_symbol_is_flat():
    lines = format_lifecycle(
        [("BTCUSDT", "2025-04-26")], [], [], [("ETHUSDT", "the gate failed on 10 dates in a row")]
    )
    assert lines[0] == (
        "Demoted, now flat (1): <code>ETHUSDT</code> (the gate failed on 10 dates in a row)"
    )
    assert lines[1].startswith("Promoted (1): <code>BTCUSDT</code>")


def test_the_completion_carries_the_production_tables_headline_escaped():
    line = "2025-04-26: 3 symbols · 1 failed · 1 in production (1 promoted, 0 demoted) · <x>"
    text = format_completion("desk", "2025-04-26", 2, 1, 0, 12.0, None, None, headline=line)
    assert "Production: 2025-04-26: 3 symbols · 1 failed · 1 in production" in text
    assert "&lt;x&gt;" in text and "<x>" not in text
    assert "Production:" not in format_completion("desk", "2025-04-26", 2, 1, 0, 1.0, None, None)
