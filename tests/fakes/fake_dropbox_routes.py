"""The in-memory file tree and route handlers behind the fake Dropbox server."""

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

STAMP = "2026-11-27T00:00:00Z"
BLOCK = 4 * 1024 * 1024


def _content_hash(data: bytes) -> str:
    digests = b"".join(
        hashlib.sha256(data[i : i + BLOCK]).digest() for i in range(0, len(data), BLOCK)
    )
    return hashlib.sha256(digests).hexdigest()


class RouteError(Exception):
    """A Dropbox route error, answered as a 409 with `error` and `error_summary`."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error)
        self.error = error
        self.summary = _summary(error)


def _summary(error: dict[str, Any]) -> str:
    tag = error[".tag"]
    inner = error.get(tag)
    return f"{tag}/" + (_summary(inner) if isinstance(inner, dict) else "")


def _not_found(tag: str) -> RouteError:
    return RouteError({".tag": tag, tag: {".tag": "not_found"}})


@dataclass
class StoredFile:
    """One file: its display path, bytes, revision and id."""

    path_display: str
    data: bytes
    rev: str
    file_id: str

    def metadata(self) -> dict[str, Any]:
        """Return the file's metadata in the API's JSON shape."""
        return {
            ".tag": "file",
            "name": self.path_display.rsplit("/", 1)[-1],
            "path_lower": self.path_display.lower(),
            "path_display": self.path_display,
            "id": self.file_id,
            "client_modified": STAMP,
            "server_modified": STAMP,
            "rev": self.rev,
            "size": len(self.data),
            "is_downloadable": True,
            "content_hash": _content_hash(self.data),
        }


@dataclass
class Store:
    """Files keyed by lowercase path (Dropbox paths are case-insensitive) and upload sessions."""

    files: dict[str, StoredFile] = field(default_factory=dict)
    sessions: dict[str, bytearray] = field(default_factory=dict)
    page_size: int = 1000
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def write(self, path: str, data: bytes, mode: Any, corrupt: bool) -> dict[str, Any]:
        """Commit `data` at `path` following the write mode, as Dropbox does."""
        tag = mode if isinstance(mode, str) else (mode or {}).get(".tag", "add")
        existing = self.files.get(path.lower())
        if existing and tag == "add" and existing.data != data:
            conflict = {".tag": "conflict", "conflict": {".tag": "file"}}
            raise RouteError({".tag": "path", "reason": conflict, "upload_session_id": ""})
        if corrupt and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if existing and existing.data == data:
            return existing.metadata()  # identical content is a no-op
        n = next(self.counter)
        stored = StoredFile(path, data, f"{n:015x}", f"id:fake{n}")
        self.files[path.lower()] = stored
        return stored.metadata()

    def entries(self, folder: str, recursive: bool) -> list[dict[str, Any]]:
        """List files and implied folders under `folder` (`""` is the root)."""
        base = folder.lower().rstrip("/")
        out: dict[str, dict[str, Any]] = {}
        for lower, stored in sorted(self.files.items()):
            if not lower.startswith(base + "/"):
                continue
            rest = stored.path_display[len(base) + 1 :].split("/")
            depth = len(rest) if recursive else 1
            for i in range(1, min(depth, len(rest) - 1) + 1):
                display = stored.path_display[: len(base)] + "/" + "/".join(rest[:i])
                out.setdefault(display.lower(), _folder_meta(display))
            if recursive or len(rest) == 1:
                out[lower] = stored.metadata()
        return [out[k] for k in sorted(out)]


def _folder_meta(display: str) -> dict[str, Any]:
    name = display.rsplit("/", 1)[-1]
    return {
        ".tag": "folder",
        "name": name,
        "path_lower": display.lower(),
        "path_display": display,
        "id": "id:folder-" + display.lower(),
    }


def _check_hash(arg: dict[str, Any], payload: bytes) -> None:
    if arg.get("content_hash") and arg["content_hash"] != _content_hash(payload):
        raise RouteError({".tag": "content_hash_mismatch"})


def _session(store: Store, cursor: dict[str, Any], finish: bool) -> bytearray:
    data = store.sessions.get(cursor["session_id"])
    wrap = (lambda e: {".tag": "lookup_failed", "lookup_failed": e}) if finish else (lambda e: e)
    if data is None:
        raise RouteError(wrap({".tag": "not_found"}))
    if cursor["offset"] != len(data):
        raise RouteError(wrap({".tag": "incorrect_offset", "correct_offset": len(data)}))
    return data


def _upload(store: Store, arg: dict[str, Any], payload: bytes, corrupt: bool) -> dict[str, Any]:
    _check_hash(arg, payload)
    return store.write(arg["path"], payload, arg.get("mode"), corrupt)


def _start(store: Store, arg: dict[str, Any], payload: bytes, corrupt: bool) -> dict[str, Any]:
    _check_hash(arg or {}, payload)
    session_id = f"session-{next(store.counter)}"
    store.sessions[session_id] = bytearray(payload)
    return {"session_id": session_id}


def _append(store: Store, arg: dict[str, Any], payload: bytes, corrupt: bool) -> None:
    data = _session(store, arg["cursor"], finish=False)
    _check_hash(arg, payload)
    data.extend(payload)


def _finish(store: Store, arg: dict[str, Any], payload: bytes, corrupt: bool) -> dict[str, Any]:
    data = _session(store, arg["cursor"], finish=True)
    _check_hash(arg, payload)
    commit = arg["commit"]
    meta = store.write(commit["path"], bytes(data) + payload, commit.get("mode"), corrupt)
    del store.sessions[arg["cursor"]["session_id"]]
    return meta


def _lookup(store: Store, path: str, tag: str) -> StoredFile:
    stored = store.files.get(path.lower())
    if stored is None:
        raise _not_found(tag)
    return stored


def _get_metadata(store: Store, arg: dict[str, Any], *_: Any) -> dict[str, Any]:
    path = arg["path"]
    if path.lower() in store.files:
        return store.files[path.lower()].metadata()
    if any(k.startswith(path.lower().rstrip("/") + "/") for k in store.files):
        return _folder_meta(path)
    raise _not_found("path")


def _list_page(store: Store, path: str, recursive: bool, offset: int) -> dict[str, Any]:
    if path and not any(k.startswith(path.lower().rstrip("/") + "/") for k in store.files):
        raise _not_found("path")
    entries = store.entries(path, recursive)
    page = entries[offset : offset + store.page_size]
    end = offset + len(page)
    cursor = json.dumps({"path": path, "recursive": recursive, "offset": end})
    return {"entries": page, "cursor": cursor, "has_more": end < len(entries)}


def _list_folder(store: Store, arg: dict[str, Any], *_: Any) -> dict[str, Any]:
    return _list_page(store, arg["path"], bool(arg.get("recursive")), 0)


def _list_continue(store: Store, arg: dict[str, Any], *_: Any) -> dict[str, Any]:
    cursor = json.loads(arg["cursor"])
    return _list_page(store, cursor["path"], cursor["recursive"], cursor["offset"])


def _delete(store: Store, arg: dict[str, Any], *_: Any) -> dict[str, Any]:
    stored = _lookup(store, arg["path"], "path_lookup")
    del store.files[arg["path"].lower()]
    return {"metadata": stored.metadata()}


def _move(store: Store, arg: dict[str, Any], *_: Any) -> dict[str, Any]:
    stored = _lookup(store, arg["from_path"], "from_lookup")
    if arg["to_path"].lower() in store.files:
        conflict = {".tag": "conflict", "conflict": {".tag": "file"}}
        raise RouteError({".tag": "to", "to": conflict})
    del store.files[arg["from_path"].lower()]
    stored.path_display = arg["to_path"]
    store.files[arg["to_path"].lower()] = stored
    return {"metadata": stored.metadata()}


def _account(*_: Any) -> dict[str, Any]:
    return {
        "account_id": "dbid:" + "a" * 35,
        "name": {
            "given_name": "Fake",
            "surname": "User",
            "familiar_name": "Fake",
            "display_name": "Fake User",
            "abbreviated_name": "FU",
        },
        "email": "fake@example.com",
        "email_verified": True,
        "disabled": False,
        "locale": "en",
        "referral_link": "https://example.com/r",
        "is_paired": False,
        "account_type": {".tag": "basic"},
        "root_info": {".tag": "user", "root_namespace_id": "1", "home_namespace_id": "1"},
    }


ROUTES = {
    "files/upload": _upload,
    "files/upload_session/start": _start,
    "files/upload_session/append_v2": _append,
    "files/upload_session/finish": _finish,
    "files/get_metadata": _get_metadata,
    "files/list_folder": _list_folder,
    "files/list_folder/continue": _list_continue,
    "files/delete_v2": _delete,
    "files/move_v2": _move,
    "users/get_current_account": _account,
}


def handle_route(
    store: Store, route: str, arg: Any, payload: bytes, corrupt: bool
) -> tuple[Any, bytes | None]:
    """Run one route and return its JSON result and, for downloads, the body bytes."""
    if route == "files/download":
        stored = _lookup(store, arg["path"], "path")
        return stored.metadata(), stored.data
    if route not in ROUTES:
        raise RouteError({".tag": "other"})
    return ROUTES[route](store, arg, payload, corrupt), None
