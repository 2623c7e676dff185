"""The store in one SQLite file in the state directory: the embedded default.

WAL journal with ``synchronous=FULL``: a row is on disk when ``record`` returns. The connection
is used from worker threads, one statement at a time (``CapacityLimiter(1)``), so the event loop
never waits on the disk. Spent keys are pruned at most once a minute, on the way in.

The schema is versioned like PostgreSQL's (``PRAGMA user_version`` counts the steps of
``_MIGRATIONS`` applied), so a state directory written by an older version is brought up to date
when it is opened.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from .base import Approval, ApprovalStatus, AuditRecord, Store

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
_APPROVAL_COLUMNS = (
    "id, account, tool, arguments, digest, summary, state, principal, channel, created_at, "
    "expires_at, status, decided_by, decided_at, outcome, reported"
)
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
        _migrate(self._db)

    async def _run(self, fn: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter)

    def close(self) -> None:
        self._db.close()

    async def aclose(self) -> None:
        self.close()

    def _mine(self, where: list[str], params: list[Any]) -> str:
        """The WHERE clause with this view's account filter added (scoped views only)."""
        if self.account is not None:
            where.append("account = ?")
            params.append(self.account)
        return f" WHERE {' AND '.join(where)}" if where else ""

    async def _append(self, row: tuple[Any, ...]) -> None:
        sql = (
            "INSERT INTO audit (account, time, call_id, tool, event, channel, principal, arguments, summary,"
            " upstream_status, receipt, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        await self._run(lambda: self._db.execute(sql, row))

    async def recent(self, limit: int = 50, *, tool: str | None = None) -> list[AuditRecord]:
        params: list[Any] = [tool] if tool else []
        where = self._mine(["tool = ?"] if tool else [], params)
        sql = f"SELECT {_AUDIT_COLUMNS} FROM audit{where} ORDER BY id DESC LIMIT ?"
        rows = await self._run(lambda: self._db.execute(sql, (*params, limit)).fetchall())
        return [_record(r) for r in rows]

    async def audit_after(self, after_id: int, limit: int) -> list[AuditRecord]:
        params: list[Any] = [after_id]
        where = self._mine(["id > ?"], params)
        sql = f"SELECT {_AUDIT_COLUMNS} FROM audit{where} ORDER BY id LIMIT ?"
        rows = await self._run(lambda: self._db.execute(sql, (*params, limit)).fetchall())
        return [_record(r) for r in rows]

    async def prune_audit(self, before: datetime) -> int:
        params: list[Any] = [before.isoformat(timespec="milliseconds")]
        where = self._mine(["time < ?"], params)
        cursor = await self._run(lambda: self._db.execute(f"DELETE FROM audit{where}", params))
        return int(cursor.rowcount)

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

    async def create_approval(self, approval: Approval) -> None:
        row = (
            approval.id,
            approval.account,
            approval.tool,
            json.dumps(approval.arguments),
            approval.digest,
            approval.summary,
            approval.state,
            approval.principal,
            approval.channel,
            approval.created_at,
            approval.expires_at,
            approval.status,
            approval.decided_by,
            approval.decided_at,
            json.dumps(approval.outcome) if approval.outcome is not None else None,
            int(approval.reported),
        )
        sql = f"INSERT INTO approvals ({_APPROVAL_COLUMNS}) VALUES ({', '.join('?' * 16)})"
        await self._run(lambda: self._db.execute(sql, row))

    async def get_approval(self, approval_id: str) -> Approval | None:
        params: list[Any] = [approval_id]
        sql = f"SELECT {_APPROVAL_COLUMNS} FROM approvals" + self._mine(["id = ?"], params)
        row = await self._run(lambda: self._db.execute(sql, params).fetchone())
        return _approval(row) if row else None

    async def decide_approval(self, approval_id: str, *, approve: bool, by: str, now: float) -> Approval | None:
        status = "approved" if approve else "declined"

        params: list[Any] = [status, by, now, approval_id, now]
        where = self._mine(["id = ?", "status = 'pending'", "expires_at > ?"], params)

        def decide() -> Any:
            # One statement: of two concurrent deciders exactly one finds the row still pending.
            cursor = self._db.execute("UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?" + where, params)
            if cursor.rowcount != 1:
                return None
            return self._db.execute(
                f"SELECT {_APPROVAL_COLUMNS} FROM approvals WHERE id = ?", (approval_id,)
            ).fetchone()

        row = await self._run(decide)
        return _approval(row) if row else None

    async def find_approval(self, account: str, principal: str, tool: str, digest: str) -> Approval | None:
        sql = (
            f"SELECT {_APPROVAL_COLUMNS} FROM approvals WHERE account = ? AND principal = ? AND tool = ? "
            "AND digest = ? AND reported = 0 ORDER BY created_at DESC LIMIT 1"
        )
        row = await self._run(lambda: self._db.execute(sql, (account, principal, tool, digest)).fetchone())
        return _approval(row) if row else None

    async def report_approval(self, approval_id: str) -> bool:
        sql = (
            "UPDATE approvals SET reported = 1 WHERE id = ? AND reported = 0 AND status NOT IN ('pending', 'approved')"
        )
        cursor = await self._run(lambda: self._db.execute(sql, (approval_id,)))
        return int(cursor.rowcount) == 1

    async def finish_approval(self, approval_id: str, status: ApprovalStatus, outcome: dict[str, Any]) -> bool:
        sql = "UPDATE approvals SET status = ?, outcome = ? WHERE id = ? AND status = 'approved'"
        cursor = await self._run(lambda: self._db.execute(sql, (status, json.dumps(outcome), approval_id)))
        return int(cursor.rowcount) == 1


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


def _approval(r: tuple[Any, ...]) -> Approval:
    return Approval(
        id=r[0],
        account=r[1],
        tool=r[2],
        arguments=json.loads(r[3]),
        digest=r[4],
        summary=r[5],
        state=r[6],
        principal=r[7],
        channel=r[8],
        created_at=r[9],
        expires_at=r[10],
        status=r[11],
        decided_by=r[12],
        decided_at=r[13],
        outcome=json.loads(r[14]) if r[14] else None,
        reported=bool(r[15]),
    )


_AUDIT_COLUMNS = (
    "id, time, call_id, tool, event, channel, principal, arguments, summary, upstream_status, receipt, detail, account"
)


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
        account=r[12],
    )
