"""Deterministic synthetic 1h crypto bars with the stylised facts of real ones.

Its universe is fixed: the 40 USDT pairs of `SYNTHETIC_SYMBOLS` (the candidates `topN` ranks),
plus the numbered pairs S0001USDT to S9999USDT that scale benchmarks use (never ranked). A
selection naming anything else is refused before any work; `load` still serves any valid
name, so a partition registered by hand still runs.

Bars are generated from `origin` in fixed chunks of `CHUNK_HOURS`; each chunk draws its random
numbers from a seed derived from (seed, symbol, chunk index) and carries the state (last price,
volatility and volume factors) of the chunk before. A bar therefore depends only on what came
before it, never on the window requested, which leakage tests rely on.
"""

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retrain_assets.core.data.bars import ONE_HOUR, BarsReport, empty_bars, validate_bars
from retrain_assets.core.data.market_data import window_bounds
from retrain_assets.core.data.symbols import normalize_symbol

CHUNK_HOURS = 720
DEFAULT_ORIGIN = pd.Timestamp("2019-01-01", tz="UTC")

# (symbol, typical price in USDT, typical daily quote volume in millions of USDT)
# fmt: off
_PROFILES: tuple[tuple[str, float, float], ...] = (
    ("BTCUSDT", 30000.0, 20000.0), ("ETHUSDT", 2000.0, 10000.0), ("BNBUSDT", 300.0, 1500.0),
    ("SOLUSDT", 60.0, 1200.0), ("XRPUSDT", 0.6, 1100.0), ("DOGEUSDT", 0.1, 900.0),
    ("ADAUSDT", 0.5, 700.0), ("AVAXUSDT", 25.0, 500.0), ("MATICUSDT", 1.0, 450.0),
    ("DOTUSDT", 8.0, 400.0), ("LINKUSDT", 10.0, 380.0), ("LTCUSDT", 90.0, 350.0),
    ("TRXUSDT", 0.08, 300.0), ("SHIBUSDT", 0.00002, 290.0), ("ATOMUSDT", 12.0, 250.0),
    ("NEARUSDT", 3.0, 230.0), ("FILUSDT", 6.0, 220.0), ("UNIUSDT", 7.0, 200.0),
    ("BCHUSDT", 250.0, 190.0), ("ETCUSDT", 25.0, 180.0), ("APTUSDT", 8.0, 170.0),
    ("ARBUSDT", 1.2, 160.0), ("OPUSDT", 1.8, 150.0), ("INJUSDT", 20.0, 140.0),
    ("XLMUSDT", 0.12, 120.0), ("ALGOUSDT", 0.25, 100.0), ("VETUSDT", 0.03, 90.0),
    ("ICPUSDT", 6.0, 85.0), ("SANDUSDT", 0.8, 80.0), ("MANAUSDT", 0.7, 75.0),
    ("AAVEUSDT", 100.0, 70.0), ("EOSUSDT", 1.2, 65.0), ("THETAUSDT", 1.5, 60.0),
    ("AXSUSDT", 10.0, 55.0), ("FTMUSDT", 0.4, 50.0), ("GRTUSDT", 0.2, 45.0),
    ("XTZUSDT", 1.5, 40.0), ("CHZUSDT", 0.1, 35.0), ("EGLDUSDT", 50.0, 30.0),
    ("ZECUSDT", 40.0, 25.0),
)
# fmt: on
_BY_SYMBOL = {symbol: (price, volume) for symbol, price, volume in _PROFILES}
# The pairs the source knows, most traded first.
SYNTHETIC_SYMBOLS: tuple[str, ...] = tuple(symbol for symbol, _, _ in _PROFILES)
# Numbered pairs for benchmarks that need more symbols than the listed ones.
NUMBERED_SYMBOL = re.compile(r"^S\d{4}USDT$")

# Log-volatility is a sum of AR(1) factors (hours, days, weeks), which gives GARCH-like
# clustering with long memory; the last factor drifts each symbol's volume share slowly.
_VOL_PHIS = np.array([0.9, 0.99, 0.999])
_VOL_SDS = np.array([0.25, 0.25, 0.3])
_SHARE_PHI = 0.5 ** (1 / (60 * 24))  # half-life of 60 days
_SHARE_SD = 0.3
_HOURLY_VOL = 0.008
_T_DF = 4.5
_SEASON = 0.35 * np.cos(2 * np.pi * (np.arange(24) - 15) / 24)  # busiest around 15:00 UTC


@dataclass(frozen=True)
class _State:
    log_price: float
    factors: np.ndarray  # the volatility factors, then the volume-share factor


def _stable_int(*parts: object) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _profile(symbol: str, seed: int) -> tuple[float, float]:
    if symbol in _BY_SYMBOL:
        return _BY_SYMBOL[symbol]
    rng = np.random.default_rng(_stable_int("profile", seed, symbol))
    # Unknown symbols trade below the listed ones, so they never crowd out the top N.
    return float(10 ** rng.uniform(-4, 3)), float(10 ** rng.uniform(0, 1.3))


def _ar1(x0: np.ndarray, phis: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    """Runs x_t = phi x_{t-1} + e_t for each column, vectorised in closed form."""
    steps = np.arange(1, len(shocks) + 1)[:, None]
    powers = phis[None, :] ** steps  # smallest is 0.9**720 ~ 1e-33, safely above underflow
    return powers * (x0[None, :] + np.cumsum(shocks / powers, axis=0))


class _SymbolSeries:
    """One symbol's chunks, generated lazily; only the chunk-start states are kept."""

    def __init__(self, symbol: str, seed: int, origin_hour: int) -> None:
        self.symbol = symbol
        self.seed = seed
        self.origin_hour = origin_hour
        price, volume_m = _profile(symbol, seed)
        self.quote_volume_hourly = volume_m * 1e6 / 24
        # Replaced whole, never changed in place, and with no lock: threads extending it at
        # once repeat each other's (identical) work but cannot corrupt it, and a process forked
        # while another thread extends it inherits no held lock.
        self.states: tuple[_State, ...] = (
            _State(float(np.log(price)), np.zeros(len(_VOL_PHIS) + 1)),
        )

    def chunk(self, index: int) -> np.ndarray:
        """Returns chunk `index` as rows of (open, high, low, close, volume)."""
        states = self.states
        if len(states) <= index:
            grown = list(states)
            while len(grown) <= index:
                grown.append(self._generate(grown[-1], len(grown) - 1)[1])
            if len(grown) > len(self.states):
                self.states = tuple(grown)
            states = tuple(grown)
        return self._generate(states[index], index)[0]

    def _generate(self, state: _State, index: int) -> tuple[np.ndarray, _State]:
        rng = np.random.default_rng(_stable_int("chunk", self.seed, self.symbol, index))
        phis = np.append(_VOL_PHIS, _SHARE_PHI)
        sds = np.append(_VOL_SDS, _SHARE_SD) * np.sqrt(1 - phis**2)
        factors = _ar1(state.factors, phis, rng.standard_normal((CHUNK_HOURS, 4)) * sds)
        hours = (np.arange(CHUNK_HOURS) + index * CHUNK_HOURS + self.origin_hour) % 24
        sigma = _HOURLY_VOL * np.exp(factors[:, :3].sum(axis=1) + _SEASON[hours] - 0.25)
        shocks = rng.standard_t(_T_DF, CHUNK_HOURS) / np.sqrt(_T_DF / (_T_DF - 2))
        returns = sigma * np.clip(shocks, -12, 12)
        log_close = state.log_price + np.cumsum(returns)
        close = np.exp(log_close)
        open_ = np.exp(np.concatenate([[state.log_price], log_close[:-1]]))
        wick = np.abs(rng.standard_normal((CHUNK_HOURS, 2))) * sigma[:, None] * 0.6
        high = np.maximum(open_, close) * np.exp(wick[:, 0])
        low = np.minimum(open_, close) * np.exp(-wick[:, 1])
        activity = (sigma / _HOURLY_VOL) ** 0.7 * (0.5 + 0.5 * np.abs(shocks))
        noise = np.exp(
            0.3 * rng.standard_normal(CHUNK_HOURS) + factors[:, 3] + 1.2 * _SEASON[hours]
        )
        volume = self.quote_volume_hourly * activity * noise / close
        values = np.column_stack([open_, high, low, close, volume])
        return values, _State(float(log_close[-1]), factors[-1].copy())


# Every source's series, by (symbol, seed, origin hour): what a series' chunks depend on. One
# process (a run's several loads of a symbol, a launcher's workers forked after its checks) then
# walks a symbol's chunks from the origin once instead of once per source and load.
_SERIES: dict[tuple[str, int, int], _SymbolSeries] = {}


class SyntheticSource:
    """An offline `BarSource` of deterministic, prefix-stable synthetic 1h bars.

    Args:
        origin: The first bar of every series; nothing exists before it.
        seed: Changes every series at once.
    """

    name = "synthetic"

    def __init__(self, origin: pd.Timestamp = DEFAULT_ORIGIN, seed: int = 7) -> None:
        self.origin = pd.Timestamp(origin).floor("h")
        if self.origin.tzinfo is None:
            self.origin = self.origin.tz_localize("UTC")
        self.seed = seed

    @property
    def identity(self) -> str:
        """`synthetic seed 7`, plus the origin when it is not the default one."""
        text = f"synthetic seed {self.seed}"
        if self.origin != DEFAULT_ORIGIN:
            text += f" origin {self.origin.isoformat()}"
        return text

    def candidates(self) -> list[str]:
        """Returns the embedded list of well-known USDT pairs, sorted."""
        return sorted(_BY_SYMBOL)

    def has_symbol(self, symbol: str) -> bool:
        """Whether `symbol` is in the fixed universe (see the module docstring)."""
        return symbol in _BY_SYMBOL or NUMBERED_SYMBOL.match(symbol) is not None

    def load(
        self, symbol: str, end: pd.Timestamp, lookback: pd.Timedelta
    ) -> tuple[pd.DataFrame, BarsReport]:
        """Returns the bars with `end - lookback <= timestamp < end`; see `BarSource.load`."""
        symbol = normalize_symbol(symbol)
        start, stop = window_bounds(end, lookback)
        first = max(int(np.ceil((start - self.origin) / ONE_HOUR)), 0)
        last = int(np.ceil((stop - self.origin) / ONE_HOUR))  # exclusive hour index
        if last <= first:
            return validate_bars(empty_bars(), symbol)
        key = (symbol, self.seed, self.origin.hour)
        series = _SERIES.get(key)
        if series is None:
            series = _SERIES.setdefault(key, _SymbolSeries(*key))
        chunks = range(first // CHUNK_HOURS, (last - 1) // CHUNK_HOURS + 1)
        values = np.concatenate([series.chunk(i) for i in chunks])
        offset = chunks[0] * CHUNK_HOURS
        values = values[first - offset : last - offset]
        frame = pd.DataFrame(values, columns=["open", "high", "low", "close", "volume"])
        nanos = self.origin.value + ONE_HOUR.value * np.arange(first, last, dtype="int64")
        frame.insert(0, "timestamp", pd.to_datetime(nanos, unit="ns", utc=True))
        return validate_bars(frame, symbol)
