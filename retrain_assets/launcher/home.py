"""The persistent Dagster instance the CLI shares with `dagster dev`, opened exactly once.

Two processes creating a new SQLite instance at the same moment can leave two alembic heads,
after which every open fails; creating and migrating it under a file lock prevents that.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from retrain_assets.adapters.atomic import atomic_write_bytes
from retrain_assets.adapters.locks import FileLock
from retrain_assets.core.errors import PermanentError
from retrain_assets.launcher.environment import INSTANCE_DIR_VAR, storage_dir

INSTANCE_TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"
INIT_LOCK = ".retrain-instance.lock"
HOME_HEADER = "# The settings of retrain-assets's dagster.yaml; storage lives in this folder.\n"


def instance_config(template: Path = INSTANCE_TEMPLATE) -> dict[str, Any]:
    """The repo's instance settings for a home of its own: storage in $DAGSTER_HOME itself."""
    return _storage_in_home(yaml.safe_load(template.read_text()))


def _storage_in_home(node: Any) -> Any:
    if node == {"env": INSTANCE_DIR_VAR}:
        return {"env": "DAGSTER_HOME"}
    if isinstance(node, dict):
        return {key: _storage_in_home(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_storage_in_home(value) for value in node]
    return node


def write_instance_config(home: Path) -> Path:
    """Write `home/dagster.yaml`: the repo's settings, with the storage inside `home`.

    A copy written earlier by this function is brought up to date (atomically: a process
    opening the instance meanwhile reads the old or the new file, never half of one); a
    dagster.yaml the operator wrote, without the header, is never touched.
    """
    config = home / "dagster.yaml"
    text = HOME_HEADER + yaml.safe_dump(instance_config(), sort_keys=False)
    if config.exists() and (
        not config.read_text().startswith(HOME_HEADER) or config.read_text() == text
    ):
        return config
    atomic_write_bytes(config, text.encode())
    return config


def prepare_home(home: Path) -> Path:
    """Give `home` the repo's instance settings (see `write_instance_config`); export it."""
    home.mkdir(parents=True, exist_ok=True)
    if INSTANCE_TEMPLATE.exists():
        write_instance_config(home)
    storage_dir(home).mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextmanager
def exported(home: Path, artifact_root: Path) -> Iterator[None]:
    """`DAGSTER_HOME` and `RETRAIN_ARTIFACT_ROOT` set to an invocation's own while it runs.

    Every process of an invocation finds its instance and artifact root in the environment:
    the launcher opens the instance with `DagsterInstance.get()`, its workers (forked from it,
    `launcher/local.py`) and its watchdog inherit the environment, and the assets' resources
    resolve the artifact root at run time (`resources/settings.py`). Exporting both here,
    before the pool forks, is what points a dry run's runs, summary and report at the dry run's
    own instance and root (`environment.dry_run_places`) with the very same job, where run
    config would have to reach every resource and the instance would still come from
    `DAGSTER_HOME`. The previous values come back afterwards, so a process that calls the API
    for a dry run and then for a real run opens the real instance the second time.
    """
    names = {"DAGSTER_HOME": str(home), "RETRAIN_ARTIFACT_ROOT": str(artifact_root)}
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def open_instance(home: Path) -> dg.DagsterInstance:
    """The instance of `home`, created or migrated by one process at a time."""
    with FileLock(storage_dir(home) / INIT_LOCK):
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

    home = prepare_home(dagster_home())
    legacy = storage_dir(home) / "history" / "runs.db"
    if legacy.exists():  # made by a version that kept storage in Dagster's default layout
        print(
            f"note: {legacy.parents[1]} also holds an older instance; its runs stay readable "
            f"with DAGSTER_HOME={legacy.parents[1]} (that folder's own dagster.yaml)"
        )
    with open_instance(home) as instance:
        print(f"instance ready: {instance.root_directory}")


if __name__ == "__main__":
    main()
