"""Causal features and the forward-return label from 1h OHLCV bars.

Every feature at row t is computed from bars at or before t only: trailing windows, causal
EWMs, calendar fields. Bars are first laid on a complete hourly grid, so a missing bar is a
NaN, never filled forward and never silently spanned as if the next bar followed it.

A trailing window of w bars is computed from the bars present in it when at least
`MIN_COVERAGE` of them are (see `min_periods`): a mean, a deviation or an extreme over 126 of
168 hours says what the full window would, while a window mostly empty is dropped. So a short
outage costs only the rows it touches: the missing bars, rows whose lagged return reads one,
rows whose short windows it empties, rows whose label falls into it. Without this, every
168-bar window spanning a one-hour outage was NaN and the outage blanked a week of rows.
"""

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api.typing import Rolling

from retrain_assets.core.errors import PermanentError

BAR = pd.Timedelta(hours=1)
RET_LAGS = (1, 2, 4, 8, 12, 24, 72, 168)
VOL_WINDOWS = (6, 24, 72, 168)
SMA_WINDOWS = (24, 72, 168)
RSI_WINDOWS = (14, 48)
# Bars before the first row that can have every feature: the longest lag and window.
WARMUP_BARS = max(*RET_LAGS, *VOL_WINDOWS, *SMA_WINDOWS)
# Share of a trailing window's bars that must be present for the window to count. With 3/4,
# rvol_6 needs 5 of its 6 returns, the 24-bar windows 18 bars and the 168-bar ones 126.
MIN_COVERAGE = 0.75
REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")

FEATURE_NAMES: tuple[str, ...] = (
    *(f"logret_{k}" for k in RET_LAGS),
    *(f"rvol_{w}" for w in VOL_WINDOWS),
    "parkinson_24",
    "parkinson_168",
    "vol_ratio_24_168",
    "range_1",
    "body_1",
    "upper_wick_1",
    "lower_wick_1",
    "close_location",
    "volume_z_24",
    "volume_z_168",
    "log_volume_ratio_24",
    *(f"rsi_{w}" for w in RSI_WINDOWS),
    *(f"dist_sma_{w}" for w in SMA_WINDOWS),
    "ema_12_48",
    "dist_high_168",
    "dist_low_168",
    "hour_sin",
    "hour_cos",
    "dow_sin",
    "dow_cos",
)


@dataclass(frozen=True)
class LabelSpec:
    """The training target: the forward log return over `horizon` bars.

    Why a regression on the forward return: the decision is taken at the close of bar t,
    and a trade only pays if the move beats the round-trip cost. A sign label would teach
    the model moves far too small to pay for; a fixed cost-aware class would freeze today's
    cost into the target. Regressing `ln(close[t+h] / close[t])` keeps the magnitude, and the
    trading rule (`evaluation.positions_from_predictions`) enters only when the predicted
    move beats the round-trip cost of that bar, so the cost is applied at decision time.
    """

    horizon: int = 4
    kind: Literal["forward_log_return"] = "forward_log_return"


def min_periods(window: int) -> int:
    """Fewest present values a trailing window of `window` bars is computed from."""
    return math.ceil(MIN_COVERAGE * window)


def _trailing(x: pd.Series, window: int) -> Rolling:
    return x.rolling(window, min_periods=min_periods(window))


def _on_grid(bars: pd.DataFrame) -> pd.DataFrame:
    """Reindex the bars on a gap-free hourly grid (missing bars become NaN rows)."""
    missing = [c for c in REQUIRED if c not in bars.columns]
    if missing:
        raise PermanentError(f"bars lack columns {missing}")
    ts = bars["timestamp"]
    if ts.empty:
        raise PermanentError("no bars to build features from")
    if not (ts.is_monotonic_increasing and ts.is_unique):
        raise PermanentError("bar timestamps must be sorted and unique")
    if ((ts - ts.iloc[0]) % BAR != pd.Timedelta(0)).any():
        raise PermanentError("bar timestamps are not on an hourly grid")
    grid = pd.date_range(ts.iloc[0], ts.iloc[-1], freq=BAR)
    return bars.set_index("timestamp").reindex(grid)


def _rsi(close: pd.Series, window: int) -> pd.Series:
    """Wilder's RSI mapped to [-0.5, 0.5]; causal (recursive EWM)."""
    diff = close.diff()
    ewm = {"alpha": 1.0 / window, "adjust": False, "min_periods": window}
    up = diff.clip(lower=0.0).ewm(**ewm).mean()
    down = (-diff).clip(lower=0.0).ewm(**ewm).mean()
    total = up + down
    return (up / total.where(total > 0)).fillna(0.5).where(up.notna()) - 0.5


def _zscore(x: pd.Series, window: int) -> pd.Series:
    mean = _trailing(x, window).mean()
    std = _trailing(x, window).std()
    return ((x - mean) / std.where(std > 0)).where(std.isna() | (std > 0), 0.0)


def _price_features(g: pd.DataFrame) -> dict[str, pd.Series]:
    lc, lh, ll, lo = (np.log(g[k]) for k in ("close", "high", "low", "open"))
    r1 = lc.diff()
    hl2 = (lh - ll) ** 2 / (4.0 * np.log(2.0))
    f: dict[str, pd.Series] = {f"logret_{k}": lc.diff(k) for k in RET_LAGS}
    f |= {f"rvol_{w}": _trailing(r1, w).std() for w in VOL_WINDOWS}
    f["parkinson_24"] = np.sqrt(_trailing(hl2, 24).mean())
    f["parkinson_168"] = np.sqrt(_trailing(hl2, 168).mean())
    f["vol_ratio_24_168"] = f["rvol_24"] / f["rvol_168"].where(f["rvol_168"] > 0)
    f["range_1"] = lh - ll
    f["body_1"] = lc - lo
    f["upper_wick_1"] = lh - np.maximum(lo, lc)
    f["lower_wick_1"] = np.minimum(lo, lc) - ll
    span = g["high"] - g["low"]
    f["close_location"] = ((g["close"] - g["low"]) / span.where(span > 0)).fillna(0.5)
    f["close_location"] = f["close_location"].where(g["close"].notna())
    f |= {f"rsi_{w}": _rsi(g["close"], w) for w in RSI_WINDOWS}
    f |= {f"dist_sma_{w}": lc - np.log(_trailing(g["close"], w).mean()) for w in SMA_WINDOWS}
    ema = {s: g["close"].ewm(span=s, adjust=False, min_periods=s).mean() for s in (12, 48)}
    f["ema_12_48"] = np.log(ema[12] / ema[48])
    f["dist_high_168"] = lc - np.log(_trailing(g["high"], 168).max())
    f["dist_low_168"] = lc - np.log(_trailing(g["low"], 168).min())
    return f


def _volume_and_calendar(g: pd.DataFrame) -> dict[str, pd.Series]:
    lv = np.log1p(g["volume"])
    f = {"volume_z_24": _zscore(lv, 24), "volume_z_168": _zscore(lv, 168)}
    f["log_volume_ratio_24"] = lv - np.log1p(_trailing(g["volume"], 24).mean())
    hour = g.index.hour.to_numpy() * (2.0 * np.pi / 24.0)
    dow = g.index.day_of_week.to_numpy() * (2.0 * np.pi / 7.0)
    for name, values in (("hour", hour), ("dow", dow)):
        f[f"{name}_sin"] = pd.Series(np.sin(values), index=g.index)
        f[f"{name}_cos"] = pd.Series(np.cos(values), index=g.index)
    return f


def build_features(bars: pd.DataFrame, label: LabelSpec) -> pd.DataFrame:
    """Build the model frame: `timestamp`, FEATURE_NAMES, `close`, `sigma`, `label`.

    `sigma` is the 24-bar realised volatility of 1-bar log returns known at t (for costs).
    `label` is `ln(close[t+h] / close[t])` with t+h exactly h hours later. Rows are kept only
    where every feature is known (the warm-up is dropped) and where the label is either known
    or unknown only because the bars end within h hours; rows whose label falls into a
    missing bar are dropped. So the rows with a known label form a prefix of the frame, and
    its NaN-labelled tail is the last few rows, whose outcome was not yet known.

    Raises:
        PermanentError: missing columns, or timestamps unsorted, duplicated or off the grid.
    """
    g = _on_grid(bars)
    feats = _price_features(g) | _volume_and_calendar(g)
    out = pd.DataFrame({name: feats[name] for name in FEATURE_NAMES}, index=g.index)
    out = out.replace([np.inf, -np.inf], np.nan)
    out["close"] = g["close"]
    out["sigma"] = feats["rvol_24"]
    lc = np.log(g["close"])
    out["label"] = lc.shift(-label.horizon) - lc
    unknown_yet = g.index > g.index[-1] - label.horizon * BAR
    keep = out[[*FEATURE_NAMES, "sigma"]].notna().all(axis=1)
    keep &= out["label"].notna() | unknown_yet
    out = out.loc[keep]
    out.index.name = "timestamp"
    out = out.reset_index()
    out["timestamp"] = out["timestamp"].astype(bars["timestamp"].dtype)
    return out
