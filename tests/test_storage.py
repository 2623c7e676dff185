"""The store: durable audit rows written off the event loop, single-use keys, pruning."""

from __future__ import annotations

import sqlite3
import time

import anyio
import pytest

from vtex_orders_mcp.storage import SqliteStore

pytestmark = pytest.mark.anyio


async def test_audit_rows_come_back_newest_first_and_redacted(tmp_path):
    store = SqliteStore(tmp_path / "a.sqlite3", secrets=["s3cr3t-value"])
    await store.record(call_id="c1", tool="cancel_order", event="requested", arguments={"token": "abc"})
    await store.record(call_id="c1", tool="cancel_order", event="failed", detail="echoed s3cr3t-value")
    await store.record(call_id="c2", tool="start_handling", event="requested")
    rows = await store.recent(10)
    assert [r.event for r in rows] == ["requested", "failed", "requested"]
    assert [r.tool for r in await store.recent(10, tool="cancel_order")] == ["cancel_order", "cancel_order"]
    assert rows[1].detail == "echoed ***" and rows[2].arguments == {"token": "***"}


async def test_a_key_is_spent_once_even_concurrently(tmp_path):
    store = SqliteStore(tmp_path / "a.sqlite3")
    wins: list[bool] = []

    async def claim() -> None:
        wins.append(await store.spend("token:1", time.time() + 60))

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(claim)
    assert wins.count(True) == 1 and await store.is_spent("token:1")


async def test_expired_keys_are_pruned_and_live_ones_kept(tmp_path):
    now = [1000.0]
    store = SqliteStore(tmp_path / "a.sqlite3", clock=lambda: now[0])
    assert await store.spend("old", 1100.0) and await store.spend("live", 5000.0)
    assert await store.prune(2000.0) == 1
    assert not await store.is_spent("old") and await store.is_spent("live")


async def test_spending_prunes_on_the_way_in_at_most_once_a_minute(tmp_path):
    now = [1000.0]
    store = SqliteStore(tmp_path / "a.sqlite3", clock=lambda: now[0])
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
