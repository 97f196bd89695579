import io
from dataclasses import replace

import matplotlib.image
import numpy as np
import pytest

from retrain_assets.core.report.pnl_chain import (
    PnlFigures,
    WalkForwardRecord,
    chain_pnl,
    equity_curves,
)
from retrain_assets.core.report.pnl_plot import (
    MAX_SYMBOL_PANELS,
    panel_symbols,
    panel_title,
    render_equity_png,
    render_symbol_png,
)
from retrain_assets.core.trading.evaluation import INSUFFICIENT_EVIDENCE, OK
from retrain_assets.core.trading.walk_forward import DayPnl, PnlTrade

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def ledger(symbol: str, day: str, net: list[float], trades: int = 0) -> DayPnl:
    """A traded day of hourly bars from 00:00 with `trades` one-bar trades of +10 bps."""
    stamps = tuple(f"{day}T{h:02d}:00:00+00:00" for h in range(len(net)))
    made = tuple(PnlTrade(1, stamps[h], stamps[h + 1], 1, 0.0011, 0.001) for h in range(trades))
    buy_and_hold = tuple(float(v) for v in np.cumsum(net) / 10)
    return DayPnl(
        symbol=symbol,
        day=day,
        model_as_of="yesterday",
        status="traded",
        costs_as_of=day,
        mean_cost_per_side_bps=5.0,
        timestamps=stamps,
        position=(0.0,) * len(net),
        gross=tuple(net),
        net=tuple(net),
        buy_and_hold_gross=buy_and_hold,
        buy_and_hold_net=buy_and_hold,
        trades=made,
    )


def days_of(symbols: list[str], days: int = 3, trades: int = 2) -> list[DayPnl]:
    rng = np.random.default_rng(0)
    return [
        ledger(s, f"2024-01-{d:02d}", list(rng.normal(0.0, 0.002, 24)), trades)
        for s in symbols
        for d in range(1, days + 1)
    ]


def render(days: list[DayPnl], title: str = "walk-forward") -> bytes:
    record = chain_pnl(days, min_trades=4, resamples=100)
    return render_equity_png(equity_curves(days), record, title=title)


def image_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of the decoded PNG."""
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    return pixels.shape[1], pixels.shape[0]


def figures(name: str, trades: int, net: float | None, interval, status: str) -> PnlFigures:
    empty = chain_pnl([], resamples=10).pooled
    return replace(
        empty,
        name=name,
        trades=trades,
        net_bps_per_trade=net,
        net_bps_interval=interval,
        status=status,
    )


def test_the_png_has_the_signature_and_is_fourteen_inches_wide_at_100_dpi():
    png = render(days_of(["BTC/USDT", "ETH/USDT"]))
    assert png.startswith(PNG_SIGNATURE)
    width, height = image_size(png)
    assert width == 1400
    assert 400 <= height <= 1000


def test_more_symbols_make_a_taller_figure_not_smaller_panels():
    _, one_row = image_size(render(days_of(["A", "B", "C"])))
    _, two_rows = image_size(render(days_of(["A", "B", "C", "D"])))
    assert two_rows - one_row == pytest.approx(260, abs=2)


def test_a_single_symbol_without_trades_renders():
    png = render(days_of(["BTC/USDT"], trades=0))
    assert png.startswith(PNG_SIGNATURE)
    assert image_size(png)[0] == 1400


def test_empty_curves_render_a_figure_saying_there_are_no_days_yet():
    png = render([], title="nothing yet")
    assert png.startswith(PNG_SIGNATURE)
    width, height = image_size(png)
    assert (width, height) == (1400, 300)


def test_the_same_curves_give_the_same_bytes():
    days = days_of(["BTC/USDT", "ETH/USDT"])
    assert render(days) == render(list(reversed(days)))


def test_beyond_thirty_symbols_the_most_traded_are_drawn_and_the_rest_counted():
    base = chain_pnl(days_of(["X"], days=1), resamples=10).per_symbol["X"]
    per_symbol = {
        f"S{i:02d}": replace(base, name=f"S{i:02d}", trades=i) for i in range(MAX_SYMBOL_PANELS + 4)
    }
    record = WalkForwardRecord(per_symbol, base, base, "2024-01-01", "2024-01-01", {}, 30)
    shown, hidden = panel_symbols(record)
    assert hidden == 4
    assert shown == [f"S{i:02d}" for i in range(4, MAX_SYMBOL_PANELS + 4)]
    assert panel_symbols(record, limit=100) == (sorted(per_symbol), 0)


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (
            figures("BTC/USDT", 42, 12.345, (-3.0, 27.5), OK),
            "BTC/USDT: 42 trades, net +12.3 bps/trade [-3.0, +27.5]",
        ),
        (
            figures("ETH/USDT", 3, 50.0, (1.0, 99.0), INSUFFICIENT_EVIDENCE),
            "ETH/USDT: insufficient evidence (3 trades)",
        ),
        (
            figures("SOL/USDT", 1, 5.0, None, INSUFFICIENT_EVIDENCE),
            "SOL/USDT: insufficient evidence (1 trade)",
        ),
        # With min_trades 0 a series without trades is ok, and still has no net figure.
        (figures("portfolio", 0, None, None, OK), "portfolio: 0 trades"),
        # The portfolio has no per-trade figure: its title gives its own daily net.
        (
            replace(
                figures("portfolio", 40, None, None, OK),
                net_bps_per_day=8.25,
                net_bps_per_day_interval=(-2.0, 18.5),
            ),
            "portfolio: 40 trades, net +8.2 bps/day [-2.0, +18.5]",
        ),
    ],
)
def test_panel_titles_give_the_net_and_its_interval_or_say_the_evidence_is_insufficient(
    made, expected
):
    assert panel_title(made) == expected


def test_a_symbol_alone_is_drawn_on_its_own_axes_and_differs_from_another_symbol():
    days = days_of(["BTC/USDT", "ETH/USDT"])
    record = chain_pnl(days, min_trades=4, resamples=100)
    curves = equity_curves(days)
    btc = render_symbol_png(curves, record.per_symbol["BTC/USDT"], title="BTC")
    eth = render_symbol_png(curves, record.per_symbol["ETH/USDT"], title="ETH")
    assert btc.startswith(PNG_SIGNATURE) and image_size(btc) == (700, 320)
    assert btc != eth
    only_btc = equity_curves([d for d in days if d.symbol == "BTC/USDT"])
    assert render_symbol_png(only_btc, record.per_symbol["BTC/USDT"], title="BTC") == btc
