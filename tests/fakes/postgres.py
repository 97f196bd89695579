"""A real PostgreSQL server on 127.0.0.1 for tests: Debian's `postgresql`, started per session.

`.ci/run` installs the package; elsewhere the tests that need it skip when no `initdb` is found.
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user the
package creates, in a temporary folder it owns.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Postgres:
    """Where the test server listens and the database the instance uses."""

    host: str
    port: int
    user: str
    db: str
    restart_command: tuple[str, ...] = ()
    owner: dict = field(default_factory=dict)

    def restart(self) -> None:
        """Stop the server (fast: open connections are cut) and start it again; wait for it."""
        subprocess.run(
            list(self.restart_command), check=True, capture_output=True, timeout=120, **self.owner
        )

    def create_database(self, name: str) -> None:
        """A new empty database `name` on this server (a test's own instance)."""
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=self.db)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def env(self) -> dict[str, str]:
        """The `DAGSTER_PG_*` variables `deploy/dagster.yaml` reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db,
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": "unused-trust-auth",
        }


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(folder: Path) -> dict:
    """Run as `postgres` when we are root (chowning the folder to it), else as ourselves."""
    if os.geteuid() != 0:
        return {}
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root without the postgres user the package creates")
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return {"user": owner.pw_uid, "group": owner.pw_gid}


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster with one database, stopped at the end of the session."""
    initdb, pg_ctl, createdb = _bin("initdb"), _bin("pg_ctl"), _bin("createdb")
    if not (initdb and pg_ctl and createdb):
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="retrain-pg-"))
    data = folder / "data"
    owner = _as_owner(folder)
    run = {"check": True, "capture_output": True, "timeout": 120, **owner}
    subprocess.run([initdb, "-D", str(data), "-U", "dagster", "--auth=trust"], **run)
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {folder}"
    log = folder / "server.log"
    subprocess.run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], **run)
    try:
        args = ["-h", "127.0.0.1", "-p", str(port), "-U", "dagster"]
        subprocess.run([createdb, *args, "retrain"], **run)
        restart = (pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-m", "fast", "-w")
        yield Postgres("127.0.0.1", port, "dagster", "retrain", (*restart, "restart"), owner)
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], **{**run, "check": False}
        )
        shutil.rmtree(folder, ignore_errors=True)
