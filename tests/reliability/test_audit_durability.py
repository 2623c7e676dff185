"""Audit durability: SIGKILL the server in the middle of a stream of approved writes.

Two real processes: a standalone sandbox (`vtex_orders_mcp sandbox`) playing VTEX, and the MCP
server (`serve --transport http --guard off`) pointed at it with the sandbox's credentials. Four
concurrent workers add order interactions, each with a unique message, until the sandbox has
executed a dozen of them; then the server is SIGKILLed with writes in flight. The server records
`executing` in its audit log *before* it sends a write, so every write the sandbox executed (its
request log, read through /_sandbox/requests) must have that record in the audit database the
killed process left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from ports import free_port

from vtex_orders_mcp.storage import SqliteStore
from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]  # two real processes

ORDER = "v502556llux-01"
HTTP_TOKEN = "durability-token-0123456789"
KILL_AFTER = 12  # executed writes before the kill
SANDBOX_HEADERS = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEX_")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def _start(args: list[str], env: dict[str, str], log: Path, ready_url: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "vtex_orders_mcp", *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{args} exited {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            httpx2.get(ready_url, headers=SANDBOX_HEADERS, timeout=1.0)
            return proc
        except httpx2.TransportError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"{args} did not start:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(10)


def _executed_interactions(sandbox_url: str) -> list[str]:
    log = httpx2.get(f"{sandbox_url}/_sandbox/requests", headers=SANDBOX_HEADERS, timeout=10).json()
    return [
        r["body"]["message"]
        for r in log
        if r["method"] == "POST" and r["path"].endswith("/interactions") and 200 <= r["status"] < 300
    ]


async def test_every_executed_write_has_its_audit_record_after_sigkill(tmp_path):
    state = tmp_path / "state"
    sb_port, port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sb_port}"
    sandbox = server = None
    try:
        sandbox = _start(["sandbox", "--port", str(sb_port), "--orders", "40"], _env(), tmp_path / "sandbox.log",
                         f"{sandbox_url}/_sandbox/clock")  # fmt: skip
        server_env = _env(VTEX_BASE_URL=sandbox_url, VTEX_ACCOUNT_NAME="sandbox", VTEX_APP_KEY=SANDBOX_APP_KEY,
                          VTEX_APP_TOKEN=SANDBOX_APP_TOKEN, VTEX_MCP_STATE_DIR=str(state))  # fmt: skip
        server = _start(["serve", "--transport", "http", "--port", str(port), "--guard", "off",
                         "--http-token", HTTP_TOKEN], server_env, tmp_path / "server.log",
                        f"http://127.0.0.1:{port}/healthz")  # fmt: skip

        sent: list[str] = []
        stop = anyio.Event()

        async def worker(client: Client, n: int) -> None:
            i = 0
            while not stop.is_set():
                message = f"durability w{n} #{i}"
                i += 1
                sent.append(message)
                try:
                    with anyio.move_on_after(10):
                        await client.call_tool(
                            "add_order_interaction", {"order_id": ORDER, "source": "durability", "message": message}
                        )
                except Exception:  # the server died under us: that is the point
                    return

        async def killer() -> None:
            async with httpx2.AsyncClient() as hc:
                while True:
                    log = (await hc.get(f"{sandbox_url}/_sandbox/requests", headers=SANDBOX_HEADERS)).json()
                    if sum(1 for r in log if r["path"].endswith("/interactions")) >= KILL_AFTER:
                        break
                    await anyio.sleep(0.02)
            server.send_signal(signal.SIGKILL)
            stop.set()

        headers = {"Authorization": f"Bearer {HTTP_TOKEN}"}
        try:
            async with (
                httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(10.0)) as hc,
                Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=hc)) as client,
            ):
                with anyio.fail_after(60):
                    async with anyio.create_task_group() as tg:
                        for n in range(4):
                            tg.start_soon(worker, client, n)
                        tg.start_soon(killer)
        except TimeoutError:
            raise
        except Exception:
            pass
        assert server.wait(10) == -signal.SIGKILL

        executed = _executed_interactions(sandbox_url)
        assert len(executed) >= KILL_AFTER
        assert set(executed) <= set(sent)
        records = await SqliteStore(state / "audit.sqlite3").recent(limit=100_000, tool="add_order_interaction")
        executing = {r.arguments["message"] for r in records if r.event == "executing" and r.arguments}
        missing = [m for m in executed if m not in executing]
        assert missing == [], f"executed upstream but not audited: {missing}"
        # The other direction: an `executed` record is never written for a write VTEX did not execute.
        finished = [r for r in records if r.event == "executed"]
        assert len(finished) <= len(executed)
    finally:
        _stop(server)
        _stop(sandbox)
