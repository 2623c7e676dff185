"""The store in one SQLite file in the state directory: the embedded default.

WAL journal with ``synchronous=FULL``: a row is on disk when ``record`` returns. The connection
is used from worker threads, one statement at a time (``CapacityLimiter(1)``), so the event loop
never waits on the disk. Spent keys are pruned at most once a minute, on the way in.

The schema is versioned like PostgreSQL's (``PRAGMA user_version`` counts the steps of
``_MIGRATIONS`` applied), so a state directory written by an older version is brought up to date
when it is opened.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from .base import Approval
from .sql import APPROVAL_COLUMNS, SqlStore

__all__ = ["SqliteStore"]

T = TypeVar("T")

_MIGRATIONS = (
    """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    call_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    event TEXT NOT NULL,
    channel TEXT,
    principal TEXT,
    arguments TEXT,
    summary TEXT,
    upstream_status INTEGER,
    receipt TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_call ON audit(call_id);
CREATE TABLE IF NOT EXISTS spent (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spent_expiry ON spent(expires_at);
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    digest TEXT NOT NULL,
    summary TEXT NOT NULL,
    state TEXT,
    principal TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at REAL,
    outcome TEXT,
    reported INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS approvals_call ON approvals(account, principal, tool, digest);
""",
    # 2: several stores in one server: every audit row names its account.
    """
ALTER TABLE audit ADD COLUMN account TEXT;
CREATE INDEX IF NOT EXISTS audit_account ON audit(account, id);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
""",
)
PRUNE_EVERY = 60.0  # seconds


class SqliteStore(SqlStore):
    def __init__(self, path: Path | str, secrets: Iterable[str] = (), *, clock: Callable[[], float] = time.time):
        super().__init__(secrets)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._pruned_at = 0.0
        self._limiter = anyio.CapacityLimiter(1)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        _migrate(self._db)

    async def _run(self, fn: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter)

    def close(self) -> None:
        self._db.close()

    async def aclose(self) -> None:
        self.close()

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        args = tuple(params)
        return await self._run(lambda: self._db.execute(sql.replace("%s", "?"), args).fetchall())

    async def _count(self, sql: str, params: Iterable[Any] = ()) -> int:
        args = tuple(params)
        cursor = await self._run(lambda: self._db.execute(sql.replace("%s", "?"), args))
        return int(cursor.rowcount)

    async def spend(self, key: str, expires_at: float) -> bool:
        now = self._clock()
        if now - self._pruned_at >= PRUNE_EVERY:
            await self.prune(now)

        def insert() -> bool:
            try:  # the primary key: of two concurrent claims exactly one inserts
                self._db.execute("INSERT INTO spent (key, expires_at) VALUES (?, ?)", (key, expires_at))
            except sqlite3.IntegrityError:
                return False
            return True

        return await self._run(insert)

    async def prune(self, now: float) -> int:
        self._pruned_at = now
        return await super().prune(now)

    async def decide_approval(self, approval_id: str, *, approve: bool, by: str, now: float) -> Approval | None:
        sql, params = self._decision(approval_id, approve, by, now)
        select = f"SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?"

        def decide() -> Any:
            # One statement: of two concurrent deciders exactly one finds the row still pending (the
            # connection runs one statement at a time; other processes wait on SQLite's write lock).
            if self._db.execute(sql.replace("%s", "?"), params).rowcount != 1:
                return None
            return self._db.execute(select, (approval_id,)).fetchone()

        row = await self._run(decide)
        return self._approval(row) if row else None


def _migrate(db: sqlite3.Connection) -> None:
    """Apply the steps of ``_MIGRATIONS`` this file has not seen, each in one transaction; the
    version is read under the write lock, so two processes opening one file apply each step once."""
    for version, script in enumerate(_MIGRATIONS, start=1):
        db.execute("BEGIN IMMEDIATE")
        try:
            if int(db.execute("PRAGMA user_version").fetchone()[0]) < version:
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
