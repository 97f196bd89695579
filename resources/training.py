"""Training and cost-model configuration, as resources the UI launchpad can edit.

Exchange credentials for fees never sit in resource config: they are read with
`dg.EnvVar(name).get_value()` when a symbol's fees are looked up, so the UI shows only names.
"""

import os
from dataclasses import replace
from typing import Literal

import dagster as dg
import pandas as pd
from pydantic import Field

from resources.settings import setting
from retrain_assets.adapters.catboost_trainer import DEFAULT_TRAINER, FORMER_DEFAULT_TRAINERS
from retrain_assets.adapters.hardware import (
    Hardware,
    default_max_concurrent,
    gpu_ram_part,
    thread_count_for,
    trainings_per_gpu,
)
from retrain_assets.adapters.step_pods import THREADS_ENV
from retrain_assets.core.errors import PermanentError, RetrainError
from retrain_assets.core.lifecycle.pipeline import BARS_PER_DAY, feature_set
from retrain_assets.core.model.splits import Splits, rows_needed
from retrain_assets.core.model.training import DEFAULT_TIMEOUT_MINUTES, TrainingParams
from retrain_assets.core.redaction import redact
from retrain_assets.core.trading.cost_settings import DEFAULT_TIERS, CostSettings, tiers_from_config
from retrain_assets.core.trading.costs import Costs, FeeSchedule, estimate_costs

GPU_SHARING_ENV = "RETRAIN_GPU_TRAININGS_PER_GPU"
EXCHANGE_KEY_ENV = "RETRAIN_EXCHANGE_API_KEY"
EXCHANGE_SECRET_ENV = "RETRAIN_EXCHANGE_API_SECRET"  # noqa: S105 - a variable's name
_REASON_CHARS = 300


class TrainingResource(dg.ConfigurableResource):
    """CatBoost parameters, the data window, the trainer and the per-symbol timeout."""

    iterations: int = Field(default=300, description="Boosting iterations (upper bound).")
    learning_rate: float = Field(default=0.05, description="CatBoost learning rate.")
    depth: int = Field(default=6, description="Tree depth.")
    l2_leaf_reg: float = Field(default=3.0, description="L2 regularisation.")
    early_stopping_rounds: int = Field(default=60, description="Stop after this many flat rounds.")
    min_trees: int = Field(
        default=50,
        ge=1,
        description=(
            "Floor of the tree count the early stop chooses (capped by `iterations`): a "
            "one-tree model is too shrunk to trade; a live model below it is a WARN."
        ),
    )
    calibration_max_slope: float = Field(
        default=5.0,
        ge=0.0,
        description=(
            "Upper bound of the calibration slope (the label on the held-out prediction over "
            "validation, through the origin) that scales predictions before the cost rule."
        ),
    )
    calibrate: bool = Field(
        default=True,
        description=(
            "Scale predictions by the calibration slope before the cost rule; false: unscaled "
            "(slope 1), as before calibration existed."
        ),
    )
    random_seed: int = Field(default=42, description="Fixed seed: same data, same model.")
    lookback_days: int = Field(default=180, description="Days of 1h bars per training.")
    horizon_bars: int = Field(default=4, description="Label horizon in bars (forward return).")
    test_days: int = Field(default=30, description="Out-of-sample days at the end of the window.")
    validation_days: int = Field(default=20, description="Early-stopping days before the test.")
    min_trades: int = Field(
        default=30,
        description="Fewest test trades for a model to be ranked; fewer is insufficient evidence.",
    )
    dry_run_iterations: int = Field(default=10, description="Iterations of a dry run.")
    trainer: str | None = Field(
        default=None,
        description=(
            "Import path 'module:attr' of a trainer with train() and predict(); "
            "unset: $RETRAIN_TRAINER, else the CatBoost trainer."
        ),
    )
    timeout_minutes: float = Field(
        default=DEFAULT_TIMEOUT_MINUTES, description="Per-symbol training timeout."
    )
    snapshot_interval_s: int = Field(default=5, description="Seconds between CatBoost snapshots.")
    gpu_trainings_per_gpu: int | None = Field(
        default=None,
        description=(
            "Trainings sharing one GPU, which split its memory: unset: "
            "$RETRAIN_GPU_TRAININGS_PER_GPU (on Kubernetes: the device plugin's time-slicing "
            "replicas), else the concurrent trainings over this machine's GPUs."
        ),
    )

    def trainer_path(self) -> str:
        """The trainer's import path in force for this run.

        A path where the CatBoost trainer lived in an earlier version reads as today's, so the
        same trainer is one method in the records, whichever path the settings name.
        """
        path = str(setting(self.trainer, "RETRAIN_TRAINER", DEFAULT_TRAINER))
        return DEFAULT_TRAINER if path in FORMER_DEFAULT_TRAINERS else path

    def feature_set(self, bars: pd.DataFrame, symbol: str) -> tuple[pd.DataFrame, Splits]:
        """Features and the purged split, with this resource's horizon and segment lengths."""
        return feature_set(bars, symbol, self.horizon_bars, self.test_days, self.validation_days)

    def rows_needed(self) -> int:
        """Fewest labelled feature rows the split needs with this resource's segment lengths."""
        return rows_needed(
            self.horizon_bars,
            test_bars=BARS_PER_DAY * self.test_days,
            validation_bars=BARS_PER_DAY * self.validation_days,
        )

    def params(self, hardware: Hardware, concurrent: int | None, dry_run: bool) -> TrainingParams:
        """TrainingParams for this machine and this many concurrent trainings."""
        concurrent = concurrent or default_max_concurrent(hardware)
        return TrainingParams(
            iterations=self.dry_run_iterations if dry_run else self.iterations,
            learning_rate=self.learning_rate,
            depth=self.depth,
            l2_leaf_reg=self.l2_leaf_reg,
            early_stopping_rounds=self.early_stopping_rounds,
            min_trees=self.min_trees,
            calibration_max_slope=self.calibration_max_slope,
            calibrate=self.calibrate,
            random_seed=self.random_seed,
            thread_count=self.threads(hardware, concurrent),
            task_type="GPU" if hardware.has_gpu else "CPU",
            snapshot_interval_s=self.snapshot_interval_s,
            gpu_ram_part=gpu_ram_part(self.gpu_sharing(hardware, concurrent)),
        )

    def threads(self, hardware: Hardware, concurrent: int) -> int:
        """CatBoost threads: $RETRAIN_TRAINING_THREADS (a training pod's CPU request), else the
        machine's cores over the concurrent trainings."""
        return _whole_number(THREADS_ENV) or thread_count_for(hardware, concurrent)

    def gpu_sharing(self, hardware: Hardware, concurrent: int) -> int:
        """Trainings per GPU: configured, else $RETRAIN_GPU_TRAININGS_PER_GPU, else spread."""
        if self.gpu_trainings_per_gpu is not None:
            return max(1, self.gpu_trainings_per_gpu)
        return _whole_number(GPU_SHARING_ENV) or trainings_per_gpu(hardware, concurrent)


def _whole_number(env_name: str) -> int | None:
    """`$env_name` as a whole number of at least 1; None when unset."""
    raw = os.environ.get(env_name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise PermanentError(f"{env_name}={raw!r}: expected a whole number >= 1")
    return int(raw)


class CostModelResource(dg.ConfigurableResource):
    """Fees per venue and symbol, and how the spread and slippage are estimated."""

    venue: str = Field(default="binance", description="Venue the fees apply to.")
    taker_fee_bps: float = Field(default=10.0, description="Default taker fee per side.")
    maker_fee_bps: float = Field(default=10.0, description="Default maker fee per side.")
    per_symbol_fees_bps: dict[str, list[float]] = Field(
        default_factory=dict, description="SYMBOL -> [taker_bps, maker_bps] overrides."
    )
    window_days: int = Field(
        default=30, description="Days of bars before the evaluated window that costs read."
    )
    spread_estimator: Literal["edge", "abdi_ranaldo", "corwin_schultz"] = Field(
        default="edge",
        description="OHLC spread estimator (median of daily estimates), clamped to the tier.",
    )
    quoted_spread_bps: dict[str, float] = Field(
        default_factory=dict,
        description="SYMBOL -> quoted spread in bps; used instead of the estimate when given.",
    )
    liquidity_tiers: dict[str, list[float]] = Field(
        default_factory=lambda: {
            t.name: [t.min_daily_quote_volume, t.floor_bps, t.cap_bps] for t in DEFAULT_TIERS
        },
        description="TIER -> [min daily quote volume, spread floor bps, cap bps]; a symbol takes "
        "the highest tier its own pre-window daily volume (`liquidity_measure`) reaches, whatever "
        "else is selected; one tier starts at 0. Defaults and their basis: "
        "core/trading/cost_settings.py.",
    )
    liquidity_measure: Literal["median", "mean"] = Field(
        default="median",
        description="How the pre-window days' quote volume picks the tier: their median (robust "
        "to a few frenzied days) or their mean (the average daily volume, as before).",
    )
    order_notional: float = Field(
        default=10_000.0, description="Order size for square-root impact, in the quote currency."
    )
    impact_k: float = Field(
        default=1.0, description="k of impact = k * sigma_daily * sqrt(order / ADV), per side."
    )
    exchange_id: str | None = Field(
        default=None,
        description="ccxt exchange id to fetch fees from when $RETRAIN_EXCHANGE_API_KEY and "
        "$RETRAIN_EXCHANGE_API_SECRET are set; unset: $RETRAIN_EXCHANGE, else `venue`.",
    )
    exchange_api_url: str | None = Field(
        default=None,
        description="Tests only: http://127.0.0.1:PORT of a fake exchange API; unset: "
        "$RETRAIN_EXCHANGE_API_URL.",
    )

    def settings(self) -> CostSettings:
        """The estimator settings as a validated domain record.

        Raises:
            PermanentError: a negative figure, a bad symbol or invalid tiers, naming the field.
        """
        return CostSettings(
            window_days=self.window_days,
            estimator=self.spread_estimator,
            tiers=tiers_from_config(self.liquidity_tiers),
            quoted_spread_bps=self.quoted_spread_bps,
            order_notional=self.order_notional,
            impact_k=self.impact_k,
            liquidity_measure=self.liquidity_measure,
        )

    def estimate(
        self, bars: pd.DataFrame, symbol: str, fees: FeeSchedule, as_of: pd.Timestamp
    ) -> Costs:
        """Costs of `symbol` from its bars before `as_of`, under this resource's settings."""
        return estimate_costs(bars, symbol, fees, as_of, self.settings())

    def fee_schedule(self) -> FeeSchedule:
        """The configured fees as a domain FeeSchedule."""
        return FeeSchedule(
            default_taker_bps=self.taker_fee_bps,
            default_maker_bps=self.maker_fee_bps,
            per_symbol={k: (v[0], v[1]) for k, v in self.per_symbol_fees_bps.items()},
            venue=self.venue,
        )

    def fee_schedule_for(self, symbol: str) -> tuple[FeeSchedule, str | None]:
        """The fees in force for `symbol`, and why the exchange was not used (None if it was).

        Priority: an explicit `per_symbol_fees_bps` entry, then the exchange's fees for the
        account (only when both credential variables are set), then the configured default.
        The exchange answers with today's fees, whatever day is being computed. Any failure
        falls back to the configuration with a short reason that never holds the credentials.
        """
        configured = self.fee_schedule()
        if symbol in self.per_symbol_fees_bps:
            return configured, None
        api_key = dg.EnvVar(EXCHANGE_KEY_ENV).get_value()
        secret = dg.EnvVar(EXCHANGE_SECRET_ENV).get_value()
        if not api_key or not secret:
            return configured, None
        try:
            taker, maker = self._exchange_fees(symbol, api_key, secret)
        except Exception as exc:  # any failure falls back to config rather than fail the run
            text = str(exc) if isinstance(exc, RetrainError) else f"{type(exc).__name__}: {exc}"
            return configured, redact(text, [api_key, secret])[:_REASON_CHARS]
        per_symbol = {**configured.per_symbol, symbol: (taker, maker)}
        return replace(configured, per_symbol=per_symbol, source="exchange"), None

    def _exchange_fees(self, symbol: str, api_key: str, secret: str) -> tuple[float, float]:
        # Imported here so that deployments without exchange credentials never import ccxt.
        from retrain_assets.adapters.exchange_fees import fetch_exchange_fees, loopback_api_urls

        exchange_id = str(setting(self.exchange_id, "RETRAIN_EXCHANGE", self.venue)).lower()
        api_url = setting(self.exchange_api_url, "RETRAIN_EXCHANGE_API_URL", None)
        urls = loopback_api_urls(exchange_id, api_url) if api_url else None
        return fetch_exchange_fees(exchange_id, symbol, api_key, secret, urls_override=urls)
