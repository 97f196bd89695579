"""Retention: which run folders and checkpoints to delete (the plan; the deleting, here and in the
remote store, is `retrain_assets.adapters.retention_files`).

Per symbol the newest `keep` run folders are kept, by the `YYYYMMDD_HHMMSSZ` stamp their names
start with. Protected folders (the champion, a folder with an upload still pending, the folder
of an unfinished run) are always kept and do not count toward `keep`: `keep` is how many other
folders stay, so protecting one never pushes a recent model out. A folder whose name is not a
run folder name is never touched. Paths are relative to the artifact root and `/`-separated
(`models/BTCUSDT/20210601_010203Z_abcd1234`), the form the production manifest uses.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath

from retrain_assets.core.errors import PermanentError
from retrain_assets.core.lifecycle.artifacts import MODELS_DIR, day_folder

CHECKPOINTS_DIR = "checkpoints"
PRODUCTION_DIR = "production"
MANIFEST_FILE = "production.json"
SOURCE_KEY = "source_run_folder"
RUN_FOLDER_RE = re.compile(r"^\d{8}_\d{6}Z_[A-Za-z0-9-]{8}$")
DAY_FOLDER_RE = re.compile(r"^\d{8}Z$")


class RetentionError(PermanentError):
    """Retention refused to run, or refused to touch a symbol."""


class ChampionManifestError(RetentionError):
    """A production manifest that cannot be read: its symbol's folders must not be deleted."""


class Action(StrEnum):
    """What retention does with a folder."""

    KEEP = "keep"
    DELETE = "delete"


class Reason(StrEnum):
    """Why a folder is kept or deleted."""

    NEWEST = "newest"
    OLDER = "older than the newest kept"
    CHAMPION = "champion"
    PENDING_UPLOAD = "pending upload"
    UNFINISHED_RUN = "unfinished run"
    UNRECOGNIZED = "not a run folder name"
    BLOCKED = "symbol blocked"
    NO_ACTIVE_RUN = "no active run"


# When a folder is protected for several reasons, the plan names the strongest.
_PRIORITY = (Reason.CHAMPION, Reason.UNFINISHED_RUN, Reason.PENDING_UPLOAD)


@dataclass(frozen=True)
class RetentionPolicy:
    """How much to keep: the newest `keep` unprotected run folders per symbol."""

    keep: int
    sweep_checkpoints: bool = True
    dry_run: bool = False
    # Temp files a killed writer left (`.<name>.tmp-<id>`) go once unchanged this long: a live
    # writer touches its file as it writes, and the slowest (a download) takes minutes.
    stale_temp_hours: float = 24.0

    def __post_init__(self) -> None:
        check_keep(self.keep)
        hours = self.stale_temp_hours
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not hours > 0:
            raise RetentionError(f"retention stale_temp_hours must be > 0, got {hours!r}")


@dataclass(frozen=True)
class RetentionDecision:
    """One folder's fate: `path` relative to the root, the action and why."""

    symbol: str
    path: str
    action: Action
    reason: Reason
    detail: str = ""


@dataclass(frozen=True)
class RetentionPlan:
    """Every run folder and checkpoint folder seen, each with its decision."""

    keep: int
    folders: tuple[RetentionDecision, ...]
    checkpoints: tuple[RetentionDecision, ...] = ()

    def deletions(self) -> tuple[RetentionDecision, ...]:
        """Run folders and checkpoint folders to delete, in plan order."""
        return tuple(d for d in (*self.folders, *self.checkpoints) if d.action is Action.DELETE)


@dataclass(frozen=True)
class Champions:
    """Champion run folders, and the symbols whose manifest could not be read."""

    folders: frozenset[str]
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteOutcome:
    """Remote objects deleted per folder, and folders whose remote deletion failed."""

    deleted: Mapping[str, int]
    failed: Mapping[str, str]


def check_keep(keep: int) -> None:
    """Refuse a `keep` below 1: keeping nothing would delete the model just trained.

    Raises:
        RetentionError: `keep` is not an integer of at least 1.
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise RetentionError(f"retention keep must be an integer >= 1, got {keep!r}")


def run_folder_path(symbol: str, name: str) -> str:
    """`models/{SYMBOL}/{name}`, a run folder relative to the artifact root."""
    return f"{MODELS_DIR}/{symbol}/{name}"


def folders_of_runs(
    folders_by_symbol: Mapping[str, Sequence[str]], run_ids: Iterable[str]
) -> set[str]:
    """The run folders whose names end with the first 8 characters of one of `run_ids`."""
    shorts = {run_id[:8] for run_id in run_ids}
    return {
        run_folder_path(symbol, name)
        for symbol, names in folders_by_symbol.items()
        for name in names
        if RUN_FOLDER_RE.match(name) and name[-8:] in shorts
    }


def champion_in_manifest(text: str, where: str, symbol: str) -> str | None:
    """The champion run folder a production manifest names; None when it names none.

    The folder is the manifest's `source_run_folder`, at the top level or under `champion`
    (the pointer `core.lifecycle.production.derive_pointer` builds); `"champion": null` means
    no champion.

    Args:
        text: The manifest's content.
        where: The manifest's path, for the error.
        symbol: The manifest's symbol, for the error.

    Raises:
        ChampionManifestError: `text` is not JSON naming a run folder.
    """
    try:
        data = json.loads(text)
        if data.get("champion", ...) is None and SOURCE_KEY not in data:
            return None
        value = data[SOURCE_KEY] if SOURCE_KEY in data else data["champion"][SOURCE_KEY]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ChampionManifestError(unreadable_manifest(where, symbol, exc)) from None
    parts = PurePosixPath(str(value).replace("\\", "/")).parts if isinstance(value, str) else ()
    if len(parts) != 3 or parts[0] != MODELS_DIR or not RUN_FOLDER_RE.match(parts[2]):
        raise ChampionManifestError(
            f"{where}: {SOURCE_KEY}={value!r} is not models/{{SYMBOL}}/{{run folder}}; "
            f"{_stopped(symbol)}"
        )
    return "/".join(parts)


def unreadable_manifest(where: str, symbol: str, exc: Exception) -> str:
    """The error of a manifest that cannot be read or parsed: its symbol's retention stops."""
    return f"{where}: unreadable manifest ({type(exc).__name__}: {exc}); {_stopped(symbol)}"


def _stopped(symbol: str) -> str:
    return f"retention of {symbol} stopped so its champion cannot be deleted"


def protections(
    champions: AbstractSet[str] = frozenset(),
    unfinished: AbstractSet[str] = frozenset(),
    pending: AbstractSet[str] = frozenset(),
) -> dict[str, Reason]:
    """Protected folders with the strongest reason each (champion, unfinished run, pending)."""
    by_reason = {
        Reason.CHAMPION: champions,
        Reason.UNFINISHED_RUN: unfinished,
        Reason.PENDING_UPLOAD: pending,
    }
    found: dict[str, Reason] = {}
    for reason in reversed(_PRIORITY):
        found.update(dict.fromkeys(by_reason[reason], reason))
    return found


def plan_retention(
    folders_by_symbol: Mapping[str, Sequence[str]],
    keep: int,
    protected: Mapping[str, Reason] | AbstractSet[str] = frozenset(),
    blocked: Mapping[str, str] | None = None,
) -> RetentionPlan:
    """Decide, per symbol, which run folders to keep and which to delete.

    Args:
        folders_by_symbol: Run folder names (not paths) per symbol, in any order.
        keep: How many unprotected run folders to keep per symbol, newest first (>= 1).
        protected: Folder paths never deleted (a plain set reads as champions).
        blocked: Symbols not to touch at all, with the error that blocked them.

    Returns:
        The plan, folders in symbol order, newest first.

    Raises:
        RetentionError: `keep` is below 1.
    """
    check_keep(keep)
    reasons = protected if isinstance(protected, Mapping) else protections(set(protected))
    blocked = blocked or {}
    decisions: list[RetentionDecision] = []
    for symbol in sorted(folders_by_symbol):
        kept = 0
        for name in sorted(folders_by_symbol[symbol], reverse=True):
            path = run_folder_path(symbol, name)
            if symbol in blocked:
                decision = RetentionDecision(
                    symbol, path, Action.KEEP, Reason.BLOCKED, blocked[symbol]
                )
            elif path in reasons:
                decision = RetentionDecision(symbol, path, Action.KEEP, reasons[path])
            elif not RUN_FOLDER_RE.match(name):
                decision = RetentionDecision(symbol, path, Action.KEEP, Reason.UNRECOGNIZED)
            elif kept < keep:
                kept += 1
                decision = RetentionDecision(
                    symbol, path, Action.KEEP, Reason.NEWEST, f"{kept}/{keep}"
                )
            else:
                decision = RetentionDecision(
                    symbol, path, Action.DELETE, Reason.OLDER, f"keep={keep}"
                )
            decisions.append(decision)
    return RetentionPlan(keep, tuple(decisions))


def checkpoints_to_sweep(
    checkpoint_days: Iterable[str], active: AbstractSet[tuple[str, str]]
) -> tuple[RetentionDecision, ...]:
    """Checkpoint folders to delete: those of symbol-days without an active run.

    Args:
        checkpoint_days: `checkpoints/{SYMBOL}/{YYYYMMDDZ}` paths.
        active: `(YYYY-MM-DD, SYMBOL)` of every partition with a run not finished yet.

    Returns:
        One decision per folder (kept while its symbol-day has an active run).
    """
    busy = {f"{CHECKPOINTS_DIR}/{symbol}/{day_folder(date)}" for date, symbol in active}
    decisions = []
    for path in sorted(checkpoint_days):
        symbol = path.split("/")[1]
        if path in busy:
            decisions.append(RetentionDecision(symbol, path, Action.KEEP, Reason.UNFINISHED_RUN))
        else:
            decisions.append(RetentionDecision(symbol, path, Action.DELETE, Reason.NO_ACTIVE_RUN))
    return tuple(decisions)


def remote_folder_prefix(path: str, remote_prefix: str = MODELS_DIR) -> str:
    """The remote prefix of a run folder: `{remote_prefix}/{SYMBOL}/{folder}/`."""
    _, symbol, name = path.split("/")
    return "/".join(p for p in (remote_prefix.strip("/"), symbol, name) if p) + "/"
