"""Run-time settings: a resource's config value, else an environment variable, else a default.

Read when a resource is used, never at import, so `dagster dev`, the CLI and tests can each set
the environment they need.
"""

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_ARTIFACT_ROOT = "artifacts"


def setting(
    configured: str | None,
    env_name: str,
    default: str | None,
    environ: Mapping[str, str] = os.environ,
) -> str | None:
    """The configured value if set, else `$env_name` if set and non-empty, else `default`."""
    if configured not in (None, ""):
        return configured
    value = environ.get(env_name)
    return value if value else default


def artifact_root(configured: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """The artifact root: config, else `RETRAIN_ARTIFACT_ROOT`, else `./artifacts`."""
    value = setting(configured, "RETRAIN_ARTIFACT_ROOT", DEFAULT_ARTIFACT_ROOT, environ)
    return Path(str(value)).expanduser().resolve()
