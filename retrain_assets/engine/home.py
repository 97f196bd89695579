"""The persistent Dagster instance the CLI shares with `dagster dev`."""

import os
import shutil
from pathlib import Path

DEFAULT_HOME = ".dagster_home"
INSTANCE_TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"


def ensure_dagster_home(cwd: Path | None = None) -> Path:
    """Use $DAGSTER_HOME, or `./.dagster_home`; give it the repo's dagster.yaml if it has none.

    Without a DAGSTER_HOME, Dagster falls back to a throw-away instance and the ledger is lost,
    so the CLI never runs without one.
    """
    home = Path(os.environ.get("DAGSTER_HOME") or (cwd or Path.cwd()) / DEFAULT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and INSTANCE_TEMPLATE.exists():
        shutil.copyfile(INSTANCE_TEMPLATE, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
