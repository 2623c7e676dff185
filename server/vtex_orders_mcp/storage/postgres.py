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

from .base import Approval
from .sql import APPROVAL_COLUMNS, SqlStore

__all__ = ["MIGRATION_LOCK", "PostgresStore", "migrations"]

log = logging.getLogger("vtex_orders_mcp.storage")

# pg_advisory_lock key held while migrations run: "vtexmcp" in ASCII.
MIGRATION_LOCK = 0x7674_6578_6D63_70
POOL_MAX = 10
CONNECT_TIMEOUT = 10.0  # seconds to wait for a connection (at start-up: for the database to answer)
PRUNE_EVERY = 60.0  # seconds between prunings of expired spent keys, per process
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


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


class PostgresStore(SqlStore):
    ARGUMENTS = "%s::jsonb"

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

    async def _execute(self, sql: str, params: Iterable[Any]) -> tuple[list[tuple[Any, ...]], int]:
        """One statement on a pooled connection (autocommit): (its rows, how many rows it changed)."""
        await self.open()
        assert self._db.pool is not None
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(sql, list(params))
            return (await cursor.fetchall() if cursor.description else []), int(cursor.rowcount)

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return (await self._execute(sql, params))[0]

    async def _count(self, sql: str, params: Iterable[Any] = ()) -> int:
        return (await self._execute(sql, params))[1]

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    def _json_in(self, value: Any) -> Any:
        return Jsonb(value)

    def _time_in(self, value: datetime) -> Any:
        return value

    def _time_out(self, value: Any) -> str:
        return str(value.astimezone(UTC).isoformat(timespec="milliseconds"))

    async def spend(self, key: str, expires_at: float) -> bool:
        now = self._clock()
        if now - self._db.pruned_at >= PRUNE_EVERY:
            await self.prune(now)
        # One statement: of any number of replicas claiming the key at once, exactly one inserts it.
        inserted = await self._count(
            "INSERT INTO spent (key, expires_at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING", [key, expires_at]
        )
        return inserted == 1

    async def prune(self, now: float) -> int:
        self._db.pruned_at = now
        return await super().prune(now)

    async def decide_approval(self, approval_id: str, *, approve: bool, by: str, now: float) -> Approval | None:
        sql, params = self._decision(approval_id, approve, by, now)
        # One statement: of any number of concurrent deciders (any replica) exactly one gets the row.
        rows = await self._fetch(f"{sql} RETURNING {APPROVAL_COLUMNS}", params)
        return self._approval(rows[0]) if rows else None


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
