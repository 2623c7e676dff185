"""The store in PostgreSQL, shared by every replica of a deployment (``VTEX_MCP_DATABASE_URL``).

psycopg 3, async, over a connection pool (psycopg_pool), in autocommit: each method is one
statement, so each claim is atomic on its own and durable when it returns:

- ``spend`` is ``INSERT ... ON CONFLICT DO NOTHING`` on the key: of any number of replicas
  claiming one token or one elicitation answer at once, exactly one inserts the row;
- ``decide_approval`` is ``UPDATE ... WHERE status = 'pending' AND expires_at > now RETURNING``:
  exactly one decider gets the row back, and only it executes the write;
- ``report_approval`` and ``finish_approval`` are conditional updates too.

The schema is plain versioned SQL (``migrations/NNNN_name.sql``), applied by ``open`` at start-up
under a PostgreSQL advisory lock, so replicas starting together apply each file once; applied
versions are kept in ``schema_migrations``. A serving role needs no DDL once the schema is current
(docs/deploy.md gives the grants: the audit table is insert and select only).

The pool is opened on first use, inside the event loop that uses it (servers open it at
start-up). Connection errors never carry the URL: it holds the password.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import anyio
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from .base import Approval, ApprovalStatus, AuditRecord, Store

__all__ = ["MIGRATION_LOCK", "PostgresStore", "migrations"]

log = logging.getLogger("vtex_orders_mcp.storage")

# pg_advisory_lock key held while migrations run: "vtexmcp" in ASCII.
MIGRATION_LOCK = 0x7674_6578_6D63_70
POOL_MAX = 10
CONNECT_TIMEOUT = 10.0  # seconds to wait for a connection (at start-up: for the database to answer)
PRUNE_EVERY = 60.0  # seconds between prunings of expired spent keys, per process
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_APPROVAL_COLUMNS = (
    "id, account, tool, arguments, digest, summary, state, principal, channel, created_at, "
    "expires_at, status, decided_by, decided_at, outcome, reported"
)
_AUDIT_COLUMNS = (
    "id, time, call_id, tool, event, channel, principal, arguments, summary, upstream_status, receipt, detail, account"
)


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped, in order."""
    folder = files("vtex_orders_mcp.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class _Database:
    """The pool, shared by a store and its scoped views; opened once, on first use."""

    def __init__(self, url: str, pool_max: int) -> None:
        self.url = url
        self.pool_max = pool_max
        self.pool: AsyncConnectionPool[AsyncConnection[TupleRow]] | None = None
        self.lock: anyio.Lock | None = None
        self.pruned_at = 0.0


class PostgresStore(Store):
    def __init__(
        self,
        url: str,
        secrets: Iterable[str] = (),
        *,
        pool_max: int = POOL_MAX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(secrets)
        self._db = _Database(url, pool_max)
        self._clock = clock

    # --- the connection ---------------------------------------------------------------------------

    async def open(self) -> None:
        db = self._db
        if db.pool is not None:
            return
        if db.lock is None:
            db.lock = anyio.Lock()
        async with db.lock:
            if db.pool is not None:
                return
            pool: AsyncConnectionPool[AsyncConnection[TupleRow]] = AsyncConnectionPool(
                db.url,
                min_size=1,
                max_size=db.pool_max,
                open=False,
                timeout=CONNECT_TIMEOUT,
                kwargs={"autocommit": True},
                name="vtex-orders-mcp",
            )
            try:
                await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
                async with pool.connection() as conn:
                    await migrate(conn)
            except BaseException:
                await pool.close()
                raise
            db.pool = pool

    async def aclose(self) -> None:
        if self._db.pool is not None:
            pool, self._db.pool = self._db.pool, None
            await pool.close()

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        await self.open()
        assert self._db.pool is not None
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(sql, list(params))
            return await cursor.fetchall() if cursor.description else []

    async def _count(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        await self.open()
        assert self._db.pool is not None
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(sql, list(params))
            return int(cursor.rowcount)

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    def _mine(self, where: list[str], params: list[Any]) -> str:
        """The WHERE clause with this view's account filter added (scoped views only)."""
        if self.account is not None:
            where.append("account = %s")
            params.append(self.account)
        return f" WHERE {' AND '.join(where)}" if where else ""

    # --- the audit log ----------------------------------------------------------------------------

    async def _append(self, row: tuple[Any, ...]) -> None:
        sql = (
            "INSERT INTO audit (account, time, call_id, tool, event, channel, principal, arguments, summary,"
            " upstream_status, receipt, detail) VALUES (%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s,%s,%s)"
        )
        await self._count(sql, row)

    async def recent(self, limit: int = 50, *, tool: str | None = None) -> list[AuditRecord]:
        params: list[Any] = [tool] if tool else []
        where = self._mine(["tool = %s"] if tool else [], params)
        rows = await self._fetch(
            f"SELECT {_AUDIT_COLUMNS} FROM audit{where} ORDER BY id DESC LIMIT %s", [*params, limit]
        )
        return [_record(r) for r in rows]

    async def audit_after(self, after_id: int, limit: int) -> list[AuditRecord]:
        params: list[Any] = [after_id]
        where = self._mine(["id > %s"], params)
        rows = await self._fetch(f"SELECT {_AUDIT_COLUMNS} FROM audit{where} ORDER BY id LIMIT %s", [*params, limit])
        return [_record(r) for r in rows]

    async def prune_audit(self, before: datetime) -> int:
        params: list[Any] = [before]
        return await self._count("DELETE FROM audit" + self._mine(["time < %s"], params), params)

    # --- spent keys -------------------------------------------------------------------------------

    async def spend(self, key: str, expires_at: float) -> bool:
        now = self._clock()
        if now - self._db.pruned_at >= PRUNE_EVERY:
            await self.prune(now)
        inserted = await self._count(
            "INSERT INTO spent (key, expires_at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING", [key, expires_at]
        )
        return inserted == 1

    async def is_spent(self, key: str) -> bool:
        return bool(await self._fetch("SELECT 1 FROM spent WHERE key = %s", [key]))

    async def prune(self, now: float) -> int:
        self._db.pruned_at = now
        return await self._count("DELETE FROM spent WHERE expires_at < %s", [now])

    # --- approvals --------------------------------------------------------------------------------

    async def create_approval(self, approval: Approval) -> None:
        row = (
            approval.id,
            approval.account,
            approval.tool,
            Jsonb(approval.arguments),
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
            Jsonb(approval.outcome) if approval.outcome is not None else None,
            approval.reported,
        )
        await self._count(f"INSERT INTO approvals ({_APPROVAL_COLUMNS}) VALUES ({', '.join(['%s'] * 16)})", row)

    async def get_approval(self, approval_id: str) -> Approval | None:
        params: list[Any] = [approval_id]
        rows = await self._fetch(f"SELECT {_APPROVAL_COLUMNS} FROM approvals" + self._mine(["id = %s"], params), params)
        return _approval(rows[0]) if rows else None

    async def decide_approval(self, approval_id: str, *, approve: bool, by: str, now: float) -> Approval | None:
        params: list[Any] = ["approved" if approve else "declined", by, now, approval_id, now]
        where = self._mine(["id = %s", "status = 'pending'", "expires_at > %s"], params)
        # One statement: of any number of concurrent deciders (any replica) exactly one gets the row.
        rows = await self._fetch(
            f"UPDATE approvals SET status = %s, decided_by = %s, decided_at = %s{where} RETURNING {_APPROVAL_COLUMNS}",
            params,
        )
        return _approval(rows[0]) if rows else None

    async def find_approval(self, account: str, principal: str, tool: str, digest: str) -> Approval | None:
        rows = await self._fetch(
            f"SELECT {_APPROVAL_COLUMNS} FROM approvals WHERE account = %s AND principal = %s AND tool = %s "
            "AND digest = %s AND NOT reported ORDER BY created_at DESC LIMIT 1",
            [account, principal, tool, digest],
        )
        return _approval(rows[0]) if rows else None

    async def report_approval(self, approval_id: str) -> bool:
        changed = await self._count(
            "UPDATE approvals SET reported = true WHERE id = %s AND NOT reported "
            "AND status NOT IN ('pending', 'approved')",
            [approval_id],
        )
        return changed == 1

    async def finish_approval(self, approval_id: str, status: ApprovalStatus, outcome: dict[str, Any]) -> bool:
        changed = await self._count(
            "UPDATE approvals SET status = %s, outcome = %s WHERE id = %s AND status = 'approved'",
            [status, Jsonb(outcome), approval_id],
        )
        return changed == 1


async def migrate(conn: AsyncConnection[TupleRow]) -> list[int]:
    """Apply the shipped migrations the database lacks, under the advisory lock; the versions applied.

    Each file runs in its own transaction with its ``schema_migrations`` row. A database already
    current needs only SELECT on ``schema_migrations`` (a serving role without DDL rights)."""
    await conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        cursor = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        row = await cursor.fetchone()
        if not (row and row[0]):
            await conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            )
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        done = {int(r[0]) for r in await cursor.fetchall()}
        applied = []
        for version, name, sql in migrations():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", [version, name])
            log.info("Applied database migration %s.", name)
            applied.append(version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])


def _approval(r: tuple[Any, ...]) -> Approval:
    return Approval(
        id=r[0],
        account=r[1],
        tool=r[2],
        arguments=r[3],
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
        outcome=r[14],
        reported=bool(r[15]),
    )


def _record(r: tuple[Any, ...]) -> AuditRecord:
    time: datetime = r[1]
    return AuditRecord(
        id=r[0],
        time=time.astimezone(UTC).isoformat(timespec="milliseconds"),
        call_id=r[2],
        tool=r[3],
        event=r[4],
        channel=r[5],
        principal=r[6],
        arguments=r[7],
        summary=r[8],
        upstream_status=r[9],
        receipt=r[10],
        detail=r[11],
        account=r[12],
    )
