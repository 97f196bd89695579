"""Retention's edges: listing run folders, checkpoints and champions under the artifact root,
and deleting what a plan (`core.lifecycle.retention.plan_retention`) says, here and remotely.

Paths are relative to the artifact root and `/`-separated
(`models/BTCUSDT/20210601_010203Z_abcd1234`), the form the production manifest uses.
"""

import shutil
from collections.abc import Set as AbstractSet
from pathlib import Path

from retrain_assets.adapters.storage import StorageBackend
from retrain_assets.core.lifecycle.artifacts import MODELS_DIR
from retrain_assets.core.lifecycle.retention import (
    CHECKPOINTS_DIR,
    DAY_FOLDER_RE,
    MANIFEST_FILE,
    PRODUCTION_DIR,
    Action,
    ChampionManifestError,
    Champions,
    RemoteOutcome,
    RetentionError,
    RetentionPlan,
    champion_in_manifest,
    remote_folder_prefix,
    unreadable_manifest,
)


def list_run_folders(root: Path) -> dict[str, list[str]]:
    """Folder names under `models/{SYMBOL}/` for every symbol, sorted."""
    models = root / MODELS_DIR
    if not models.is_dir():
        return {}
    return {
        sym.name: sorted(p.name for p in sym.iterdir() if p.is_dir())
        for sym in sorted(models.iterdir())
        if sym.is_dir()
    }


def list_checkpoint_days(root: Path) -> list[str]:
    """`checkpoints/{SYMBOL}/{YYYYMMDDZ}` folders under `root`, sorted."""
    base = root / CHECKPOINTS_DIR
    if not base.is_dir():
        return []
    return sorted(
        f"{CHECKPOINTS_DIR}/{sym.name}/{day.name}"
        for sym in base.iterdir()
        if sym.is_dir()
        for day in sym.iterdir()
        if day.is_dir() and DAY_FOLDER_RE.match(day.name)
    )


def champion_folder(root: Path, symbol: str) -> str | None:
    """The champion run folder of `symbol` from its production manifest; None when it has none.

    Raises:
        ChampionManifestError: The manifest exists but is not JSON naming a run folder
            (`core.lifecycle.retention.champion_in_manifest`).
    """
    manifest = root / PRODUCTION_DIR / symbol / MANIFEST_FILE
    if not manifest.is_file():
        return None
    try:
        text = manifest.read_text()
    except (OSError, ValueError) as exc:
        raise ChampionManifestError(unreadable_manifest(str(manifest), symbol, exc)) from None
    return champion_in_manifest(text, str(manifest), symbol)


def read_champions(root: Path) -> Champions:
    """Every symbol's champion folder; a corrupt manifest is an error for its symbol only."""
    base = root / PRODUCTION_DIR
    folders: set[str] = set()
    errors: dict[str, str] = {}
    symbols = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    for symbol in symbols:
        try:
            found = champion_folder(root, symbol)
        except ChampionManifestError as exc:
            errors[symbol] = str(exc)
            continue
        if found is not None:
            folders.add(found)
    return Champions(frozenset(folders), errors)


def apply_remote(
    plan: RetentionPlan, backend: StorageBackend, remote_prefix: str = MODELS_DIR
) -> RemoteOutcome:
    """Delete every remote object under each deleted run folder's remote prefix.

    A folder whose listing or deletion fails is reported, not raised, so one bad folder
    does not stop the others; `apply_local` should then keep its local copy.
    """
    deleted: dict[str, int] = {}
    failed: dict[str, str] = {}
    for decision in plan.folders:
        if decision.action is not Action.DELETE:
            continue
        prefix = remote_folder_prefix(decision.path, remote_prefix)
        try:
            objects = [p for p in backend.list(prefix) if p.startswith(prefix)]
            for remote_path in objects:
                backend.delete(remote_path)
        except Exception as exc:  # report and move on: the local folder stays for next time
            failed[decision.path] = f"{type(exc).__name__}: {exc}"
            continue
        deleted[decision.path] = len(objects)
    return RemoteOutcome(deleted, failed)


def apply_local(plan: RetentionPlan, root: Path, skip: AbstractSet[str] = frozenset()) -> list[str]:
    """Delete the plan's run and checkpoint folders under `root`, except those in `skip`.

    Returns:
        The paths deleted (relative to `root`).

    Raises:
        RetentionError: A planned path would resolve outside `root`'s models/ or checkpoints/.
    """
    base = root.resolve()
    allowed = (base / MODELS_DIR, base / CHECKPOINTS_DIR)
    done: list[str] = []
    for decision in plan.deletions():
        if decision.path in skip:
            continue
        target = (base / decision.path).resolve()
        if not any(target.is_relative_to(a) and target != a for a in allowed):
            raise RetentionError(f"refusing to delete {target}: outside {allowed[0]}/{allowed[1]}")
        if target.is_dir():
            shutil.rmtree(target)
            done.append(decision.path)
    return done
