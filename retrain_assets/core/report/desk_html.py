"""The daily desk report as one self-contained HTML page.

`render_desk_page` turns a `DeskPage` into a page that opens from a file: inline CSS, charts
as inline SVG (`core.desk_svg`), no script, font, image or stylesheet from anywhere else (a
Content-Security-Policy says so to the browser too). Top to bottom: the date and the
headline, the production table, the failures, one equity chart per symbol with its model
health. The table has fixed column widths and wraps long words, so eight columns fit a
1600 px window without scrolling sideways; the charts sit in a grid, three a row at that
width. Every text from data is escaped; the same page gives the same string.

What tests and the desk's tooling can rely on: `h1`, `#headline`, `#dry-run` (only on a dry
run), `table#production` with a `th[title]` per column and `tr[data-symbol]` per row
(`tr.failed` when the run failed today; `td[data-column]`), `section#failures` (an `li`
per failure with `data-symbol`, or `p.none`), and `figure.equity[data-symbol]` holding an
`svg` (`figure.equity.empty` when the symbol has no walk-forward day yet), a `figcaption`
and, when known, `p.health`.
"""

from html import escape

from retrain_assets.core.report.desk import (
    NOT_FINISHED,
    PRODUCTION_COLUMNS,
    DeskPage,
    EquitySeries,
    ProductionRow,
)
from retrain_assets.core.report.desk_svg import EMPTY_MESSAGE, equity_svg

# Share of the table's width per column, in percent; a column not named here shares the rest.
COLUMN_WIDTHS = {
    "symbol": 9,
    "status": 16,
    "champion": 8,
    "day_net_bps": 8,
    "day_trades": 7,
    "window_net": 17,
    "evidence": 14,
    "problem": 21,
}
NUMERIC_TYPES = ("float", "int")
POLICY = "default-src 'none'; style-src 'unsafe-inline'"
CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#1d2430;background:#fff}
.page{max-width:1600px;margin:0 auto;padding:16px 20px 32px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:17px;margin:28px 0 10px}
#headline{font-size:15px;margin:0 0 4px}
.meta{color:#5b6472;font-size:12px;margin:0}
#dry-run{background:#fff3cd;border:1px solid #d9a400;padding:8px 12px;margin:12px 0 0;
 font-weight:600}
#production{width:100%;max-width:100%;table-layout:fixed;border-collapse:collapse}
#production th,#production td{padding:6px 8px;border-bottom:1px solid #dde1e6;text-align:left;
 vertical-align:top;overflow-wrap:anywhere;word-break:break-word}
#production th{background:#f3f5f8;font-weight:600;cursor:help}
#production td.num{text-align:right;font-variant-numeric:tabular-nums}
#production tr.failed td{background:#fdecec}
#production tr.failed td:first-child{box-shadow:inset 4px 0 #c62828}
.pos{color:#1b7f3b}.neg{color:#c62828}
#failures ul{margin:0;padding-left:20px}
#failures li{overflow-wrap:anywhere}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(460px,100%),1fr));gap:16px}
figure.equity{margin:0;border:1px solid #dde1e6;border-radius:6px;padding:8px;min-width:0}
figure.equity svg{display:block;width:100%;height:auto}
figcaption{font-size:13px;margin-top:4px;overflow-wrap:anywhere}
.health{font-size:12px;color:#5b6472;margin:4px 0 0;overflow-wrap:anywhere}
"""


def render_desk_page(page: DeskPage) -> str:
    """The report of `page.date` as one HTML document (see the module docstring).

    Args:
        page: What the report shows: headline, production rows in order, failures, charts.

    Returns:
        The page's HTML text.
    """
    title = escape(f"Desk report {page.date}")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title><style>{CSS}</style></head>",
            '<body><div class="page">',
            _header(page, title),
            '<section id="production-table"><h2>Production</h2>',
            production_table(page.rows),
            "</section>",
            _failures(page.failures),
            '<section id="charts"><h2>Equity after costs, cumulative bps</h2><div class="charts">',
            *(_figure(series, page.health.get(series.symbol)) for series in page.charts),
            "</div></section>",
            "</div></body></html>",
        ]
    )


def production_table(rows: tuple[ProductionRow, ...]) -> str:
    """`table#production`: a column per `PRODUCTION_COLUMNS`, a row per symbol in order."""
    cols = "".join(_col(name) for name, _, _ in PRODUCTION_COLUMNS)
    head = "".join(
        f'<th scope="col" title="{escape(description)}">{_breakable(name)}</th>'
        for name, _, description in PRODUCTION_COLUMNS
    )
    body = "".join(_row(row) for row in rows)
    return (
        f'<table id="production"><colgroup>{cols}</colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def cell_text(value: object) -> str:
    """A cell's text: empty for None, `+12.3` for a float, the rest as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:+.1f}"
    return str(value)


def _breakable(name: str) -> str:
    """A column name that may wrap after its underscores rather than inside a word."""
    return escape(name).replace("_", "_<wbr>")


def _header(page: DeskPage, title: str) -> str:
    parts = [f"<header><h1>{title}</h1>", f'<p id="headline">{escape(page.headline)}</p>']
    if page.made_by:
        parts.append(f'<p class="meta">made by {escape(page.made_by)}</p>')
    if page.dry_run:
        parts.append(
            '<p id="dry-run">Dry run: nothing was promoted and no message was sent; '
            "the figures are a rehearsal.</p>"
        )
    return "".join(parts) + "</header>"


def _col(name: str) -> str:
    width = COLUMN_WIDTHS.get(name)
    return f'<col style="width:{width}%">' if width else "<col>"


def _row(row: ProductionRow) -> str:
    failed = ' class="failed"' if row.status in NOT_FINISHED else ""
    values = row.to_table_dict()
    cells = "".join(_cell(name, kind, values[name]) for name, kind, _ in PRODUCTION_COLUMNS)
    return f'<tr data-symbol="{escape(row.symbol)}"{failed}>{cells}</tr>'


def _cell(name: str, kind: str, value: object) -> str:
    classes = ["num"] if kind in NUMERIC_TYPES else []
    if kind == "float" and isinstance(value, float) and value != 0:
        classes.append("pos" if value > 0 else "neg")
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f'<td data-column="{escape(name)}"{attr}>{escape(cell_text(value))}</td>'


def _failures(failures: tuple[tuple[str, str], ...]) -> str:
    if not failures:
        return '<section id="failures"><h2>Failures</h2><p class="none">No failures</p></section>'
    items = "".join(
        f'<li data-symbol="{escape(symbol)}"><strong>{escape(symbol)}</strong>: '
        f"{escape(reason or 'no reason recorded')}</li>"
        for symbol, reason in failures
    )
    return f'<section id="failures"><h2>Failures</h2><ul>{items}</ul></section>'


def _figure(series: EquitySeries, health: str | None) -> str:
    empty = " empty" if not series.days else ""
    parts = [
        f'<figure class="equity{empty}" data-symbol="{escape(series.symbol)}">',
        equity_svg(series),
        f"<figcaption>{_caption(series)}</figcaption>",
    ]
    if health:
        parts.append(f'<p class="health">{escape(health)}</p>')
    return "".join(parts) + "</figure>"


def _caption(series: EquitySeries) -> str:
    """`<b>SYM</b> · 42 trades · newest model +12.3 bps · production +4.5 bps`."""
    symbol = f"<strong>{escape(series.symbol)}</strong>"
    if not series.days:
        return f"{symbol} · {EMPTY_MESSAGE}"
    trades = f"{series.trades} trade{'' if series.trades == 1 else 's'}"
    live = [v for v in series.live_net_bps if v is not None]
    production = f"production {live[-1]:+.1f} bps" if live else "production flat"
    newest = f"newest model {series.newest_net_bps[-1]:+.1f} bps"
    return f"{symbol} · {trades} · {newest} · {production}"
