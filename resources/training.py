"""Training and cost-model configuration, as resources the UI launchpad can edit."""

import dagster as dg
from pydantic import Field

from resources.settings import setting
from retrain_assets.core.costs import FeeSchedule
from retrain_assets.core.hardware import Hardware, default_max_concurrent, thread_count_for
from retrain_assets.core.training import TrainingParams

DEFAULT_TRAINER = "retrain_assets.core.training:CatBoostTrainer"


class TrainingResource(dg.ConfigurableResource):
    """CatBoost parameters, the data window, the trainer and the per-symbol timeout."""

    iterations: int = Field(default=300, description="Boosting iterations (upper bound).")
    learning_rate: float = Field(default=0.05, description="CatBoost learning rate.")
    depth: int = Field(default=6, description="Tree depth.")
    l2_leaf_reg: float = Field(default=3.0, description="L2 regularisation.")
    early_stopping_rounds: int = Field(default=60, description="Stop after this many flat rounds.")
    random_seed: int = Field(default=42, description="Fixed seed: same data, same model.")
    lookback_days: int = Field(default=180, description="Days of 1h bars per training.")
    horizon_bars: int = Field(default=4, description="Label horizon in bars (forward return).")
    test_days: int = Field(default=30, description="Out-of-sample days at the end of the window.")
    validation_days: int = Field(default=20, description="Early-stopping days before the test.")
    dry_run_iterations: int = Field(default=10, description="Iterations of a dry run.")
    trainer: str | None = Field(
        default=None,
        description=(
            "Import path 'module:attr' of a trainer with train() and predict(); "
            "unset: $RETRAIN_TRAINER, else the CatBoost trainer."
        ),
    )
    timeout_minutes: float = Field(default=45.0, description="Per-symbol training timeout.")
    snapshot_interval_s: int = Field(default=5, description="Seconds between CatBoost snapshots.")

    def trainer_path(self) -> str:
        """The trainer's import path in force for this run."""
        return str(setting(self.trainer, "RETRAIN_TRAINER", DEFAULT_TRAINER))

    def params(self, hardware: Hardware, concurrent: int | None, dry_run: bool) -> TrainingParams:
        """TrainingParams for this machine and this many concurrent trainings."""
        concurrent = concurrent or default_max_concurrent(hardware)
        return TrainingParams(
            iterations=self.dry_run_iterations if dry_run else self.iterations,
            learning_rate=self.learning_rate,
            depth=self.depth,
            l2_leaf_reg=self.l2_leaf_reg,
            early_stopping_rounds=self.early_stopping_rounds,
            random_seed=self.random_seed,
            thread_count=thread_count_for(hardware, concurrent),
            task_type="GPU" if hardware.has_gpu else "CPU",
            snapshot_interval_s=self.snapshot_interval_s,
        )


class CostModelResource(dg.ConfigurableResource):
    """Fees per venue and symbol, and how the spread and slippage are estimated."""

    venue: str = Field(default="binance", description="Venue the fees apply to.")
    taker_fee_bps: float = Field(default=10.0, description="Default taker fee per side.")
    maker_fee_bps: float = Field(default=10.0, description="Default maker fee per side.")
    per_symbol_fees_bps: dict[str, list[float]] = Field(
        default_factory=dict, description="SYMBOL -> [taker_bps, maker_bps] overrides."
    )
    window_days: int = Field(default=30, description="Trailing days for the spread estimate.")
    spread_floor_bps: float = Field(default=0.5, description="Clamp: lowest spread estimate.")
    spread_cap_bps: float = Field(default=50.0, description="Clamp: highest spread estimate.")
    slippage_kappa: float = Field(default=0.05, description="Slippage per unit of bar sigma.")

    def fee_schedule(self) -> FeeSchedule:
        """The configured fees as a domain FeeSchedule."""
        return FeeSchedule(
            default_taker_bps=self.taker_fee_bps,
            default_maker_bps=self.maker_fee_bps,
            per_symbol={k: (v[0], v[1]) for k, v in self.per_symbol_fees_bps.items()},
            venue=self.venue,
        )
