"""A throwaway PostgreSQL server for tests: the real server binaries, never a mock.

``Cluster.start()`` runs ``initdb`` into a temporary directory and ``pg_ctl start`` on a free
loopback port (a Unix socket in the same directory); ``database()`` creates a fresh, empty
database and returns its URL, so each test (or module) starts from nothing; ``stop()`` stops the
server immediately and removes the directory. The cluster runs without fsync: it is thrown away.

The binaries are found on PATH, then under ``/usr/lib/postgresql/*/bin`` (where Debian's
``postgresql`` package puts them). Missing binaries fail loudly with the command that installs
them (``.ci/run`` does it); they never skip. ``initdb`` refuses to run as root, so as root the
server runs as the ``postgres`` system user (``runuser``), in a directory it owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ports import free_port

MISSING = (
    "PostgreSQL's server binaries (initdb, pg_ctl) are not on PATH nor under /usr/lib/postgresql/*/bin: "
    "the PostgreSQL store's tests run a real server. Debian/Ubuntu: apt-get install -y postgresql "
    "(.ci/run installs it when missing), then run again."
)
NO_POSTGRES_USER = (
    "running as root, but there is no 'postgres' system user to run the test server as (initdb refuses "
    "root): apt-get install -y postgresql creates it, or run the tests as a non-root user."
)


def binaries() -> Path:
    """The folder holding initdb and pg_ctl; RuntimeError (with the fix) when there is none."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).resolve().parent)):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise RuntimeError(MISSING)


@dataclass
class Cluster:
    """One PostgreSQL server in a temporary directory, reachable as ``postgres`` without a password."""

    bin: Path = field(default_factory=binaries)
    port: int = 0
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vtex-pg-")))
    durable: bool = False  # True: fsync and synchronous commit on, as a real database (bench/storage.py)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres system user
            command = ["runuser", "-u", "postgres", "--", *command]
        out = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-2000:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"{args[0]} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}\n{log}")
        return out

    def start(self) -> Cluster:
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(NO_POSTGRES_USER) from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.port = free_port()
        self._run("initdb", "-D", str(self.root / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:  # thrown away after the tests: no need to survive a power cut
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        who = f"{user}:{password}" if password else user
        return f"postgresql://{who}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit: CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def database(self, user: str = "postgres", password: str | None = None) -> str:
        """The URL of a new, empty place to keep tables: a schema of its own, first on the
        connection's search_path (milliseconds, where CREATE DATABASE takes most of a second)."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.sql(f"CREATE SCHEMA {name}")
        return self.in_schema(name, user, password)

    def in_schema(self, schema: str, user: str = "postgres", password: str | None = None) -> str:
        return self.url("postgres", user, password) + f"?options=-csearch_path%3D{schema}"

    def stop(self) -> None:
        deadline = time.monotonic() + 5
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        while time.monotonic() < deadline and (self.root / "data" / "postmaster.pid").exists():
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)


DEPLOY_DOC = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"


def serving_role(cluster: Cluster, url: str, role: str | None = None) -> str:
    """Create the serving role exactly as docs/deploy.md grants it (the SQL block after its
    ``<!-- grants -->`` marker), in the schema of ``url`` (a ``database()`` URL whose schema the
    owner migrated already); the role's URL."""
    import re

    schema = url.rsplit("%3D", 1)[1]
    role = role or "r_" + uuid.uuid4().hex[:10]
    password = uuid.uuid4().hex
    text = DEPLOY_DOC.read_text()
    block = re.search(r"<!-- grants -->\s*```sql\n(.*?)```", text, re.S)
    assert block, "docs/deploy.md lost its grants block"
    sql = block.group(1).replace("vtex_mcp", role).replace("'change-me'", f"'{password}'")
    sql = sql.replace("SCHEMA public", f"SCHEMA {schema}")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:  # search_path: the schema's tables
        for statement in filter(str.strip, sql.split(";")):
            conn.execute(statement)  # type: ignore[call-overload]
    return cluster.in_schema(schema, role, password)
