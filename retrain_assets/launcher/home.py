"""The persistent Dagster instance the CLI shares with `dagster dev`, opened exactly once.

Two processes creating a new SQLite instance at the same moment can leave two alembic heads,
after which every open fails; creating and migrating it under a file lock prevents that.
"""

import os
import shutil
from pathlib import Path

import dagster as dg

from retrain_assets.core.errors import PermanentError
from retrain_assets.core.locks import FileLock

INSTANCE_TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"
INIT_LOCK = ".retrain-instance.lock"


def prepare_home(home: Path) -> Path:
    """Create `home` with the repo's dagster.yaml if it has none; export it as DAGSTER_HOME."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and INSTANCE_TEMPLATE.exists():
        shutil.copyfile(INSTANCE_TEMPLATE, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def open_instance(home: Path) -> dg.DagsterInstance:
    """The instance of `home`, created or migrated by one process at a time."""
    with FileLock(home / INIT_LOCK):
        try:
            return dg.DagsterInstance.get()
        except Exception as exc:  # a broken instance: say which, never a deep traceback
            raise PermanentError(
                f"DAGSTER_HOME={home}: the Dagster instance cannot be opened "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})"
            ) from None


def main() -> None:
    """`python -m retrain_assets.launcher.home`: create $DAGSTER_HOME's instance, once.

    `make install` runs it, so `dagster dev` and the CLI never create the database together.
    """
    from retrain_assets.launcher.environment import dagster_home

    with open_instance(prepare_home(dagster_home())) as instance:
        print(f"instance ready: {instance.root_directory}")


if __name__ == "__main__":
    main()
