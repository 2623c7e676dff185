"""The store in one SQLite file in the state directory: the embedded default.

WAL journal with ``synchronous=FULL``: a row is on disk when ``record`` returns. The connection
is used from worker threads, one statement at a time (``CapacityLimiter(1)``), so the event loop
never waits on the disk. Spent keys are pruned at most once a minute, on the way in.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio
import anyio.to_thread

from .base import AuditRecord, Store

__all__ = ["SqliteStore"]

T = TypeVar("T")

_SCHEMA = """
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
"""
PRUNE_EVERY = 60.0  # seconds


class SqliteStore(Store):
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
        self._db.executescript(_SCHEMA)

    async def _run(self, fn: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter)

    def close(self) -> None:
        self._db.close()

    async def _append(self, row: tuple[Any, ...]) -> None:
        sql = (
            "INSERT INTO audit (time, call_id, tool, event, channel, principal, arguments, summary,"
            " upstream_status, receipt, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        )
        await self._run(lambda: self._db.execute(sql, row))

    async def recent(self, limit: int = 50, *, tool: str | None = None) -> list[AuditRecord]:
        sql, params = "SELECT * FROM audit", cast(tuple[Any, ...], ())
        if tool:
            sql, params = sql + " WHERE tool = ?", (tool,)
        rows = await self._run(lambda: self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall())
        return [_record(r) for r in rows]

    async def spend(self, key: str, expires_at: float) -> bool:
        now = self._clock()
        if now - self._pruned_at >= PRUNE_EVERY:
            await self.prune(now)

        def insert() -> bool:
            try:
                self._db.execute("INSERT INTO spent (key, expires_at) VALUES (?, ?)", (key, expires_at))
            except sqlite3.IntegrityError:
                return False
            return True

        return await self._run(insert)

    async def is_spent(self, key: str) -> bool:
        found = await self._run(lambda: self._db.execute("SELECT 1 FROM spent WHERE key = ?", (key,)).fetchone())
        return found is not None

    async def prune(self, now: float) -> int:
        self._pruned_at = now
        cursor = await self._run(lambda: self._db.execute("DELETE FROM spent WHERE expires_at < ?", (now,)))
        return int(cursor.rowcount)


def _record(r: tuple[Any, ...]) -> AuditRecord:
    return AuditRecord(
        id=r[0],
        time=r[1],
        call_id=r[2],
        tool=r[3],
        event=r[4],
        channel=r[5],
        principal=r[6],
        arguments=json.loads(r[7]) if r[7] else None,
        summary=r[8],
        upstream_status=r[9],
        receipt=r[10],
        detail=r[11],
    )
