"""Streamable HTTP throughput: calls per second with N concurrent SDK clients, ours versus the floor.

Ours is ``vtex-orders-mcp serve --transport http`` (stateful sessions, bearer token, embedded
sandbox) answering get_order; the floor is a bare ``MCPServer`` no-op tool served by the SDK's
own ``streamable-http`` runner (bench/floor_server.py --http). Both get the same clients: N
``mcp.Client`` sessions over streamable HTTP, each sending the bearer token, each calling in a
loop for a fixed window. Windows alternate ours/floor (each server idle while the other is
measured) and calls/s is summed over windows. The clients run in this process, on the same two
cores as the server, so the server's CPU time per call (read from /proc) is reported as well: it
does not depend on how fast the clients are.

The embedded sandbox allows 6,000 requests a minute (VTEX's limit); the windows are short enough
to stay under it, and any error result is counted and reported rather than hidden.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
from harness import (
    BENCH_DIR, LOOPBACK, PYTHON, child_env, cpu_seconds, free_port, spawn, tail, wait_http,
)  # fmt: skip
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sizes import SEED_ORDER

TOKEN = "bench-http-token-0123456789abcdef"


async def measure(work: Path, *, clients: int, seconds: float, rounds: int) -> dict[str, Any]:
    ours_port, floor_port = free_port(), free_port()
    state_dir = work / "state-throughput"
    state_dir.mkdir(exist_ok=True)
    ours_cmd = [PYTHON, "-m", "vtex_orders_mcp", "serve", "--transport", "http", "--host", LOOPBACK,
                "--port", str(ours_port), "--http-token", TOKEN]  # fmt: skip
    ours_env = child_env(VTEX_MCP_STATE_DIR=str(state_dir), VTEX_SANDBOX_ORDERS="100")
    floor_cmd = [PYTHON, str(BENCH_DIR / "floor_server.py"), "--http", "--port", str(floor_port)]
    ours_log, floor_log = work / "ours-http.log", work / "floor-http.log"
    with (
        open(ours_log, "w") as olog,
        open(floor_log, "w") as flog,
        spawn(ours_cmd, ours_env, olog) as ours_proc,
        spawn(floor_cmd, child_env(), flog) as floor_proc,
    ):
        try:
            await wait_http(f"http://{LOOPBACK}:{ours_port}/healthz", ours_proc)
            await wait_http(f"http://{LOOPBACK}:{floor_port}/mcp", floor_proc)
            targets = {
                "ours": (f"http://{LOOPBACK}:{ours_port}/mcp", "get_order", {"order_id": SEED_ORDER}, ours_proc.pid),
                "floor": (f"http://{LOOPBACK}:{floor_port}/mcp", "noop", {}, floor_proc.pid),
            }
            with anyio.fail_after(120 + rounds * 2 * seconds):
                return await _run(targets, clients, seconds, rounds)
        except BaseException as exc:
            raise RuntimeError(f"throughput failed: {exc!r}\nours log:\n{tail(ours_log)}\n"
                               f"floor log:\n{tail(floor_log)}") from exc  # fmt: skip


async def _run(targets: dict[str, tuple[str, str, dict[str, Any], int]], clients: int, seconds: float,
               rounds: int) -> dict[str, Any]:  # fmt: skip
    totals = {name: {"calls": 0, "errors": 0, "seconds": 0.0, "cpu": 0.0} for name in targets}
    async with AsyncExitStack() as stack:
        sessions: dict[str, list[Client]] = {}
        for name, (url, tool, args, _) in targets.items():
            sessions[name] = []
            for _ in range(clients):
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30.0)
                )
                client = await stack.enter_async_context(
                    Client(streamable_http_client(url, http_client=http), cache=None)
                )
                await client.call_tool(tool, args)  # warm-up: session set up, first call paid
                sessions[name].append(client)
        for i in range(rounds):
            order = list(targets) if i % 2 == 0 else list(reversed(targets))
            for name in order:
                _, tool, args, pid = targets[name]
                cpu_before = cpu_seconds(pid)
                calls, errors, elapsed = await _window(sessions[name], tool, args, seconds)
                totals[name]["cpu"] += cpu_seconds(pid) - cpu_before
                totals[name]["calls"] += calls
                totals[name]["errors"] += errors
                totals[name]["seconds"] += elapsed
    out: dict[str, Any] = {"clients": clients, "window_s": seconds, "rounds": rounds}
    for name, t in totals.items():
        out[name] = {
            "calls": t["calls"],
            "errors": t["errors"],
            "calls_per_s": round(t["calls"] / t["seconds"], 1),
            "server_cpu_ms_per_call": round(1000 * t["cpu"] / max(1, t["calls"]), 3),
        }
    out["ratio"] = round(out["ours"]["calls_per_s"] / out["floor"]["calls_per_s"], 3)
    return out


async def _window(clients: list[Client], tool: str, args: dict[str, Any], seconds: float) -> tuple[int, int, float]:
    """Every client calls in a loop until the deadline; calls that finish by then are counted."""
    calls = errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(client: Client) -> None:
        nonlocal calls, errors
        while time.perf_counter() < deadline:
            result = await client.call_tool(tool, args)
            if result.is_error:
                errors += 1
            else:
                calls += 1

    async with anyio.create_task_group() as tg:
        for client in clients:
            tg.start_soon(worker, client)
    return calls, errors, time.perf_counter() - started
