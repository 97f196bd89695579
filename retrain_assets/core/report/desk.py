"""The desk's view of one date: the production table, its headline, and the report's content.

A desk opens the tool each morning to answer three questions: which symbols failed, which
model is in production for each symbol, and did yesterday's models make money after costs.
`production_rows` answers them in one row per symbol of the day's engine summary, eight
columns wide so the table fits a 1600 px panel, the symbols needing attention first;
`headline` says it in one line (the CLI's last lines, Telegram's daily message). `DeskPage`
is what the daily HTML report (`core.desk_html`) draws: the table, the failures, and one
equity chart per symbol. Pure: reads documents, writes nothing.

Words match the state: `no champion yet` when a symbol never had one (or is flat after a
demotion), `kept (champion since D)` when one stays live, `promoted`, `demoted, now flat`,
and `failed today` or `canceled today` when the day's run did not finish (the champion stays
live). A gate window without trades reads `no evidence yet`, never a loss.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from retrain_assets.core.trading.walk_forward import TRADED, DayPnl

# How much a symbol's day needs a look, most first (the table's order).
FAILED = "failed"
CHECK_ERROR = "check error"
CHECK_WARNING = "check warning"
PENDING = "running or skipped"
OK = "ok"
ATTENTION_ORDER = (FAILED, CHECK_ERROR, CHECK_WARNING, PENDING, OK)
FAILED_TODAY = "failed today"
CANCELED_TODAY = "canceled today"
# The statuses of a symbol whose day did not finish: counted as failures, listed as such.
NOT_FINISHED = (FAILED_TODAY, CANCELED_TODAY)
GATE_CHECK = "promotion_gate"
NO_CHAMPION = "no champion yet"
PROMOTED = "promoted"
DEMOTED = "demoted, now flat"
NO_EVIDENCE = "no evidence yet"
PROBLEM_CHARS = 90

# (name, type, description) of each column of the production table, in order: at most 8.
PRODUCTION_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("symbol", "string", "the trading symbol; symbols needing attention first"),
    ("status", "string", "failed/canceled today, demoted, no champion yet, promoted, kept"),
    ("champion", "string", "as-of date of the model production trades from tomorrow (empty: flat)"),
    ("day_net_bps", "float", "yesterday's model on the date's bars: net after costs, bps"),
    ("day_trades", "int", "trades behind day_net_bps"),
    ("window_net", "string", "the gate window's net per trade, bps, 95% interval, trades and days"),
    ("evidence", "string", "the gate: passed, the conditions that failed, or no evidence yet"),
    ("problem", "string", "why the run failed, or the checks that did not pass"),
)


@dataclass(frozen=True)
class ProductionRow:
    """One symbol's line of the production table (see `PRODUCTION_COLUMNS`)."""

    symbol: str
    status: str
    champion: str | None
    day_net_bps: float | None
    day_trades: int | None
    window_net: str
    evidence: str
    problem: str
    attention: str

    def to_table_dict(self) -> dict[str, Any]:
        """The row's cells by column name (no attention rank: the order carries it)."""
        return {name: getattr(self, name) for name, _, _ in PRODUCTION_COLUMNS}


@dataclass(frozen=True)
class EquitySeries:
    """One symbol's daily record over the report's window, cumulative bps after costs.

    `newest_net_bps` is each day's newest model (yesterday's model on the day's bars);
    `live_net_bps` is production's own record (the champion's live days; None on a day it
    was flat). Both are aligned with `days`.
    """

    symbol: str
    days: tuple[str, ...]
    newest_net_bps: tuple[float, ...]
    live_net_bps: tuple[float | None, ...]
    trades: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        """The series as JSON (the report writes it; the desk page reads it back)."""
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "EquitySeries":
        """The series `to_json_dict` wrote."""
        return cls(
            symbol=str(data["symbol"]),
            days=tuple(data["days"]),
            newest_net_bps=tuple(data["newest_net_bps"]),
            live_net_bps=tuple(data["live_net_bps"]),
            trades=int(data.get("trades", 0)),
        )


@dataclass(frozen=True)
class DeskPage:
    """Everything the daily desk report shows for one date."""

    date: str
    headline: str
    rows: tuple[ProductionRow, ...]
    failures: tuple[tuple[str, str], ...]
    charts: tuple[EquitySeries, ...]
    health: Mapping[str, str] = field(default_factory=dict)
    made_by: str = ""
    dry_run: bool = False


def production_rows(summary: Mapping[str, Any]) -> list[ProductionRow]:
    """One row per symbol of an `engine_summary.json` document, most attention first."""
    rows = [_row(symbol, entry) for symbol, entry in summary["by_symbol"].items()]
    return sorted(rows, key=lambda r: (ATTENTION_ORDER.index(r.attention), r.symbol))


def attention(entry: Mapping[str, Any]) -> str:
    """How much one symbol's day needs a look: a failed or canceled run; a check failing
    with ERROR (drift, the live IC, the gate finding a losing record); a check warning;
    still running or skipped; then the rest."""
    if entry.get("status") in ("failed", "canceled"):
        return FAILED
    failing = _failing_checks(entry)
    if any(c["severity"] == "ERROR" for c in failing):
        return CHECK_ERROR
    if failing:
        return CHECK_WARNING
    if entry.get("status") in ("running", "skipped"):
        return PENDING
    return OK


def _failing_checks(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The checks that did not pass and need a look. The gate not passing as a WARN is not a
    problem (a model waiting for evidence; the `evidence` column says which conditions); the
    gate as an ERROR (the record argues against the model) is."""
    return [
        c
        for c in entry.get("checks") or []
        if not c["passed"] and not (c["check"] == GATE_CHECK and c["severity"] != "ERROR")
    ]


def status_text(entry: Mapping[str, Any]) -> str:
    """What production does with the symbol, in the table's words."""
    if entry.get("status") == "failed":
        return FAILED_TODAY
    if entry.get("status") == "canceled":
        return CANCELED_TODAY
    champion = entry.get("champion")
    if not champion:
        return str(entry.get("status") or "unknown")
    action = champion.get("action")
    if action == "promoted":
        return PROMOTED
    if action == "demoted":
        return DEMOTED
    if not champion.get("champion_as_of"):
        return NO_CHAMPION
    since = champion.get("champion_since") or champion.get("champion_as_of")
    return f"kept (champion since {since})"


def evidence_text(champion: Mapping[str, Any] | None) -> str:
    """The gate's verdict in a few words; a window without trades is no evidence yet."""
    if not champion:
        return ""
    if not champion.get("window_trades"):
        return NO_EVIDENCE
    if champion.get("gate_passed"):
        return "gate passed"
    return f"failed {champion.get('gate_failing') or 'gate'}"


def window_text(champion: Mapping[str, Any] | None) -> str:
    """`+7.4 bps/trade [-170.9, +184.9], 20 trades, 12 d`, or `no trades in 12 d`."""
    if not champion or champion.get("window_days") is None:
        return ""
    days, trades = champion["window_days"], champion.get("window_trades") or 0
    net = champion.get("window_net_bps_per_trade")
    if not days:
        return "no walk-forward days yet"
    if not trades or net is None:
        return f"no trades in {days} d"
    interval = champion.get("window_net_bps_interval")
    shown = f" [{interval[0]:+.1f}, {interval[1]:+.1f}]" if interval else ""
    return f"{net:+.1f} bps/trade{shown}, {trades} trades, {days} d"


def problem_text(entry: Mapping[str, Any]) -> str:
    """Why the run failed (or was skipped), else the checks that did not pass, most severe
    first; empty when nothing needs a look."""
    if entry.get("error_type") or entry.get("error"):
        text = f"{entry.get('error_type') or 'failed'}: {entry.get('error') or ''}".strip()
    elif entry.get("status") == "skipped":
        text = str(entry.get("skip_reason") or "skipped")
    else:
        failing = sorted(_failing_checks(entry), key=lambda c: c["severity"] != "ERROR")
        text = "; ".join(f"{c['check']} {c['severity']}" for c in failing)
    return text if len(text) <= PROBLEM_CHARS else text[: PROBLEM_CHARS - 1] + "…"


def headline(summary: Mapping[str, Any], rows: Sequence[ProductionRow]) -> str:
    """The table in one line: failures, what production trades, and yesterday's models' net
    after costs over the symbols that traded (with their trades and symbol count)."""
    failed = sum(r.status in NOT_FINISHED for r in rows)
    live = sum(r.champion is not None for r in rows)
    promoted = sum(r.status == PROMOTED for r in rows)
    demoted = sum(r.status == DEMOTED for r in rows)
    traded = [r for r in rows if r.day_net_bps is not None]
    noun = "symbol" if len(rows) == 1 else "symbols"
    parts = [f"{summary['date']}: {len(rows)} {noun}", f"{failed} failed"]
    parts.append(f"{live} in production ({promoted} promoted, {demoted} demoted)")
    parts.append(f"{sum(r.status == NO_CHAMPION for r in rows)} without a champion")
    if traded:
        trades = sum(r.day_trades or 0 for r in traded)
        mean = sum(r.day_net_bps or 0.0 for r in traded) / len(traded)
        parts.append(
            f"yesterday's models {mean:+.1f} bps net a symbol ({trades} trades, "
            f"{len(traded)} symbols)"
        )
    else:
        parts.append("yesterday's models: no walk-forward day yet")
    return " · ".join(parts)


def failures(rows: Sequence[ProductionRow]) -> tuple[tuple[str, str], ...]:
    """(symbol, why) of each symbol whose run failed or was canceled today."""
    return tuple((r.symbol, r.problem) for r in rows if r.status in NOT_FINISHED)


def _row(symbol: str, entry: Mapping[str, Any]) -> ProductionRow:
    champion = entry.get("champion")
    day = entry.get("walk_forward") or {}
    net = day.get("net_bps")
    return ProductionRow(
        symbol=symbol,
        status=status_text(entry),
        champion=(champion or {}).get("champion_as_of"),
        day_net_bps=None if net is None else round(float(net), 1),
        day_trades=day.get("trades") if net is not None else None,
        window_net=window_text(champion),
        evidence=evidence_text(champion),
        problem=problem_text(entry),
        attention=attention(entry),
    )


def equity_series(newest: Sequence[DayPnl], live: Sequence[DayPnl]) -> tuple[EquitySeries, ...]:
    """Each symbol's daily cumulative net after costs, bps: the newest models' days and
    production's live days, over the days either traded, in date order.

    A day the newest model did not trade repeats its last value; a day production was flat
    (no live day) is None, so a chart leaves a gap rather than drawing a flat line it never
    traded.
    """
    by_symbol: dict[str, tuple[dict[str, DayPnl], dict[str, DayPnl]]] = {}
    for index, days in enumerate((newest, live)):
        for day in days:
            if day.status == TRADED:
                by_symbol.setdefault(day.symbol, ({}, {}))[index][day.day] = day
    series = []
    for symbol, (ours, theirs) in sorted(by_symbol.items()):
        dates = sorted(set(ours) | set(theirs))
        series.append(
            EquitySeries(
                symbol=symbol,
                days=tuple(dates),
                newest_net_bps=tuple(_cumulative(ours, dates, carry=True)),  # type: ignore[arg-type]
                live_net_bps=tuple(_cumulative(theirs, dates, carry=False)),
                trades=sum(len(d.trades) for d in ours.values()),
            )
        )
    return tuple(series)


def _cumulative(days: Mapping[str, DayPnl], dates: Sequence[str], carry: bool) -> list:
    total, values = 0.0, []
    for date in dates:
        day = days.get(date)
        if day is not None:
            total += 1e4 * float(sum(day.net))
        values.append(round(total, 2) if day is not None or carry else None)
    return values


def table_text(rows: Sequence[ProductionRow]) -> list[str]:
    """The production table as fixed-width text lines for a terminal, header first."""
    names = [name for name, _, _ in PRODUCTION_COLUMNS]
    cells = [names, *([_cell(v) for v in row.to_table_dict().values()] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(names))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in cells]  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:+.1f}"
    return str(value)


def row_from_table(cells: Mapping[str, Any]) -> ProductionRow:
    """A row back from its table cells (`ProductionRow.to_table_dict`, as a deployment's
    `production` metadata holds them). The attention rank is no column (the table's order
    carries it), so it is left empty."""
    net, trades = cells.get("day_net_bps"), cells.get("day_trades")
    return ProductionRow(
        symbol=str(cells["symbol"]),
        status=str(cells.get("status") or ""),
        champion=cells.get("champion") or None,
        day_net_bps=None if net is None else float(net),
        day_trades=None if trades is None else int(trades),
        window_net=str(cells.get("window_net") or ""),
        evidence=str(cells.get("evidence") or ""),
        problem=str(cells.get("problem") or ""),
        attention="",
    )
