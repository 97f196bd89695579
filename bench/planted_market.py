"""Planted-edge markets: 1h bars whose returns are partly predictable from a lagged return.

The power and the null of the promotion gate are measured on markets whose truth is known.
Each symbol's hourly log return follows an AR(1), `r[t] = phi r[t-1] + e[t]`, with the
innovation scaled so the unconditional hourly volatility stays `hourly_vol` whatever `phi`:

- `phi = 0`: a random walk, nothing to learn (the null);
- `phi > 0`: momentum at lag 1, which the features' `logret_1` sees and a model can trade
  (a decision at the close of bar t fills at the next open, which is that close);
- `vanish_at`: the edge is there before that time and gone (`phi = 0`) from it on.

Bars are written as `<SYMBOL>.parquet` with the files source's columns (timestamp, open, high,
low, close, volume), so the product reads them with `RETRAIN_DATA_SOURCE=files` and
`RETRAIN_DATA_DIR` pointing at the folder. Each symbol is drawn from its own seed, so adding a
symbol changes nothing of the others, and the same arguments write the same bytes.

    .venv/bin/python -m bench.planted_market --out /tmp/market --phi 0.5 \\
        --symbols AAAUSDT,BBBUSDT --first 2021-01-01 --last 2021-08-01
"""

import argparse
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HOURLY_VOL = 0.008


@dataclass(frozen=True)
class PlantedSymbol:
    """One symbol's market: its lag-1 autocorrelation, and when the edge vanishes (if ever)."""

    symbol: str
    phi: float = 0.0
    vanish_at: pd.Timestamp | None = None
    price: float = 100.0
    volume: float = 1e5


def _seed(symbol: str, seed: int) -> int:
    digest = hashlib.sha256(f"{seed}|{symbol}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def planted_bars(
    spec: PlantedSymbol,
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    seed: int = 0,
    hourly_vol: float = HOURLY_VOL,
) -> pd.DataFrame:
    """Hourly bars of one symbol from `first` to `last` (exclusive), as the files source reads.

    Args:
        spec: The symbol and its edge.
        first: The first bar's start (UTC).
        last: The end of the last bar (UTC).
        seed: The market's seed; each symbol derives its own from it and its name.
        hourly_vol: Unconditional standard deviation of the hourly log return.

    Returns:
        timestamp (UTC), open, high, low, close, volume; `open[t] = close[t-1]`.
    """
    if not -1.0 < spec.phi < 1.0:
        raise ValueError(f"phi must be in (-1, 1), got {spec.phi}")
    stamps = pd.date_range(first, last, freq="1h", inclusive="left", tz="UTC")
    rng = np.random.default_rng(_seed(spec.symbol, seed))
    phis = np.full(len(stamps), spec.phi)
    if spec.vanish_at is not None:
        phis[stamps >= spec.vanish_at] = 0.0
    shocks = rng.standard_normal(len(stamps)) * hourly_vol
    returns = np.empty(len(stamps))
    previous = 0.0
    for i, phi in enumerate(phis):
        previous = phi * previous + np.sqrt(1.0 - phi * phi) * shocks[i]
        returns[i] = previous
    close = spec.price * np.exp(np.cumsum(returns))
    open_ = np.concatenate(([spec.price], close[:-1]))
    wick = np.abs(rng.standard_normal((2, len(stamps)))) * hourly_vol / 4
    return pd.DataFrame(
        {
            "timestamp": stamps,
            "open": open_,
            "high": np.maximum(open_, close) * np.exp(wick[0]),
            "low": np.minimum(open_, close) * np.exp(-wick[1]),
            "close": close,
            "volume": spec.volume * np.exp(0.3 * rng.standard_normal(len(stamps))),
        }
    )


def write_market(
    folder: Path,
    specs: list[PlantedSymbol],
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    seed: int = 0,
) -> list[Path]:
    """Write each symbol's bars to `folder/<SYMBOL>.parquet`; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in specs:
        path = folder / f"{spec.symbol}.parquet"
        planted_bars(spec, first, last, seed=seed).to_parquet(path, index=False)
        written.append(path)
    return written


def main() -> None:
    """Write a planted market from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--symbols", required=True, help="comma-separated, e.g. AAAUSDT,BBBUSDT")
    parser.add_argument("--phi", type=float, default=0.0, help="lag-1 autocorrelation")
    parser.add_argument("--vanish_at", default=None, help="UTC time the edge vanishes")
    parser.add_argument("--first", default="2021-01-01")
    parser.add_argument("--last", default="2021-08-01")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    vanish = None if args.vanish_at is None else pd.Timestamp(args.vanish_at, tz="UTC")
    specs = [PlantedSymbol(s.strip(), args.phi, vanish) for s in args.symbols.split(",")]
    first, last = pd.Timestamp(args.first, tz="UTC"), pd.Timestamp(args.last, tz="UTC")
    for path in write_market(args.out, specs, first, last, seed=args.seed):
        print(path)


if __name__ == "__main__":
    main()
