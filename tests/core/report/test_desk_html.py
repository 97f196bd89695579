"""The desk report's HTML: one self-contained page, the table in order, a chart per symbol."""

import re
from html.parser import HTMLParser

import pytest

from retrain_assets.core.report.desk import (
    FAILED_TODAY,
    PRODUCTION_COLUMNS,
    DeskPage,
    EquitySeries,
    ProductionRow,
)
from retrain_assets.core.report.desk_html import cell_text, render_desk_page
from retrain_assets.core.report.desk_svg import EMPTY_MESSAGE, equity_svg

DAYS = ("2025-04-28", "2025-04-29", "2025-04-30")


def _row(symbol: str, status: str = "promoted", **extra) -> ProductionRow:
    cells = {
        "champion": "2025-04-30",
        "day_net_bps": 12.34,
        "day_trades": 3,
        "window_net": "+7.4 bps/trade [-1.0, +9.9], 20 trades, 12 d",
        "evidence": "gate passed",
        "problem": "",
        "attention": "ok",
        **extra,
    }
    return ProductionRow(symbol=symbol, status=status, **cells)


def _series(symbol: str, days: tuple[str, ...] = DAYS) -> EquitySeries:
    n = len(days)
    return EquitySeries(
        symbol, days, tuple(float(i) for i in range(n)), tuple([None] * n), trades=n
    )


def _page(**changes) -> DeskPage:
    fields = {
        "date": "2025-05-01",
        "headline": "2025-05-01: 2 symbols · 1 failed",
        "rows": (_row("XRPUSDT", FAILED_TODAY, problem="DataSourceError: no volume"), _row("BTC")),
        "failures": (("XRPUSDT", "DataSourceError: no volume"),),
        "charts": (_series("XRPUSDT"), _series("BTC")),
        **changes,
    }
    return DeskPage(**fields)


class _Tags(HTMLParser):
    """Start tags with their attributes, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def of(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_the_table_has_a_titled_header_per_column_and_the_rows_in_the_given_order():
    html = render_desk_page(_page(rows=(_row("ZZZ"), _row("AAA"), _row("MMM"))))
    headers = re.findall(r'<th scope="col" title="([^"]*)">(.*?)</th>', html)
    assert [name.replace("<wbr>", "") for _, name in headers] == [
        n for n, _, _ in PRODUCTION_COLUMNS
    ]
    assert [title for title, _ in headers] == [
        d.replace("'", "&#x27;") for *_, d in PRODUCTION_COLUMNS
    ]
    rows = [a["data-symbol"] for a in _Tags(html).of("tr") if "data-symbol" in a]
    assert rows == ["ZZZ", "AAA", "MMM"]


def test_only_rows_failed_today_carry_the_failed_class():
    html = render_desk_page(_page())
    classes = {a["data-symbol"]: a.get("class") for a in _Tags(html).of("tr") if "data-symbol" in a}
    assert classes == {"XRPUSDT": "failed", "BTC": None}


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (12.34, "+12.3"), (-0.05, "-0.1"), (0.0, "+0.0"), (7, "7"), ("kept", "kept")],
)
def test_cells_are_empty_for_none_and_signed_to_a_tenth_for_floats(value, text):
    assert cell_text(value) == text


def test_a_none_cell_renders_empty():
    html = render_desk_page(_page(rows=(_row("BTC", champion=None, day_net_bps=None),)))
    assert '<td data-column="champion"></td>' in html
    assert '<td data-column="day_net_bps" class="num"></td>' in html


def test_text_from_data_is_escaped_everywhere():
    evil = '<script>alert("x")</script>'
    page = _page(
        headline=evil,
        made_by=evil,
        rows=(_row(evil, FAILED_TODAY, problem=evil),),
        failures=((evil, evil),),
        charts=(_series(evil, ("<d1>", "<d2>")),),
        health={evil: evil},
    )
    html = render_desk_page(page)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<d1>" not in html


def test_one_figure_per_series_each_with_an_svg_and_a_caption():
    charts = tuple(_series(s) for s in ("A", "B", "C", "D"))
    html = render_desk_page(_page(charts=charts, health={"B": "12 trees, best iteration 9"}))
    figures = re.findall(r'<figure class="equity" data-symbol="(\w+)">(.*?)</figure>', html)
    assert [symbol for symbol, _ in figures] == ["A", "B", "C", "D"]
    assert all("<svg" in body and "<figcaption>" in body for _, body in figures)
    assert [('class="health"' in body) for _, body in figures] == [False, True, False, False]
    assert "12 trees, best iteration 9" in html


def test_the_page_has_no_outside_assets_and_forbids_loading_any():
    html = render_desk_page(_page(dry_run=True, made_by="retrain 1.0"))
    assert "http" not in html.replace('http-equiv="Content-Security-Policy"', "")
    assert not re.search(r"\b(src|href)=", html) and "<script" not in html
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html


def test_the_dry_run_banner_and_the_maker_show_only_when_set():
    assert 'id="dry-run"' in render_desk_page(_page(dry_run=True))
    plain = render_desk_page(_page())
    assert 'id="dry-run"' not in plain and "made by" not in plain


def test_no_failures_says_so():
    html = render_desk_page(_page(failures=()))
    assert '<p class="none">No failures</p>' in html


def test_the_same_page_renders_the_same_text():
    assert render_desk_page(_page()) == render_desk_page(_page())


def test_a_chart_without_days_says_so_instead_of_drawing_empty_axes():
    svg = equity_svg(EquitySeries("BTC", (), (), ()))
    assert EMPTY_MESSAGE in svg and "<polyline" not in svg
    html = render_desk_page(_page(charts=(EquitySeries("BTC", (), (), ()),)))
    assert '<figure class="equity empty" data-symbol="BTC">' in html


def test_production_gaps_break_its_line_and_a_lone_day_is_a_dot():
    live = (1.0, 2.0, None, None, 3.0, None, 4.0, 5.0)
    days = tuple(f"2025-04-{d:02d}" for d in range(1, 9))
    svg = equity_svg(EquitySeries("BTC", days, tuple(float(i) for i in range(8)), live))
    assert svg.count('<polyline class="live"') == 2
    assert svg.count('<circle class="live"') == 1
    assert svg.count('<polyline class="newest"') == 1
    assert 'class="x-first"' in svg and "2025-04-01" in svg and "2025-04-08" in svg


def test_the_bps_axis_is_labelled_with_the_lowest_and_highest_values():
    series = EquitySeries("BTC", DAYS, (-20.0, 5.0, 67.0), (None, -30.5, 10.0))
    svg = equity_svg(series)
    assert re.search(r'class="y-max"[^>]*>\+67\.0<', svg)
    assert re.search(r'class="y-min"[^>]*>-30\.5<', svg)
    assert re.search(r'class="y-zero"[^>]*>0<', svg)
