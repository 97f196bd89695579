"""A market whose volume ranking flips on one day: for point-in-time universe tests."""

from pathlib import Path

import pandas as pd

from tests.fakes.markets import write_market, zigzag_bars

# Steady quote volume before the spike: BTC > ETH > ADA.
STEADY_ORDER = ["BTCUSDT", "ETHUSDT", "ADAUSDT"]
SPIKED = "ADAUSDT"


def write_volume_spike(folder: Path, day: str, days_before: int = 10) -> Path:
    """Bars through the end of `day`; on `day` alone ADAUSDT trades a million times its volume.

    Ranked on bars known at `day` 00:00 the order is `STEADY_ORDER`; any ranking that reads a
    bar of `day` puts `SPIKED` first.
    """
    end = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)
    markets = {}
    for rank, symbol in enumerate(STEADY_ORDER):
        bars = zigzag_bars(end, days_before + 1, 6, seed=rank)
        bars["volume"] = 1_000.0 * (len(STEADY_ORDER) - rank)
        markets[symbol] = bars
    spiked = markets[SPIKED]
    spiked.loc[spiked["timestamp"] >= pd.Timestamp(day, tz="UTC"), "volume"] *= 1e6
    return write_market(folder, markets)
