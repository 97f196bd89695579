"""The deployment's settings that more than one part of the product reads, each with one home.

The per-symbol training timeout, the first date partition and the daily schedule's cron are
read here and nowhere else: from the settings file (`RETRAIN_SETTINGS`: `training.timeout_minutes`,
`deployment.start_date`, `deployment.schedule_cron`), else the environment variable, else the
default. Every process that loads the definitions reads the same file and variables (the CLI,
`dg dev`'s webserver and daemon, each run worker; on Kubernetes the one ConfigMap), so the
training resource, the schedule's tags and `dagster/max_runtime`, the step pod's deadline, the
partitions and the CLI's defaults all agree. A value that does not parse is one line naming
where it came from (`PermanentError`), before any work.
"""

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from resources.settings_file import SETTINGS_VAR, settings_sections
from retrain_assets.core.data.dates import DEFAULT_START_DATE, checked_start_date
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.model.training import (
    DEFAULT_TIMEOUT_MINUTES,
    MAX_TIMEOUT_MINUTES,
    MIN_TIMEOUT_MINUTES,
)

TIMEOUT_ENV = "RETRAIN_TIMEOUT_MINUTES"
START_DATE_ENV = "RETRAIN_START_DATE"
SCHEDULE_CRON_ENV = "RETRAIN_SCHEDULE_CRON"
DEFAULT_SCHEDULE_CRON = "0 2 * * *"
# The step pods' deadline once had a variable of its own, which could disagree with the
# training timeout; a deployment that still sets it is told where the setting lives now.
RETIRED_TIMEOUT_ENV = "RETRAIN_K8S_TIMEOUT_MINUTES"
# The settings file's `deployment` section.
DEPLOYMENT_FIELDS = ("start_date", "schedule_cron")


@dataclass(frozen=True)
class DeploymentSettings:
    """The settings with one home each.

    Attributes:
        timeout_minutes: The per-symbol training timeout: the training resource's default,
            the CLI's `--timeout_minutes` default, the schedule's `dagster/max_runtime` and the
            step pod's active deadline follow it.
        start_date: The first date partition (YYYY-MM-DD).
        schedule_cron: When `daily_retrain_schedule` ticks (UTC).
    """

    timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES
    start_date: str = DEFAULT_START_DATE
    schedule_cron: str = DEFAULT_SCHEDULE_CRON


def deployment_settings(environ: Mapping[str, str] = os.environ) -> DeploymentSettings:
    """The settings file's values, else the environment's, else the defaults.

    Raises:
        PermanentError: the file does not read, or a value does not parse (named with where it
            came from), or `RETRAIN_K8S_TIMEOUT_MINUTES` is still set.
    """
    if environ.get(RETIRED_TIMEOUT_ENV):
        raise PermanentError(
            f"{RETIRED_TIMEOUT_ENV} is no longer read: the step pod's deadline follows the "
            f"training timeout; set {TIMEOUT_ENV} (or training.timeout_minutes in "
            f"{SETTINGS_VAR}) instead"
        )
    sections = settings_sections(environ)
    file = f"{SETTINGS_VAR}={environ.get(SETTINGS_VAR, '')}"
    deployment = sections.get("deployment", {})
    unknown = sorted(set(deployment) - set(DEPLOYMENT_FIELDS))
    if unknown:
        raise PermanentError(
            f"{file}: deployment.{unknown[0]}: unknown setting "
            f"(known: {', '.join(DEPLOYMENT_FIELDS)})"
        )
    training = sections.get("training", {})
    minutes, m_where = _pick(training, "training.timeout_minutes", file, TIMEOUT_ENV, environ)
    start, s_where = _pick(deployment, "deployment.start_date", file, START_DATE_ENV, environ)
    cron, c_where = _pick(deployment, "deployment.schedule_cron", file, SCHEDULE_CRON_ENV, environ)
    return DeploymentSettings(
        timeout_minutes=_timeout(minutes, m_where) if m_where else DEFAULT_TIMEOUT_MINUTES,
        start_date=checked_start_date(str(start), s_where) if s_where else DEFAULT_START_DATE,
        schedule_cron=_cron(cron, c_where) if c_where else DEFAULT_SCHEDULE_CRON,
    )


def _pick(
    section: Mapping[str, Any], name: str, file: str, env: str, environ: Mapping[str, str]
) -> tuple[Any, str | None]:
    """The value of `name` (`section.field`) and where it came from (None: the default)."""
    value = section.get(name.partition(".")[2])
    if value not in (None, ""):
        return value, f"{file}: {name}"
    if environ.get(env):
        return environ[env], env
    return None, None


def _timeout(value: Any, where: str) -> float:
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        minutes = math.nan
    if not math.isfinite(minutes) or not MIN_TIMEOUT_MINUTES <= minutes <= MAX_TIMEOUT_MINUTES:
        raise PermanentError(
            f"{where}={value!r}: expected {MIN_TIMEOUT_MINUTES:g} to "
            f"{MAX_TIMEOUT_MINUTES:g} minutes"
        )
    return minutes


def _cron(value: Any, where: str) -> str:
    text = str(value).strip()
    if len(text.split()) != 5:
        raise PermanentError(f"{where}={value!r}: expected a cron of five fields, e.g. '0 2 * * *'")
    return text
