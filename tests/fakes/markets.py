"""Crafted markets for tests: hourly bars that trend or mean-revert by construction."""

from pathlib import Path

import numpy as np
import pandas as pd


def zigzag_bars(
    end: pd.Timestamp, days: int, block_bars: int, *, step: float = 0.005, seed: int = 0
) -> pd.DataFrame:
    """Hourly bars ending before `end` that rise `block_bars` bars, then fall as many, and so on.

    Each bar's log return is +-`step` plus a little noise. Blocks longer than the 4-bar label
    horizon trend: a rule that follows the last bar's return makes money after costs, and
    buy-and-hold goes nowhere. Blocks of 2 bars mean-revert: that rule loses its costs. Each
    bar opens at the previous close, so fills at the next open trade the same prices; highs
    and lows sit 2 bps outside the body, so the estimated spread stays small.
    """
    n = days * 24
    rng = np.random.default_rng(seed)
    sign = np.where((np.arange(n) // block_bars) % 2 == 0, 1.0, -1.0)
    returns = sign * step + rng.normal(0.0, step / 20, n)
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.append(100.0, close[:-1])
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(end=end - pd.Timedelta(hours=1), periods=n, freq="h"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.0002,
            "low": np.minimum(open_, close) * 0.9998,
            "close": close,
            "volume": 1_000.0 + rng.uniform(0.0, 100.0, n),
        }
    )


def write_market(folder: Path, markets: dict[str, pd.DataFrame]) -> Path:
    """Write each symbol's bars as `{SYMBOL}.parquet` (the files source reads them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for symbol, bars in markets.items():
        bars.to_parquet(folder / f"{symbol}.parquet", index=False)
    return folder
