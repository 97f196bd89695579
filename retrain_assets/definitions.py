"""The composition root: the one place that builds this code location's `Definitions`."""

from typing import cast

import dagster as dg

from resources.artifact_io import ArtifactIOManager, ArtifactRootResource
from resources.deployment import deployment_settings
from resources.market_data import MarketDataResource
from resources.method import current_of
from resources.promotion import PromotionResource
from resources.settings_file import configured, settings_sections
from resources.storage import StorageResource
from resources.telegram import telegram_resource
from resources.training import CostModelResource, TrainingResource
from resources.universe import SymbolUniverseResource
from retrain_assets.core.model.provenance import Current
from retrain_assets.defs.assets import date_assets, symbol_day_assets
from retrain_assets.defs.executor import build_executor
from retrain_assets.defs.jobs import retrain_job, summary_job
from retrain_assets.defs.provenance import with_code_versions
from retrain_assets.defs.retention import retention_job, retention_schedule
from retrain_assets.defs.schedules import daily_retrain_schedule
from sensors import storage_sensors
from sensors.dead_runs import dead_runs_sensor
from sensors.summary import engine_summary_sensor
from sensors.telegram import notification_sensors
from sensors.universe import symbol_universe_sensor


def build_resources() -> dict[str, object]:
    """The resource set: the settings file's sections (`RETRAIN_SETTINGS`) where it has them;
    every field left unset falls back to the environment at run time. The training timeout's
    default is the deployment's (`resources.deployment`), which the schedule and pods follow."""
    artifacts = ArtifactRootResource()
    storage = StorageResource()
    sections = settings_sections()
    timeout = deployment_settings().timeout_minutes
    return {
        "artifacts": artifacts,
        "market_data": configured(MarketDataResource, "market_data", sections),
        "universe": SymbolUniverseResource(),
        "training": configured(TrainingResource, "training", sections, timeout_minutes=timeout),
        "cost_model": configured(CostModelResource, "cost_model", sections),
        "promotion": configured(PromotionResource, "promotion", sections),
        "storage": storage,
        "telegram": telegram_resource(),
        "artifact_io_manager": ArtifactIOManager(artifacts=artifacts, storage=storage),
    }


resources = build_resources()


def current_configuration() -> Current:
    """The data source and method these definitions run with: what "done" is compared with."""
    return current_of(
        cast(MarketDataResource, resources["market_data"]),
        cast(TrainingResource, resources["training"]),
        cast(CostModelResource, resources["cost_model"]),
        cast(PromotionResource, resources["promotion"]),
    )


defs = dg.Definitions(
    # Each asset's code version is the digest of the settings its numbers depend on and the
    # data source, as configured here: the UI marks what was made another way stale.
    assets=with_code_versions([*symbol_day_assets, *date_assets], current_configuration()),
    jobs=[retrain_job, summary_job, retention_job],
    schedules=[daily_retrain_schedule, retention_schedule],
    sensors=[
        symbol_universe_sensor,
        engine_summary_sensor,
        *notification_sensors,
        *storage_sensors,
        dead_runs_sensor,
    ],
    resources=resources,
    # One symbol-day is a few short steps: by default they run in the run's own process (no
    # spawned process per step, ~3.6 s each on 2 cores), for UI backfills as well as the CLI;
    # RETRAIN_EXECUTOR=k8s gives each step its own pod on a cluster (defs/executor.py).
    executor=build_executor(),
)
