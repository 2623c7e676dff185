"""Replicas on one store: two servers (the guard, its approvals, its tokens), one database, one VTEX.

Each test runs twice, on SQLite (two servers on one state directory) and on a real PostgreSQL
server (two state directories, the shared ``VTEX_MCP_DATABASE_URL`` and ``VTEX_MCP_SECRET``, as
replicas are deployed). Concurrent redemptions of one approval spread over both servers give
exactly one write at the sandbox both talk to: the claim is taken in the database, in one
statement, before any request leaves. Processes and a load balancer: tests/e2e/test_replicas.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import CHECK_TOOL, CONFIRM_TOOL
from vtex_orders_mcp.sandbox import Sandbox
from vtex_orders_mcp.server import App, build_server

pytestmark = pytest.mark.anyio

ORDER = "v502556llux-01"
CANCEL = {"order_id": ORDER, "reason": "customer asked"}
SECRET = "shared-replica-secret-0123456789"
TRIES = 20


@pytest.fixture(params=["sqlite", "postgres"])
async def replicas(request, tmp_path) -> AsyncIterator[Any]:
    """``replicas(guard=...)``: two servers on one store and one sandbox."""
    sandbox = Sandbox(seed=7, orders=40)
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    built: list[App] = []

    def make(**overrides: Any) -> list[App]:
        for i in range(2):
            env = {"VTEX_MCP_SECRET": SECRET}
            if url:
                env["VTEX_MCP_DATABASE_URL"] = url
            state = tmp_path / (f"state{i}" if url else "state")  # SQLite replicas share the file
            settings = Settings.from_env(env, state_dir=state, sandbox_orders=40, **overrides)
            built.append(build_server(settings, sandbox=sandbox))
        return built

    yield make
    for app in built:
        await app.aclose()


def cancels(app: App) -> list[Any]:
    return [w for w in app.sandbox.writes() if w.route.endswith("/cancel")]


async def test_one_token_redeemed_concurrently_on_two_replicas_writes_once(replicas):
    a, b = replicas(guard="token")
    async with Client(a.server) as first:
        asked = (await first.call_tool("cancel_order", CANCEL)).structured_content
    assert asked["channel"] == "token"
    confirmation = asked["confirmation"]
    outcomes: list[Any] = []

    async def redeem(app: App) -> None:
        async with Client(app.server) as c:
            outcomes.append(await c.call_tool(CONFIRM_TOOL, confirmation))

    async with anyio.create_task_group() as tg:
        for i in range(TRIES):
            tg.start_soon(redeem, (a, b)[i % 2])
    done = [o for o in outcomes if not o.is_error]
    assert len(done) == 1 and done[0].structured_content["status"] == "done"
    refused = [o.content[0].text for o in outcomes if o.is_error]
    assert len(refused) == TRIES - 1 and all("already used" in t or "order changed" in t for t in refused)
    assert len(cancels(a)) == 1
    rejected = [r for r in await b.store.recent(100) if r.event == "token_rejected"]
    assert len(rejected) == TRIES - 1  # every replica's rows, read through one of them


async def test_one_page_approval_decided_concurrently_on_two_replicas_writes_once(replicas):
    a, b = replicas()
    async with Client(a.server) as first:
        asked = (await first.call_tool("cancel_order", CANCEL)).structured_content
    assert asked["channel"] == "page"
    approval_id = asked["approval"]["id"]
    decisions: list[Any] = []

    async def decide(app: App) -> None:
        decisions.append(await app.guard.approvals.decide(approval_id, approve=True, by="page"))

    async with anyio.create_task_group() as tg:
        for i in range(TRIES):
            tg.start_soon(decide, (a, b)[i % 2])
    assert [d.taken for d in decisions].count(True) == 1
    assert len(cancels(a)) == 1
    async with Client(b.server) as other:
        status = (await other.call_tool(CHECK_TOOL, {"approval_id": approval_id})).structured_content
    assert status["status"] == "done"
    events = [r.event for r in reversed(await b.store.recent(20)) if r.call_id == approval_id]
    assert events == ["requested", "approved", "executing", "executed"]


async def test_an_approval_whose_replica_died_mid_write_reads_as_unknown_and_is_never_resent(replicas):
    """A replica killed between ``executing`` and VTEX's answer leaves the approval ``approved`` for
    good: past any execution's deadline, whoever reads it reports the outcome as unknown (once, in
    the audit too), and nothing sends it again."""
    import time

    a, b = replicas()
    async with Client(a.server) as first:
        approval_id = (await first.call_tool("cancel_order", CANCEL)).structured_content["approval"]["id"]
    # What a replica leaves when it dies mid-write: the decision taken, ``executing`` recorded, no more.
    decided = await a.store.decide_approval(approval_id, approve=True, by="page", now=time.time())
    await a.store.record(call_id=approval_id, tool=decided.tool, event="executing", channel="page")
    async with Client(b.server) as other:  # still within the deadline: "being sent"
        assert (await other.call_tool(CHECK_TOOL, {"approval_id": approval_id})).structured_content["status"] == (
            "approved"
        )
    b.guard.approvals._clock = lambda: time.time() + 3600  # an hour later, on the other replica
    async with Client(b.server) as other:
        status = (await other.call_tool(CHECK_TOOL, {"approval_id": approval_id})).structured_content
        again = (await other.call_tool(CHECK_TOOL, {"approval_id": approval_id})).structured_content
    assert status["status"] == again["status"] == "unknown" and "Nothing was resent" in status["outcome"]["error"]
    events = [r.event for r in reversed(await a.store.recent(20)) if r.call_id == approval_id]
    assert events == ["requested", "executing", "outcome_unknown"]
    assert cancels(a) == []
