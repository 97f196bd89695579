"""The composition root: the one place that builds this code location's `Definitions`."""

import dagster as dg

from resources.artifact_io import ArtifactIOManager, ArtifactRootResource
from resources.market_data import MarketDataResource
from resources.notifier import telegram_resource
from resources.promotion import PromotionResource
from resources.storage import StorageResource
from resources.training import CostModelResource, TrainingResource
from resources.universe import SymbolUniverseResource
from retrain_assets.defs.assets import date_assets, symbol_day_assets
from retrain_assets.defs.executor import build_executor
from retrain_assets.defs.jobs import retrain_job, summary_job
from retrain_assets.defs.retention import retention_job, retention_schedule
from retrain_assets.defs.schedules import daily_retrain_schedule
from sensors import storage_sensors
from sensors.dead_runs import dead_runs_sensor
from sensors.summary import engine_summary_sensor
from sensors.telegram import notification_sensors
from sensors.universe import symbol_universe_sensor


def build_resources() -> dict[str, object]:
    """The resource set; every field left unset falls back to the environment at run time."""
    artifacts = ArtifactRootResource()
    storage = StorageResource()
    return {
        "artifacts": artifacts,
        "market_data": MarketDataResource(),
        "universe": SymbolUniverseResource(),
        "training": TrainingResource(),
        "cost_model": CostModelResource(),
        "promotion": PromotionResource(),
        "storage": storage,
        "telegram": telegram_resource(),
        "artifact_io_manager": ArtifactIOManager(artifacts=artifacts, storage=storage),
    }


defs = dg.Definitions(
    assets=[*symbol_day_assets, *date_assets],
    jobs=[retrain_job, summary_job, retention_job],
    schedules=[daily_retrain_schedule, retention_schedule],
    sensors=[
        symbol_universe_sensor,
        engine_summary_sensor,
        *notification_sensors,
        *storage_sensors,
        dead_runs_sensor,
    ],
    resources=build_resources(),
    # One symbol-day is a few short steps: by default they run in the run's own process (no
    # spawned process per step, ~3.6 s each on 2 cores), for UI backfills as well as the CLI;
    # RETRAIN_EXECUTOR=k8s gives each step its own pod on a cluster (defs/executor.py).
    executor=build_executor(),
)
