"""What made a symbol-day: the data source, the bars it read, the method, the trainer, the product.

"Done" means intact AND made the same way as the current configuration. Every symbol-day
asset records a `Provenance`; the launcher compares it with the current one and rebuilds what
differs, saying why (`stale: data source synthetic seed 7 -> files /data`,
`stale: method lookback_days 180 -> 120`).

The **method** is every setting that changes an asset's numbers, flat (`lookback_days`,
`cost.taker_fee_bps`, `trainer`, ...). Each asset depends on a subset of them, its own and its
upstream assets' (`ASSET_SETTINGS`): the asset's method digest is the sha256 of exactly that
subset, so a cost setting changes `costs` and what reads it, never `features` or `model`. That
digest with the source's identity is the asset's Dagster `code_version`, so the UI marks the
partitions made another way stale too.

A walk-forward day belongs to the **family** of the live model that traded it: its method and
the kind of data source. Records and gates pool only the days of one family (`family_of`).
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DIGEST_CHARS = 12
BAR_COLUMNS = ("open", "high", "low", "close", "volume")

# Settings, by what they change. `product_version` is in every asset's method: a new release
# may compute differently, so its outputs are a new method until proven otherwise.
DATA_WINDOW = ("lookback_days", "product_version")
SPLIT = ("horizon_bars", "test_days", "validation_days")
FIT = (
    "iterations",
    "learning_rate",
    "depth",
    "l2_leaf_reg",
    "early_stopping_rounds",
    "min_trees",
    "calibration_max_slope",
    "calibrate",
    "random_seed",
    "trainer",
)
COST = (
    "cost.venue",
    "cost.taker_fee_bps",
    "cost.maker_fee_bps",
    "cost.per_symbol_fees_bps",
    "cost.window_days",
    "cost.spread_estimator",
    "cost.quoted_spread_bps",
    "cost.liquidity_tiers",
    "cost.liquidity_measure",
    "cost.order_notional",
    "cost.impact_k",
)
GATE = (
    "gate.alpha",
    "gate.planned_days",
    "gate.method_window_days",
    "gate.min_method_days",
    "gate.window_days",
    "gate.min_trades",
    "gate.symbol_min_t",
    "gate.demote_window_days",
    "gate.demote_level",
    "gate.demote_after_failed_days",
)
# The resources' fields behind these settings (`resources/method.py` reads them by name).
TRAINING_FIELDS = ("lookback_days", *SPLIT, *FIT[:-1], "min_trades")
COST_FIELDS = tuple(name.removeprefix("cost.") for name in COST)
GATE_FIELDS = tuple(name.removeprefix("gate.") for name in GATE)
_FEATURES = (*DATA_WINDOW, *SPLIT, "features")
_COSTS = (*DATA_WINDOW, *SPLIT, *COST)
_MODEL = (*_FEATURES, *FIT)
_WALK_FORWARD = (*_MODEL, *COST)
_METRICS = (*_WALK_FORWARD, "min_trades")
ASSET_SETTINGS: dict[str, tuple[str, ...]] = {
    "costs": _COSTS,
    "features": _FEATURES,
    "model": _MODEL,
    "walk_forward": _WALK_FORWARD,
    "metrics": _METRICS,
    "champion": (*_METRICS, *GATE),
    "walk_forward_report": ("min_trades", "product_version"),
    "engine_summary": ("product_version",),
    "desk_report": ("product_version",),
}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    """The first `DIGEST_CHARS` hex of the sha256 of `value` as canonical JSON."""
    return hashlib.sha256(_canonical(value).encode()).hexdigest()[:DIGEST_CHARS]


@dataclass(frozen=True)
class Method:
    """The full set of number-changing settings in force (flat name -> JSON-able value)."""

    settings: Mapping[str, Any]

    def of(self, asset: str) -> dict[str, Any]:
        """The settings `asset`'s numbers depend on (its own and its upstream assets').

        Raises:
            KeyError: a setting the asset depends on was not given (a wiring error).
        """
        missing = sorted(set(ASSET_SETTINGS[asset]) - set(self.settings))
        if missing:
            raise KeyError(f"method of {asset}: settings missing: {', '.join(missing)}")
        return {name: self.settings[name] for name in sorted(ASSET_SETTINGS[asset])}

    def digest_of(self, asset: str) -> str:
        """The asset's method digest (with the source, its code version: `Current.code_version`)."""
        return digest(self.of(asset))


def method_changes(before: Mapping[str, Any], after: Mapping[str, Any], limit: int = 3) -> str:
    """`lookback_days 180 -> 120, depth 6 -> 4`: the settings that differ, at most `limit`."""
    names = sorted(set(before) | set(after))
    changed = [n for n in names if _canonical(before.get(n)) != _canonical(after.get(n))]
    shown = [
        f"{n} {_short(before.get(n, 'unset'))} -> {_short(after.get(n, 'unset'))}" for n in changed
    ]
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" (+{more} more)" if more > 0 else "")


def _short(value: Any) -> str:
    if value is None:
        return "unset"
    text = value if isinstance(value, str) else _canonical(value)
    return text if len(text) <= 40 else f"{text[:16]}...({digest(value)})"


def bars_sha256(bars: pd.DataFrame) -> str:
    """The sha256 of the normalized bar window: UTC nanosecond timestamps and OHLCV as float64.

    Independent of the frame's index, extra columns and dtypes (an int volume and a float one
    hash alike), so two sources serving the same bars give the same fingerprint.
    """
    h = hashlib.sha256()
    stamps = pd.to_datetime(bars["timestamp"], utc=True).to_numpy(dtype="datetime64[ns]")
    h.update(stamps.astype("<i8").tobytes())
    for column in BAR_COLUMNS:
        h.update(np.ascontiguousarray(bars[column].to_numpy(dtype="<f8")).tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Provenance:
    """What made one asset of one symbol-day.

    Attributes:
        source_kind: `synthetic`, `files` or `exchange`.
        source: The source's non-secret identity (`synthetic seed 7`, `files /data/binance`).
        bars_sha256: Fingerprint of the bar window read (`bars_sha256`).
        method: The asset's method digest (`Method.digest_of`).
        settings: The settings behind `method`.
        trainer: The trainer's import path, for the model and what it feeds; else None.
        product_version: This package's version.
    """

    source_kind: str
    source: str
    bars_sha256: str
    method: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    trainer: str | None = None
    product_version: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        """The record as written into config.json, metadata and status.json."""
        return {
            "source": {"kind": self.source_kind, "identity": self.source},
            "bars_sha256": self.bars_sha256,
            "method": {"digest": self.method, "settings": dict(self.settings)},
            "trainer": self.trainer,
            "product_version": self.product_version,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any] | None) -> "Provenance | None":
        """The record back; None for anything written before provenance was recorded."""
        if not data or "source" not in data or "method" not in data:
            return None
        return cls(
            source_kind=str(data["source"].get("kind", "")),
            source=str(data["source"].get("identity", "")),
            bars_sha256=str(data.get("bars_sha256", "")),
            method=str(data["method"].get("digest", "")),
            settings=dict(data["method"].get("settings") or {}),
            trainer=data.get("trainer"),
            product_version=str(data.get("product_version", "")),
        )

    @property
    def family(self) -> str:
        """The method and kind of source this record belongs to (see `family_of`)."""
        return family_of(self.method, self.source_kind)


def family_of(method: str, source_kind: str) -> str:
    """`<method digest>@<source kind>`: days pooled together share it.

    The kind, not the full identity: a folder renamed or a dated snapshot folder per day is
    the same market, and a backfill from one folder must reproduce the ledger made day by day
    from dated ones byte for byte; synthetic bars never pool with real ones.
    """
    return f"{method}@{source_kind}"


@dataclass(frozen=True)
class Current:
    """The configuration in force now: the source identity and the method."""

    source_kind: str
    source: str
    method: Method

    def code_version(self, asset: str) -> str:
        """`asset`'s Dagster code version: its method digest and the data source, so the UI
        marks a partition made by another method or from another source stale."""
        return digest([self.method.digest_of(asset), self.source])

    def provenance(self, asset: str, bars: str, trainer: str | None = None) -> Provenance:
        """This configuration's record for `asset` made from bars fingerprinted `bars`."""
        return Provenance(
            source_kind=self.source_kind,
            source=self.source,
            bars_sha256=bars,
            method=self.method.digest_of(asset),
            settings=self.method.of(asset),
            trainer=trainer,
            product_version=str(self.method.settings.get("product_version", "")),
        )


def stale_reason(recorded: Provenance | None, current: Current, asset: str) -> str | None:
    """Why `asset`'s recorded provenance is not the current configuration's (None: it is).

    The source first (`data source synthetic seed 7 -> files /data`), then the method
    (`method lookback_days 180 -> 120`); a record without provenance predates it.
    """
    if recorded is None:
        return "made before provenance was recorded"
    if recorded.source != current.source:
        return f"data source {recorded.source} -> {current.source}"
    if recorded.method != current.method.digest_of(asset):
        changes = method_changes(recorded.settings, current.method.of(asset))
        return f"method {changes or recorded.method + ' -> ' + current.method.digest_of(asset)}"
    return None
