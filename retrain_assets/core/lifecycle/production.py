"""The champion of each symbol: which model is live, why, and since when, as values.

Each symbol's history is a list of decisions, one per date: the candidate trained through that
date, the gate's verdict, whether the champion moved, and the champion that is live on the next
day. Replaying them in date order (`replay`) gives which model was live on which day
(`live_history`) and the pointer naming the current champion (`derive_pointer`), so a backfill
of an older date never rolls the live pointer back, and dates finishing out of order give the
same champion as dates in order.

Every model reference carries the sha256 its bytes must have, and the pointer carries the
sha256 of the decision that promoted the champion: a pointer whose decision or model fails its
checksum is not a champion (`IntegrityError`). The files these values live in under the
artifact root (`production/{SYMBOL}/decisions/{date}.json`, `production/{SYMBOL}/production.json`)
are read and written by `retrain_assets.adapters.production_store`.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from retrain_assets.core.digests import sha256_bytes
from retrain_assets.core.errors import IntegrityError

PRODUCTION_DIR = "production"
POINTER_FILE = "production.json"
DECISIONS_DIR = "decisions"
LIVE_DIR = "live"
CACHE_DIR = "cache"
MODEL_FILE = "model.bin"


@dataclass(frozen=True)
class ModelRef:
    """One trained model: the partition it was trained for and where its files are.

    `files` maps a file name (`model.bin`, `config.json`) to its recorded entry: `path`
    (relative to the artifact root when under it), `sha256`, `size`, and where uploaded
    `backend`, `remote_path`, `uri`. `source_run_folder` is the run folder, relative to the
    root, that retention must keep while the model is a champion.
    """

    symbol: str
    as_of: str
    run_id: str
    source_run_folder: str
    files: dict[str, dict[str, Any]]

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "ModelRef":
        """Rebuild a reference written by `asdict`."""
        return cls(
            symbol=str(data["symbol"]),
            as_of=str(data["as_of"]),
            run_id=str(data["run_id"]),
            source_run_folder=str(data["source_run_folder"]),
            files={str(k): dict(v) for k, v in data["files"].items()},
        )


PROMOTED = "promoted"
KEPT = "kept"
DEMOTED = "demoted"
FLAT = "flat"


@dataclass(frozen=True)
class Decision:
    """What the gate decided on `date` for `symbol`.

    `champion` is live from `live_on` (the next day) until a later decision moves it; None
    means the symbol has no production model: nothing has passed the gate yet, or the champion
    was demoted (`demoted`), and the symbol trades nothing. `live_day` is the champion's own
    record of `date`: what the model live on `date` did that day (None in decisions written
    before it was kept), the day the demotion reads.
    """

    symbol: str
    date: str
    live_on: str
    candidate: ModelRef | None
    previous: ModelRef | None
    champion: ModelRef | None
    moved: bool
    reason: str
    gate: dict[str, Any]
    demoted: bool = False
    live_day: dict[str, Any] | None = None

    @property
    def action(self) -> str:
        """`promoted`, `demoted`, `kept` (a champion stays live) or `flat` (none to keep)."""
        if self.demoted:
            return DEMOTED
        if self.moved:
            return PROMOTED
        return KEPT if self.champion is not None else FLAT

    def to_json_dict(self) -> dict[str, Any]:
        """The decision file's content."""
        return {**asdict(self), "action": self.action}

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> "Decision":
        """Rebuild a decision file."""

        def ref(value: Any) -> ModelRef | None:
            return None if value is None else ModelRef.from_json_dict(value)

        return cls(
            symbol=str(data["symbol"]),
            date=str(data["date"]),
            live_on=str(data["live_on"]),
            candidate=ref(data.get("candidate")),
            previous=ref(data.get("previous")),
            champion=ref(data.get("champion")),
            moved=bool(data["moved"]),
            reason=str(data["reason"]),
            gate=dict(data.get("gate") or {}),
            demoted=bool(data.get("demoted", False)),
            live_day=data.get("live_day"),
        )


def decide(
    symbol: str,
    date: str,
    candidate: ModelRef | None,
    previous: ModelRef | None,
    gate: Mapping[str, Any],
    *,
    demotion: str | None = None,
    live_day: Mapping[str, Any] | None = None,
    champion_since: str | None = None,
) -> Decision:
    """Demote, promote or keep: the champion live from the day after `date`.

    Args:
        symbol: The symbol.
        date: The decision's date (the candidate's `as_of`).
        candidate: The model trained through `date`; None when it could not be read.
        previous: The champion live on `date` (the newest decision before it), or None.
        gate: The gate's verdict (`GateVerdict.to_json_dict`); `passed` decides.
        demotion: Why the champion must go (`core.gate.demotion`); None to keep it. A demoted
            symbol goes flat, and a candidate is not promoted on the same date.
        live_day: The champion's own record of `date`, kept in the decision.
        champion_since: The date the live champion went live from flat, for the reason.
    """
    live_on = (pd.Timestamp(date) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    day = None if live_day is None else dict(live_day)
    if previous is not None and demotion is not None:
        reason = f"demoted: {demotion}; no production model from {live_on} (flat)"
        return Decision(
            symbol, date, live_on, candidate, previous, None, False, reason, dict(gate),
            demoted=True, live_day=day,
        )  # fmt: skip
    if gate.get("passed") and candidate is not None:
        return Decision(
            symbol, date, live_on, candidate, previous, candidate, True, "promoted: gate passed",
            dict(gate), live_day=day,
        )  # fmt: skip
    why = "candidate model unreadable" if candidate is None else f"gate {_failing(gate)}"
    kept = (
        f"kept (champion since {champion_since or previous.as_of}, model as of {previous.as_of})"
        if previous
        else "no champion yet"
    )
    return Decision(
        symbol, date, live_on, candidate, previous, previous, False, f"{kept}: {why}", dict(gate),
        live_day=day,
    )  # fmt: skip


def _failing(gate: Mapping[str, Any]) -> str:
    failing = gate.get("failing") or []
    return "failed " + ", ".join(failing) if failing else "did not pass"


def parse_decision(data: bytes, where: str) -> Decision:
    """A decision file's bytes as a `Decision`; an IntegrityError naming `where` if unreadable."""
    try:
        return Decision.from_json_dict(json.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{where}: unreadable decision ({exc})") from None


def champion_before(decisions: list[Decision], date: str) -> ModelRef | None:
    """The champion live on `date`: the replayed chain of the decisions made before it."""
    chain = replay([d for d in decisions if d.date < date])
    return chain[-1][1] if chain else None


def derive_pointer(
    symbol: str, decisions: list[Decision], decision_ref: Callable[[str], dict[str, str]]
) -> dict[str, Any] | None:
    """The pointer the decisions give, replayed in date order.

    Args:
        symbol: The symbol.
        decisions: Every recorded decision of `symbol`, in any order.
        decision_ref: The `{"path", "sha256"}` of the decision file of a date; the pointer
            names the decision that promoted (or demoted) its champion by it.

    Returns:
        The pointer; None when no model was ever promoted. After a demotion it names no
        champion (`champion: null`) and says why.
    """
    chain = replay(decisions)
    if not chain:
        return None
    newest, champion = chain[-1]
    if champion is None:
        demoted = [d for d, _ in chain if d.demoted]
        if not demoted:
            return None
        return {
            "symbol": symbol,
            "champion": None,
            "decided_on": newest.date,
            "demoted_on": demoted[-1].date,
            "flat_from": demoted[-1].live_on,
            "reason": demoted[-1].reason,
            "decision": decision_ref(demoted[-1].date),
        }
    promoted = [d for d, c in chain if d.moved and c is champion]
    if not promoted:
        return None
    return {
        "symbol": symbol,
        "champion": asdict(champion),
        "decided_on": newest.date,
        "live_from": promoted[-1].live_on,
        "decision": decision_ref(promoted[-1].date),
    }


def checked_pointer(pointer: dict[str, Any], decision_data: bytes, where: str) -> dict[str, Any]:
    """`pointer` if the decision it names (whose file holds `decision_data`) backs it.

    Raises:
        IntegrityError: Naming `where`: the decision fails its sha256, the pointer names no
            champion but its decision demoted none, or it names a champion its decision did
            not promote.
    """
    decision = pointer["decision"]
    if sha256_bytes(decision_data) != decision["sha256"]:
        raise IntegrityError(f"{where}: its decision {decision['path']} fails its sha256")
    decided = Decision.from_json_dict(json.loads(decision_data))
    if pointer["champion"] is None:
        if not decided.demoted:
            raise IntegrityError(
                f"{where}: names no champion, but its decision {decision['path']} demoted none"
            )
        return pointer
    promoted = decided.candidate
    if promoted is None or asdict(promoted) != pointer["champion"]:
        raise IntegrityError(
            f"{where}: names a champion its decision {decision['path']} did not promote"
        )
    return pointer


def replay(decisions: list[Decision]) -> list[tuple[Decision, ModelRef | None]]:
    """Each decision, oldest first, with the champion live after it.

    The chain is replayed from what each decision recorded as fact, its candidate and whether
    the gate let it through (`moved`), not from the champion it named when it was made: a
    backfill that finishes its dates out of order then gives the same champions, pointer and
    history as one run date by date.
    """
    chain: list[tuple[Decision, ModelRef | None]] = []
    champion: ModelRef | None = None
    for decision in sorted(decisions, key=lambda d: d.date):
        if decision.demoted:
            champion = None
        elif decision.moved and decision.candidate is not None:
            champion = decision.candidate
        chain.append((decision, champion))
    return chain


def tenure(decisions: list[Decision], date: str) -> tuple[str | None, list[Decision]]:
    """The live champion's tenure before `date`: the date it went live from flat (None without
    a champion), and the decisions made since, oldest first. A demotion ends a tenure, and a
    promotion over a live champion continues it (production was never flat)."""
    since: str | None = None
    during: list[Decision] = []
    for decision, champion in replay([d for d in decisions if d.date < date]):
        if champion is None:
            since, during = None, []
        elif since is None:
            since, during = decision.date, []
        else:
            during.append(decision)
    return since, during


def failed_in_a_row(decisions: list[Decision]) -> int:
    """How many of the newest decisions, consecutively, had a failing gate."""
    count = 0
    for decision in sorted(decisions, key=lambda d: d.date, reverse=True):
        if decision.gate.get("passed"):
            break
        count += 1
    return count


@dataclass(frozen=True)
class LiveDay:
    """Which model was live on one day (None: no champion, the symbol traded nothing)."""

    day: str
    model_as_of: str | None
    moved_on: str | None


def live_history(decisions: list[Decision]) -> list[LiveDay]:
    """Which model was live on each day covered by `decisions`, oldest first.

    Each decision sets the champion from its `live_on` day until the next decision's; days
    with no decision (no run) keep the champion before them, so the history has no holes.
    """
    history: list[LiveDay] = []
    chain = replay(decisions)
    for i, (decision, champion) in enumerate(chain):
        until = chain[i + 1][0].live_on if i + 1 < len(chain) else None
        days = (
            pd.date_range(decision.live_on, until, freq="D", inclusive="left")
            if until is not None
            else pd.DatetimeIndex([decision.live_on])
        )
        as_of = champion.as_of if champion else None
        moved_on = decision.date if decision.moved else None
        history.extend(LiveDay(d.strftime("%Y-%m-%d"), as_of, moved_on) for d in days)
    return history


def model_ref(
    symbol: str, as_of: str, run_id: str, root: Path, entries: Mapping[str, Mapping[str, Any]]
) -> ModelRef:
    """A reference to a model from its materialization's recorded file entries."""
    if MODEL_FILE not in entries:
        raise IntegrityError(f"{symbol} {as_of}: no {MODEL_FILE} recorded for the model")
    files: dict[str, dict[str, Any]] = {}
    for name in (MODEL_FILE, "config.json"):
        if name in entries:
            entry = dict(entries[name])
            entry["path"] = _relative_to(Path(entry["path"]), root)
            files[name] = entry
    folder = Path(files[MODEL_FILE]["path"]).parent.as_posix()
    return ModelRef(symbol, as_of, run_id, folder, files)


def _relative_to(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def checked_model_bytes(ref: ModelRef, data: bytes, where: str) -> bytes:
    """`data` if it is the champion's recorded model.bin, else an IntegrityError naming `where`."""
    recorded = ref.files[MODEL_FILE]["sha256"]
    if sha256_bytes(data) != recorded:
        raise IntegrityError(
            f"{ref.symbol} champion as of {ref.as_of}: {where} fails its sha256 "
            f"(recorded {recorded[:16]}…)"
        )
    return data
