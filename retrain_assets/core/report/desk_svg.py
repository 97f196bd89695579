"""One symbol's equity chart for the desk report, as an inline SVG string.

Two lines over the report's window, cumulative bps after costs: the newest model of each
day (blue) and production's live record (orange, broken where production was flat), a
dashed zero line, the first and last day under the plot and the lowest and highest bps
beside it, and a legend, so the chart reads without its caption. A series without days
gets the same box with `no walk-forward days yet` in it: the grid keeps its shape and no
empty axes suggest a flat record. Drawn from numbers alone (no fonts, images or scripts
from outside), with coordinates rounded to 0.1 px so the same series give the same text.
"""

from collections.abc import Callable, Sequence
from html import escape

from retrain_assets.core.report.desk import EquitySeries

WIDTH, HEIGHT = 460, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 14, 30, 28
NEWEST_COLOUR, LIVE_COLOUR, AXIS_COLOUR = "#1f6fb4", "#e8710a", "#8a93a0"
EMPTY_MESSAGE = "no walk-forward days yet"
Point = tuple[float, float]


def equity_svg(series: EquitySeries) -> str:
    """The chart of `series` (values already cumulative, aligned with its days)."""
    label = escape(f"{series.symbol} equity, cumulative bps after costs")
    head = (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
    )
    if not series.days:
        body = (
            f'<text x="{WIDTH / 2:.1f}" y="{HEIGHT / 2:.1f}" text-anchor="middle" '
            f'class="empty-message" fill="{AXIS_COLOUR}">{EMPTY_MESSAGE}</text>'
        )
        return head + body + "</svg>"
    return head + "".join(_plot(series)) + "</svg>"


def _plot(series: EquitySeries) -> list[str]:
    values = [*series.newest_net_bps, *(v for v in series.live_net_bps if v is not None)]
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1.0  # a flat record at zero still needs a height to draw on

    def x(i: int) -> float:
        span = WIDTH - LEFT - RIGHT
        n = len(series.days)
        return LEFT + (span / 2 if n == 1 else span * i / (n - 1))

    def y(v: float) -> float:
        return TOP + (high - v) / (high - low) * (HEIGHT - TOP - BOTTOM)

    parts = _axes(series.days, low, high, y)
    newest = [(x(i), y(v)) for i, v in enumerate(series.newest_net_bps)]
    parts += _lines([newest], NEWEST_COLOUR, "newest")
    live = _segments(
        [None if v is None else (x(i), y(v)) for i, v in enumerate(series.live_net_bps)]
    )
    parts += _lines(live, LIVE_COLOUR, "live")
    return parts + _legend()


def _axes(days: Sequence[str], low: float, high: float, y: Callable[[float], float]) -> list[str]:
    """Frame, zero line, bps labels at the extremes (and 0), first and last day."""
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = [
        f'<path d="M{LEFT} {TOP}V{bottom}H{right}" fill="none" stroke="{AXIS_COLOUR}"/>',
        f'<line class="zero" x1="{LEFT}" x2="{right}" y1="{y(0.0):.1f}" y2="{y(0.0):.1f}" '
        f'stroke="{AXIS_COLOUR}" stroke-dasharray="4 3"/>',
    ]
    ticks = {high: "max", low: "min"}
    if min(abs(y(0.0) - y(high)), abs(y(0.0) - y(low))) > 12:  # else the labels overlap
        ticks[0.0] = "zero"
    for value, kind in ticks.items():
        text = "0" if value == 0 else f"{value:+.1f}"
        parts.append(
            f'<text class="y-{kind}" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end" font-size="11" fill="#3c4450">{text}</text>'
        )
    parts.append(
        f'<text x="{LEFT - 6}" y="{TOP - 14}" text-anchor="end" font-size="10" '
        f'fill="{AXIS_COLOUR}">bps</text>'
    )
    first, last = escape(days[0]), escape(days[-1])
    parts.append(
        f'<text class="x-first" x="{LEFT}" y="{HEIGHT - 8}" font-size="11" '
        f'fill="#3c4450">{first}</text>'
    )
    if len(days) > 1:
        parts.append(
            f'<text class="x-last" x="{right}" y="{HEIGHT - 8}" text-anchor="end" '
            f'font-size="11" fill="#3c4450">{last}</text>'
        )
    return parts


def _segments(points: Sequence[Point | None]) -> list[list[Point]]:
    """The runs of consecutive points between gaps (None)."""
    runs: list[list[Point]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def _lines(runs: list[list[Point]], colour: str, kind: str) -> list[str]:
    """A polyline per run; a lone day is a dot, so it is not lost between two gaps."""
    parts = []
    for run in runs:
        if len(run) == 1:
            ((px, py),) = run
            parts.append(
                f'<circle class="{kind}" cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}"/>'
            )
        else:
            coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            parts.append(
                f'<polyline class="{kind}" points="{coords}" fill="none" stroke="{colour}" '
                f'stroke-width="2" stroke-linejoin="round"/>'
            )
    return parts


def _legend() -> list[str]:
    parts = []
    for i, (colour, text) in enumerate(
        ((NEWEST_COLOUR, "newest model"), (LIVE_COLOUR, "production"))
    ):
        left = LEFT + 8 + 130 * i
        parts.append(
            f'<line x1="{left}" x2="{left + 18}" y1="12" y2="12" stroke="{colour}" '
            f'stroke-width="3"/>'
            f'<text x="{left + 24}" y="16" font-size="11" fill="#3c4450">{text}</text>'
        )
    return parts
