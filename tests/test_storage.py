"""The store, both implementations (SQLite and a real PostgreSQL server) through the same tests:
durable audit rows written off the event loop, single-use keys, pruning, approvals decided once,
accounts kept apart, export and retention, migrations."""

from __future__ import annotations

import sys
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from vtex_orders_mcp.storage import Approval, SqliteStore, Store

pytestmark = pytest.mark.anyio

MakeStore = Callable[..., Store]


@pytest.fixture(params=["sqlite", "postgres"])
async def make_store(request, tmp_path) -> AsyncIterator[MakeStore]:
    """Factory of stores of one kind over one database: ``make_store(secrets=..., clock=...)``.
    Two stores made by one factory share the database (two replicas)."""
    opened: list[Store] = []
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None

    def make(secrets: list[str] = (), clock: Callable[[], float] = time.time) -> Store:
        if url is None:
            store: Store = SqliteStore(tmp_path / "a.sqlite3", secrets=secrets, clock=clock)
        else:
            from vtex_orders_mcp.storage.postgres import PostgresStore

            store = PostgresStore(url, secrets=secrets, clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.aclose()


async def test_audit_rows_come_back_newest_first_and_redacted(make_store):
    store = make_store(secrets=["s3cr3t-value"])
    await store.record(call_id="c1", tool="cancel_order", event="requested", arguments={"token": "abc"})
    await store.record(call_id="c1", tool="cancel_order", event="failed", detail="echoed s3cr3t-value")
    await store.record(call_id="c2", tool="start_handling", event="requested")
    rows = await store.recent(10)
    assert [r.event for r in rows] == ["requested", "failed", "requested"]
    assert [r.tool for r in await store.recent(10, tool="cancel_order")] == ["cancel_order", "cancel_order"]
    assert rows[1].detail == "echoed ***" and rows[2].arguments == {"token": "***"}


async def test_a_key_is_spent_once_even_concurrently(make_store):
    replicas = [make_store(), make_store()]  # two processes' stores on one database
    wins: list[bool] = []

    async def claim(store: Store) -> None:
        wins.append(await store.spend("token:1", time.time() + 60))

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(claim, replicas[i % 2])
    assert wins.count(True) == 1 and await replicas[0].is_spent("token:1") and await replicas[1].is_spent("token:1")


async def test_expired_keys_are_pruned_and_live_ones_kept(make_store):
    store = make_store()
    assert await store.spend("old", 1100.0) and await store.spend("live", 5000.0)
    assert await store.prune(2000.0) == 1
    assert not await store.is_spent("old") and await store.is_spent("live")


async def test_spending_prunes_on_the_way_in_at_most_once_a_minute(make_store):
    now = [1000.0]
    store = make_store(clock=lambda: now[0])
    assert await store.spend("a", 1020.0)  # prunes first (never pruned yet)
    now[0] = 1030.0  # "a" expired, but the last prune was 30 s ago
    assert await store.spend("b", 5000.0) and await store.is_spent("a")
    now[0] = 1070.0
    assert await store.spend("c", 5000.0)
    assert not await store.is_spent("a") and await store.is_spent("b")


class _SlowConnection:
    """A connection whose statements take 300 ms, like an fsync on a busy disk."""

    def __init__(self, inner: sqlite3.Connection) -> None:
        self.inner = inner

    def execute(self, *args):
        time.sleep(0.3)
        return self.inner.execute(*args)

    def close(self) -> None:
        self.inner.close()


async def test_a_slow_audit_write_does_not_stall_the_event_loop(tmp_path):
    store = SqliteStore(tmp_path / "a.sqlite3")
    store._db = _SlowConnection(store._db)  # type: ignore[assignment]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await store.record(call_id="c", tool="cancel_order", event="executing")
        tg.cancel_scope.cancel()
    assert ticks >= 10, f"the loop ran only {ticks} times during a 300 ms write"


def _approval(approval_id: str = "a1", *, account: str = "storea", expires_at: float = 5000.0, **kw) -> Approval:
    fields = dict(
        id=approval_id, account=account, tool="cancel_order", arguments={"order_id": "v1-01", "reason": "x"},
        digest="d1", summary="Cancel order v1-01", state="s1", principal="http-bearer", channel="page",
        created_at=1000.0, expires_at=expires_at,
    )  # fmt: skip
    return Approval(**{**fields, **kw})


async def test_an_approval_is_decided_once_across_replicas(make_store):
    replicas = [make_store(), make_store(), make_store()]
    await replicas[0].create_approval(_approval())
    assert (await replicas[1].get_approval("a1")).arguments == {"order_id": "v1-01", "reason": "x"}
    won: list[Approval] = []

    async def decide(i: int) -> None:
        decided = await replicas[i % 3].decide_approval("a1", approve=i % 2 == 0, by=f"r{i}", now=2000.0)
        if decided is not None:
            won.append(decided)

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(decide, i)
    assert len(won) == 1 and won[0].status in ("approved", "declined") and won[0].decided_at == 2000.0
    assert (await replicas[2].get_approval("a1")).decided_by == won[0].decided_by


async def test_an_approval_runs_through_its_life(make_store):
    store = make_store()
    await store.create_approval(_approval())
    await store.create_approval(_approval("late", expires_at=1500.0, digest="d2"))
    assert await store.decide_approval("late", approve=True, by="page", now=2000.0) is None  # expired
    assert await store.decide_approval("nope", approve=True, by="page", now=2000.0) is None  # unknown
    assert not await store.report_approval("a1")  # pending: nothing to report yet
    found = await store.find_approval("storea", "http-bearer", "cancel_order", "d1")
    assert found is not None and found.id == "a1"
    assert (await store.decide_approval("a1", approve=True, by="page", now=2000.0)).status == "approved"
    assert await store.finish_approval("a1", "done", {"status": "done", "result": {"receipt": "r"}})
    assert not await store.finish_approval("a1", "unknown", {"error": "late"})  # finished once
    done = await store.get_approval("a1")
    assert done.status == "done" and done.outcome == {"status": "done", "result": {"receipt": "r"}}
    assert await store.report_approval("a1") and not await store.report_approval("a1")
    assert await store.find_approval("storea", "http-bearer", "cancel_order", "d1") is None


async def test_a_scoped_store_sees_only_its_account(make_store):
    root = make_store(secrets=["root-secret-1"])
    a, b = root.scoped("storea", ["a-only-secret"]), root.scoped("storeb")
    await a.record(call_id="c1", tool="cancel_order", event="requested", detail="a-only-secret root-secret-1")
    await b.record(call_id="c2", tool="cancel_order", event="requested")
    await a.create_approval(_approval("pa", account="storea"))
    await b.create_approval(_approval("pb", account="storeb"))
    assert [(r.call_id, r.account) for r in await a.recent(10)] == [("c1", "storea")]
    assert (await a.recent(10))[0].detail == "*** ***"
    assert [r.call_id for r in await b.recent(10, tool="cancel_order")] == ["c2"]
    assert {r.account for r in await root.recent(10)} == {"storea", "storeb"}  # the unscoped view: all
    assert await b.get_approval("pa") is None and await b.decide_approval("pa", approve=True, by="x", now=2000) is None
    assert (await a.get_approval("pa")).status == "pending" and await root.get_approval("pb") is not None


async def test_export_reads_every_row_in_batches_and_retention_prunes_old_ones(make_store, monkeypatch):
    from vtex_orders_mcp.storage import base

    monkeypatch.setattr(base, "EXPORT_BATCH", 7)
    store = make_store()
    for i in range(20):
        await store.record(call_id=f"c{i}", tool="cancel_order", event="requested", arguments={"i": i})
    exported = [r async for r in store.export()]
    assert [r.arguments["i"] for r in exported] == list(range(20))
    assert [r.call_id for r in [r async for r in store.export(after_id=exported[16].id)]] == ["c17", "c18", "c19"]
    assert await store.prune_audit(datetime.now(UTC) - timedelta(days=1)) == 0
    assert await store.prune_audit(datetime.now(UTC) + timedelta(seconds=1)) == 20
    assert await store.recent(50) == []


async def test_replicas_starting_together_apply_each_migration_once(postgres):
    from vtex_orders_mcp.storage.postgres import PostgresStore, migrations

    url = postgres.database()
    replicas = [PostgresStore(url) for _ in range(5)]
    try:
        async with anyio.create_task_group() as tg:
            for store in replicas:
                tg.start_soon(store.open)
        rows = await replicas[0]._fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(v, n) for v, n, _ in migrations()] == [tuple(r) for r in rows] and rows
        await replicas[4].record(call_id="c", tool="cancel_order", event="requested")
        assert len(await replicas[1].recent(5)) == 1
    finally:
        for store in replicas:
            await store.aclose()


async def test_a_sqlite_file_from_before_accounts_is_upgraded_in_place(tmp_path):
    path = tmp_path / "audit.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, call_id TEXT NOT NULL,"
        " tool TEXT NOT NULL, event TEXT NOT NULL, channel TEXT, principal TEXT, arguments TEXT, summary TEXT,"
        " upstream_status INTEGER, receipt TEXT, detail TEXT);"
        "INSERT INTO audit (time, call_id, tool, event)"
        " VALUES ('2026-01-01T00:00:00.000+00:00', 'old', 'x', 'executed');"
    )
    old.commit()
    old.close()
    store = SqliteStore(path)
    await store.record(call_id="new", tool="x", event="requested")
    assert [(r.call_id, r.account) for r in await store.recent(5)] == [("new", None), ("old", None)]
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == 2
    store.close()
    assert [r.call_id for r in await SqliteStore(path).recent(5)] == ["new", "old"]  # opening again: no-op


async def test_the_serving_role_of_the_deploy_doc_runs_the_store_and_cannot_change_the_audit(postgres):
    """docs/deploy.md's grants, applied to a role: it serves (migrations already current, every
    claim works) and the audit is append-only for it."""
    import psycopg
    from pg_support import serving_role

    from vtex_orders_mcp.storage.postgres import PostgresStore

    owner_url = postgres.database()
    owner = PostgresStore(owner_url)
    await owner.open()  # the owner migrates (vtex-orders-mcp migrate)
    await owner.aclose()
    store = PostgresStore(serving_role(postgres, owner_url))
    try:
        await store.open()
        await store.record(call_id="c1", tool="cancel_order", event="requested")
        assert [r.call_id for r in await store.recent(5)] == ["c1"]
        assert await store.spend("k", time.time() + 60) and not await store.spend("k", time.time() + 60)
        assert await store.prune(time.time() + 120) == 1
        await store.create_approval(_approval(expires_at=time.time() + 60))
        assert (await store.decide_approval("a1", approve=True, by="page", now=time.time())).status == "approved"
        assert await store.finish_approval("a1", "done", {}) and await store.report_approval("a1")
        for statement in ("UPDATE audit SET event = 'x'", "DELETE FROM audit", "TRUNCATE audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await store._count(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await store.prune_audit(datetime.now(UTC))
        assert [r.call_id for r in await store.recent(5)] == ["c1"]
    finally:
        await store.aclose()


async def test_readiness_says_when_the_database_or_the_configuration_is_not_there(tmp_path, monkeypatch):
    """``/readyz``: 503 naming what is missing, without the URL (it holds the password)."""
    from ports import free_port
    from starlette.requests import Request

    from vtex_orders_mcp import http
    from vtex_orders_mcp.errors import ConfigError
    from vtex_orders_mcp.http import _readyz
    from vtex_orders_mcp.storage.postgres import PostgresStore

    monkeypatch.setattr(http, "READY_TIMEOUT", 0.5)  # a database that does not answer: no need to wait 5 s

    request = Request({"type": "http", "method": "GET", "path": "/readyz", "headers": []})
    url = f"postgresql://vtex:pa55w0rd-here@127.0.0.1:{free_port()}/nowhere?connect_timeout=1"
    down = PostgresStore(url)
    try:
        answer = await _readyz(down, None)(request)
    finally:
        await down.aclose()
    assert answer.status_code == 503 and b"store does not answer" in answer.body and b"pa55w0rd" not in answer.body

    async def config_gone() -> None:
        raise ConfigError("VTEX_MCP_CONFIG: cannot read /etc/accounts.toml: No such file or directory.")

    store = SqliteStore(tmp_path / "a.sqlite3")
    assert (await _readyz(store, None)(request)).body == b"ready"
    answer = await _readyz(store, config_gone)(request)
    assert answer.status_code == 503 and b"configuration: VTEX_MCP_CONFIG: cannot read" in answer.body


def test_a_database_url_without_the_postgres_extra_is_one_clear_error(tmp_path, monkeypatch):
    """psycopg is the postgres extra: without it, start-up says what to install (no traceback)."""
    from vtex_orders_mcp.config import Settings
    from vtex_orders_mcp.errors import ConfigError
    from vtex_orders_mcp.storage import open_store

    for name in [m for m in sys.modules if m == "psycopg" or m.startswith(("psycopg.", "psycopg_pool"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "vtex_orders_mcp.storage.postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an environment without it imports
    settings = Settings.from_env({"VTEX_MCP_DATABASE_URL": "postgresql://u:pw@db/x"}, state_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"pip install 'vtex-orders-mcp\[postgres\]'") as raised:
        open_store(settings)
    assert "pw" not in str(raised.value)
