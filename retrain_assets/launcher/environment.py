"""Checks of the environment before any work: each failure is one line naming the variable.

Nothing is created when a check fails: not the Dagster home, not the artifact root.
"""

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from retrain_assets.adapters.logging_setup import LEVELS
from retrain_assets.core.errors import PermanentError

DEFAULT_HOME = ".dagster_home"
# Where the repo-root dagster.yaml keeps its storage (`make` sets it to ./.dagster_home), so that
# file can be the instance config itself (DAGSTER_HOME = the repo root) without filling the repo.
INSTANCE_DIR_VAR = "RETRAIN_INSTANCE_DIR"
# Dry runs keep their own Dagster instance and artifacts in a folder of this name (see
# `dry_run_places`).
DRY_RUN_DIR = "dry_run"
# The variables this project reads, or configures its libraries (boto3, Dropbox) through.
SETTING_PREFIXES = ("RETRAIN_", "DAGSTER_", "TELEGRAM_", "STRUCTLOG_", "DROPBOX_", "AWS_")


def check_text(name: str, value: str | None) -> None:
    """`value` (of a flag or a variable) is UTF-8 text.

    Python hands over a byte of an argument or variable that is not UTF-8 as a lone
    surrogate; left in, it fails far from here (a path, a URL, the console). The error names
    the byte and its offset, never the value, which may be a secret.
    """
    try:
        (value or "").encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(exc.object[exc.start])
        byte = f"byte 0x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF else f"U+{char:04X}"
        offset = len(exc.object[: exc.start].encode("utf-8", "surrogateescape"))
        raise PermanentError(f"{name}: not UTF-8 text ({byte} at offset {offset})") from None


def check_settings_text(environ: Mapping[str, str] = os.environ) -> None:
    """Every variable named like one of this project's settings is UTF-8 text."""
    for name in sorted(environ):
        if name.startswith(SETTING_PREFIXES):
            check_text(name, environ[name])


def check_deployment_settings(environ: Mapping[str, str] = os.environ) -> str:
    """The timeout, the start date and the cron parse wherever they are set (the settings
    file, else the environment); returns the first date partition."""
    from resources.deployment import deployment_settings

    return deployment_settings(environ).start_date


def check_log_level(environ: Mapping[str, str] = os.environ) -> None:
    """`STRUCTLOG_LEVEL`, when set, is a level the event logs know."""
    level = environ.get("STRUCTLOG_LEVEL")
    name = (level or "").lower()
    if level and (name if name != "warn" else "warning") not in LEVELS:
        raise PermanentError(
            f"STRUCTLOG_LEVEL={level!r}: expected one of {', '.join(k.upper() for k in LEVELS)}"
        )


def writable_folder(path: Path, what: str) -> Path:
    """`path` if it is (or could be created as) a folder this process may write to."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise PermanentError(f"{what}={path}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermanentError(f"{what}={path}: not writable by this user ({probe})")
    return path


def dagster_home(environ: Mapping[str, str] = os.environ, cwd: Path | None = None) -> Path:
    """$DAGSTER_HOME, or ./.dagster_home; checked to be writable, not created yet."""
    home = Path(environ.get("DAGSTER_HOME") or (cwd or Path.cwd()) / DEFAULT_HOME).resolve()
    return writable_folder(home, "DAGSTER_HOME")


def storage_dir(home: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """The folder holding `home`'s SQLite storage: $RETRAIN_INSTANCE_DIR when its config says so."""
    config = home / "dagster.yaml"
    if not config.exists() or INSTANCE_DIR_VAR not in config.read_text():
        return home
    folder = environ.get(INSTANCE_DIR_VAR)
    if not folder:
        raise PermanentError(
            f"{INSTANCE_DIR_VAR} is not set: {config} keeps its storage there "
            "(`make run` sets it to ./.dagster_home)"
        )
    return Path(folder).resolve()


def dry_run_places(
    home: Path, root: Path, environ: Mapping[str, str] = os.environ
) -> tuple[Path, Path]:
    """(Dagster home, artifact root) of dry runs: a `dry_run` folder in the real ones' storage.

    The home is `dry_run/` in the folder holding `home`'s storage (`storage_dir`: with `make`,
    `./.dagster_home/dry_run`); it gets the repo's settings with the storage in itself
    (`home.prepare_home`). The artifact root is `root/dry_run`. So a dry run runs the very
    same job and assets as a real one, yet the real instance, the UI on it, status.json, the
    summary, the walk-forward ledger and the production pointer never see it.
    """
    return storage_dir(home, environ) / DRY_RUN_DIR, root / DRY_RUN_DIR


def check_instance_database(home: Path) -> None:
    """Every SQLite database of an existing instance opens and reads (not corrupt); the dry
    runs' instance in its `dry_run/` folder is checked only by a dry run."""
    for db in sorted(home.glob("**/*.db")):
        if db.relative_to(home).parts[0] == DRY_RUN_DIR:
            continue
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise PermanentError(
                f"DAGSTER_HOME={home}: the instance database {db.name} cannot be read ({exc}); "
                "restore it from a backup or move it away"
            ) from None
