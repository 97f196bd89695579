"""`dagster dev` (webserver + daemon) on 127.0.0.1 for end-to-end tests, and its GraphQL API."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on UnauthorizedError { message }
  }
}
"""

REPOSITORIES = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }
"""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dagster_dev(
    log_path: Path, timeout_s: float = 120, command: Sequence[str] = ("dagster", "dev")
) -> Iterator[str]:
    """Start `dagster dev` (or `command`: `("dg", "dev")`) on the test's DAGSTER_HOME; yield its
    base URL; stop its process group."""
    port = free_port()
    program = Path(sys.executable).parent / command[0]
    workspace = ["-w", "workspace.yaml"] if command[0] == "dagster" else []
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(program), *command[1:], *workspace, "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, proc, timeout_s, log_path)
            yield base
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_ready(base: str, proc: subprocess.Popen, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster dev exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/server_info", timeout=2).ok and _location_loaded(base):
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"dagster dev not ready in {timeout_s}s:\n{log.read_text()[-3000:]}")


def _location_loaded(base: str) -> bool:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
    data = graphql(base, query)
    entries = data["workspaceOrError"]["locationEntries"]
    return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    """POST a GraphQL query; raise on transport or GraphQL errors."""
    response = requests.post(
        f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


def launch_asset_backfill(base: str, partitions: list[str], assets: list[str]) -> str:
    """Launch an asset backfill like the UI does; return its id."""
    params = {"partitionNames": partitions, "assetSelection": [{"path": [a]} for a in assets]}
    result = graphql(base, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(result)
    return result["backfillId"]


def launch_job_backfill(base: str, job: str, partitions: list[str], assets: list[str]) -> str:
    """Launch a backfill like the job page's "Materialize all" does (a partition set selector
    with the assets, so its runs run as `job`); return its id."""
    (repo,) = graphql(base, REPOSITORIES)["repositoriesOrError"]["nodes"]
    params = {
        "partitionNames": partitions,
        "assetSelection": [{"path": [a]} for a in assets],
        "fromFailure": False,
        "selector": {
            "partitionSetName": f"{job}_partition_set",
            "repositorySelector": {
                "repositoryLocationName": repo["location"]["name"],
                "repositoryName": repo["name"],
            },
        },
    }
    result = graphql(base, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(result)
    return result["backfillId"]


def start_webserver(
    log_path: Path, port: int, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`dagster-webserver` alone (a deployment's webserver pod) on `port`, in its own process
    group with its code server; ready when this returns. Stop it with `stop_group`."""
    args = ("-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port))
    proc = _start_group(("dagster-webserver", *args), log_path, "a", env)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc, 120, log_path)
    except BaseException:
        stop_group(proc)
        raise
    return proc


@contextmanager
def dagster_daemon(log_path: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """`dagster-daemon run` alone (a deployment's daemon pod, whose run launcher starts the
    runs) on the test's DAGSTER_HOME, in its own process group; stopped on exit."""
    proc = _start_group(("dagster-daemon", "run", "-w", "workspace.yaml"), log_path, "w", env)
    try:
        yield
    finally:
        stop_group(proc)


def _start_group(
    command: Sequence[str], log_path: Path, mode: str, env: dict[str, str] | None
) -> subprocess.Popen:
    """One of the venv's programs from the repo root, in its own process group, logging to
    `log_path` (opened with `mode`)."""
    with log_path.open(mode) as log:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / command[0]), *command[1:]],
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Send `sig` to the process group `proc` leads, wait; SIGKILL it if still there in 30 s."""
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
