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
            instance = dg.DagsterInstance.get()
            _initialize_train_pool(instance)
            return instance
        except Exception as exc:  # a broken instance: say which, never a deep traceback
            raise PermanentError(
                f"DAGSTER_HOME={home}: the Dagster instance cannot be opened "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})"
            ) from None


def _initialize_train_pool(instance: dg.DagsterInstance) -> None:
    """Give the `train` pool its default limit before any run claims a slot in it.

    The first claim of a pool initializes its limit; on Postgres, several runs doing that at
    once violate the limits table's unique key and fail (SQLite serializes them). Done once
    here, under the lock, a limit the operator set is never touched.
    """
    from retrain_assets.defs.partitions import TRAIN_POOL

    storage = instance.event_log_storage
    if TRAIN_POOL not in storage.get_concurrency_keys():
        storage.initialize_concurrency_limit_to_default(TRAIN_POOL)


def main() -> None:
    """`python -m retrain_assets.launcher.home`: create $DAGSTER_HOME's instance, once.

    `make install` runs it, so `dagster dev` and the CLI never create the database together.
    """
    from retrain_assets.launcher.environment import dagster_home

    with open_instance(prepare_home(dagster_home())) as instance:
        print(f"instance ready: {instance.root_directory}")


if __name__ == "__main__":
    main()
