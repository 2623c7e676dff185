"""Three replicas on one PostgreSQL, as docs/deploy.md deploys them: the single-use claims, a replica
killed mid-write, and the audit read through any replica.

Real processes only: a PostgreSQL server (tests/pg_support.py), a standalone sandbox playing VTEX
(its request log, ``/_sandbox/requests``, is what counts writes), and three ``vtex-orders-mcp
serve --transport http --stateless`` replicas sharing ``VTEX_MCP_SECRET`` and
``VTEX_MCP_DATABASE_URL``, connected with the serving role of docs/deploy.md after
``vtex-orders-mcp migrate`` ran as the owner. The test itself plays the load balancer: it spreads
50 concurrent redemptions of one approval over the three replicas, and exactly one write reaches
the sandbox.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from e2e_support import ORDER, SERVER, Process, clean_env, http_client, structured
from pg_support import serving_role
from ports import free_port

from vtex_orders_mcp.registry import CHECK_TOOL, CONFIRM_TOOL
from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SANDBOX_HEADERS = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}
TOKEN = "replica-bearer-token-0123456789"
SECRET = "replica-shared-secret-0123456789"
TIMEOUT = 1.5  # VTEX_TIMEOUT: an abandoned approval reads as unknown 4 x 1.5 + 5 s after its decision
REDEMPTIONS = 50
CANCEL = {"order_id": ORDER, "reason": "customer asked (replicas)"}


@dataclass
class Deployment:
    sandbox_url: str
    replicas: list[Process]
    ports: list[int]
    owner_url: str

    def base(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def mcp(self, i: int) -> str:
        return f"{self.base(i)}/mcp"

    def cancels(self) -> list[dict[str, Any]]:
        log = httpx2.get(f"{self.sandbox_url}/_sandbox/requests", headers=SANDBOX_HEADERS, timeout=10).json()
        return [r for r in log if r["method"] == "POST" and r["path"].endswith("/cancel")]

    def reset(self) -> None:
        httpx2.post(f"{self.sandbox_url}/_sandbox/reset", headers=SANDBOX_HEADERS, timeout=10).raise_for_status()


def _start(tmp: Path, postgres: Any, guard: str) -> Iterator[Deployment]:
    owner_url = postgres.database()
    migrated = subprocess.run([*SERVER, "migrate"], env=clean_env(tmp / "owner", VTEX_MCP_DATABASE_URL=owner_url),
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    role_url = serving_role(postgres, owner_url)
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox_args = [*SERVER, "sandbox", "--port", str(sandbox_port), "--orders", "100", "--log-level", "WARNING"]
    processes = [Process(sandbox_args, clean_env(tmp / "sandbox-state"), tmp / "sandbox.log").start()]
    ports = [free_port() for _ in range(3)]
    upstream = {"VTEX_BASE_URL": sandbox_url, "VTEX_ACCOUNT_NAME": "sandbox", "VTEX_APP_KEY": SANDBOX_APP_KEY,
                "VTEX_APP_TOKEN": SANDBOX_APP_TOKEN, "VTEX_TIMEOUT": str(TIMEOUT)}  # fmt: skip
    shared = {"VTEX_MCP_SECRET": SECRET, "VTEX_MCP_DATABASE_URL": role_url, "VTEX_MCP_LOG_LEVEL": "WARNING"}
    for i, port in enumerate(ports):
        env = clean_env(tmp / f"state{i}", **upstream, **shared)
        args = [*SERVER, "serve", "--transport", "http", "--stateless", "--port", str(port), "--http-token", TOKEN,
                "--guard", guard]  # fmt: skip
        processes.append(Process(args, env, tmp / f"replica{i}.log").start())
    try:
        processes[0].wait_http(f"{sandbox_url}/_sandbox/clock")
        for proc, port in zip(processes[1:], ports, strict=True):
            proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield Deployment(sandbox_url, processes[1:], ports, owner_url)
    finally:
        for proc in processes:
            proc.stop()
        for i, proc in enumerate(processes[1:]):
            assert role_url not in proc.log() and owner_url not in proc.log(), f"replica {i} logged the database URL"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, postgres) -> Iterator[Deployment]:
    """Three replicas choosing the human channel themselves (the approval page, for these clients)."""
    yield from _start(tmp_path_factory.mktemp("replicas"), postgres, "auto")


@pytest.fixture
def token_deployment(tmp_path, postgres) -> Iterator[Deployment]:
    """Three replicas where the operator chose the two-step token (``--guard token``)."""
    yield from _start(tmp_path, postgres, "token")


async def _audit(url: str) -> list[dict[str, Any]]:
    """The audit as a client reads it through one replica (the ``vtex://audit/recent`` resource)."""
    async with http_client(url, TOKEN) as client:
        contents = (await client.read_resource("vtex://audit/recent")).contents
    return json.loads(next(c.text for c in contents if c.mime_type == "application/json"))["events"]


async def test_the_replicas_are_ready(deployment):
    for i in range(3):
        ready = httpx2.get(f"{deployment.base(i)}/readyz", timeout=10)
        assert (ready.status_code, ready.text) == (200, "ready")


async def test_fifty_concurrent_decisions_on_the_approval_page_across_replicas_write_once(deployment):
    deployment.reset()
    async with http_client(deployment.mcp(0), TOKEN) as client:
        asked = structured(await client.call_tool("cancel_order", CANCEL))
    assert asked["channel"] == "page"
    url = asked["approval"]["url"]
    path = url.split(deployment.base(0), 1)[1]
    async with httpx2.AsyncClient(timeout=60) as http:
        page = await http.get(deployment.base(2) + path)  # any replica shows it
        assert page.status_code == 200 and "Approve this change?" in page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        answers: list[str] = []

        async def decide(i: int) -> None:
            base = deployment.base(i % 3)
            got = await http.post(base + path, data={"csrf": csrf, "decision": "approve"}, headers={"Origin": base})
            answers.append(re.search(r"<h1>(.*?)</h1>", got.text).group(1))

        async with anyio.create_task_group() as tg:
            for i in range(REDEMPTIONS):
                tg.start_soon(decide, i)
    assert answers.count("Approved: the change was sent to VTEX.") == 1, answers
    assert sum("already decided" in a for a in answers) == REDEMPTIONS - 1, answers
    assert len(deployment.cancels()) == 1
    async with http_client(deployment.mcp(1), TOKEN) as client:
        outcome = structured(await client.call_tool(CHECK_TOOL, {"approval_id": asked["approval"]["id"]}))
    assert outcome["status"] == "done"


async def test_fifty_concurrent_token_redemptions_across_replicas_write_once(token_deployment):
    dep = token_deployment
    async with http_client(dep.mcp(0), TOKEN) as client:
        asked = structured(await client.call_tool("cancel_order", CANCEL))
    assert asked["channel"] == "token"
    results: list[Any] = []

    async def redeem(i: int) -> None:
        async with http_client(dep.mcp(i % 3), TOKEN) as client:
            results.append(await client.call_tool(CONFIRM_TOOL, asked["confirmation"]))

    async with anyio.create_task_group() as tg:
        for i in range(REDEMPTIONS):
            tg.start_soon(redeem, i)
    done = [r for r in results if not r.is_error]
    assert len(done) == 1 and done[0].structured_content["status"] == "done"
    refused = [r.content[0].text for r in results if r.is_error]
    assert len(refused) == REDEMPTIONS - 1
    assert all("already used" in t or "order changed" in t for t in refused), refused
    assert len(dep.cancels()) == 1

    # Each replica records a row of its own; each replica's audit shows all of them.
    dep.reset()
    for i in range(3):
        async with http_client(dep.mcp(i), TOKEN) as client:
            asked_here = structured(await client.call_tool("cancel_order", {**CANCEL, "reason": f"asked of {i}"}))
        assert asked_here["status"] == "approval_required"
    for i in range(3):
        rows = await _audit(dep.mcp(i))
        reasons = {(r.get("arguments") or {}).get("reason") for r in rows if r["event"] == "token_issued"}
        assert {"asked of 0", "asked of 1", "asked of 2"} <= reasons, (i, reasons)
        assert sum(r["event"] == "token_rejected" for r in rows) >= REDEMPTIONS - 1 - 5  # the newest 50 rows
        assert all(r.get("account") == "sandbox" for r in rows)


async def test_a_replica_killed_mid_write_leaves_a_consistent_audit_and_nothing_is_resent(deployment):
    deployment.reset()
    fault = {"kind": "latency", "method": "POST", "path": "/cancel$", "delay": 3.0}
    httpx2.post(f"{deployment.sandbox_url}/_sandbox/faults", json=fault, headers=SANDBOX_HEADERS).raise_for_status()
    async with http_client(deployment.mcp(0), TOKEN) as client:
        asked = structured(await client.call_tool("cancel_order", CANCEL))
    approval_id = asked["approval"]["id"]
    path = asked["approval"]["url"].split(deployment.base(0), 1)[1]
    victim = deployment.replicas[1]
    async with httpx2.AsyncClient(timeout=30) as http:
        page = await http.get(deployment.base(1) + path)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)

        async def approve_on_the_victim() -> None:
            base = deployment.base(1)
            with contextlib.suppress(httpx2.TransportError):  # killed under us: that is the point
                await http.post(base + path, data={"csrf": csrf, "decision": "approve"}, headers={"Origin": base})

        async with anyio.create_task_group() as tg:
            tg.start_soon(approve_on_the_victim)
            with anyio.fail_after(20):  # kill it once the write is on its way (recorded, then sent)
                while not any(r["event"] == "executing" and r["call_id"] == approval_id
                              for r in await _audit(deployment.mcp(0))):  # fmt: skip
                    await anyio.sleep(0.05)
            victim.popen.send_signal(signal.SIGKILL)
    assert victim.popen.wait(10) == -signal.SIGKILL
    killed_at = time.monotonic()
    with anyio.fail_after(10):  # the sandbox still applies the write it received
        while not deployment.cancels():
            await anyio.sleep(0.1)

    def events(rows: list[dict[str, Any]]) -> list[str]:
        return [r["event"] for r in reversed(rows) if r["call_id"] == approval_id]

    assert events(await _audit(deployment.mcp(2))) == ["requested", "approved", "executing"]
    async with http_client(deployment.mcp(2), TOKEN) as client:
        status = structured(await client.call_tool(CHECK_TOOL, {"approval_id": approval_id}))
        assert status["status"] == "approved"  # "being sent": the deadline has not passed yet
        await anyio.sleep(max(0.0, 4 * TIMEOUT + 5 + 1 - (time.monotonic() - killed_at)))
        status = await client.call_tool(CHECK_TOOL, {"approval_id": approval_id})
    assert status.is_error and status.structured_content["status"] == "unknown"
    assert "Nothing was resent" in status.structured_content["outcome"]["error"]
    assert events(await _audit(deployment.mcp(0))) == ["requested", "approved", "executing", "outcome_unknown"]
    assert len(deployment.cancels()) == 1  # and only once, however often it is read
