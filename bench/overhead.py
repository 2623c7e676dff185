"""Per-call overhead: one get_order over stdio against the sandbox served over HTTP, versus the floor.

Set-up: the standalone sandbox (``python -m vtex_orders_mcp sandbox``) on a loopback port; our
server over stdio with VTEX_BASE_URL pointing at it and the sandbox's AppKey/AppToken (a real
deployment's configuration, just another host); a bare ``MCPServer`` with a no-op tool over stdio
(bench/floor_server.py); and a plain httpx2 client with the same credentials.

The floor of one call is what no MCP server can avoid: an MCP round trip to a server that does
nothing, plus the HTTP GET of the same order from the same sandbox. Each iteration measures
ours, the no-op and the GET back to back, alternating which goes first (ABAB), so a burst of
machine noise lands on both sides; floor_i = noop_i + get_i. Reported: median and p95 of each,
and ours / floor for both.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from harness import BENCH_DIR, LOOPBACK, PYTHON, child_env, free_port, median, ms, p95, spawn, tail, wait_http
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from sizes import SEED_ORDER


def sandbox_credentials() -> dict[str, str]:
    from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN

    return {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}


def ours_stdio(base_url: str, state_dir: Path) -> StdioServerParameters:
    """Our server over stdio, configured like a real store but pointed at ``base_url``."""
    creds = sandbox_credentials()
    env = child_env(
        VTEX_BASE_URL=base_url,
        VTEX_ACCOUNT_NAME="sandbox",
        VTEX_APP_KEY=creds["X-VTEX-API-AppKey"],
        VTEX_APP_TOKEN=creds["X-VTEX-API-AppToken"],
        VTEX_MCP_STATE_DIR=str(state_dir),
    )
    # Default (INFO) logging to stderr, as deployed: one log line per upstream request is part of the cost.
    return StdioServerParameters(command=PYTHON, args=["-m", "vtex_orders_mcp"], env=env)


def floor_stdio() -> StdioServerParameters:
    return StdioServerParameters(command=PYTHON, args=[str(BENCH_DIR / "floor_server.py")], env=child_env())


def order_path() -> tuple[str, dict[str, str]]:
    """The exact request our client sends for get_order (path and query), built by the registry."""
    from vtex_orders_mcp.models import GetOrder
    from vtex_orders_mcp.registry import BY_NAME, build_request

    req = build_request(BY_NAME["get_order"], GetOrder(order_id=SEED_ORDER), "sandbox")
    return req.path, dict(req.query or {})


async def measure(work: Path, *, iterations: int, warmup: int, sandbox_orders: int = 100) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    sandbox_log = work / "sandbox.log"
    servers_log = work / "stdio-servers.log"
    state_dir = work / "state-overhead"
    state_dir.mkdir(exist_ok=True)
    path, query = order_path()
    with open(sandbox_log, "w") as slog, open(servers_log, "w") as errlog, spawn(
        [PYTHON, "-m", "vtex_orders_mcp", "--log-level", "WARNING", "sandbox", "--host", LOOPBACK,
         "--port", str(port), "--orders", str(sandbox_orders)],
        child_env(), slog,
    ) as proc:  # fmt: skip
        try:
            # The stdio servers start while the sandbox does (neither calls it before the first
            # get_order), so the set-up costs the slowest start-up rather than the sum of them.
            async with (
                Client(stdio_client(ours_stdio(base_url, state_dir), errlog=errlog), cache=None) as ours,
                Client(stdio_client(floor_stdio(), errlog=errlog), cache=None) as floor,
                httpx2.AsyncClient(base_url=base_url, headers=sandbox_credentials(), timeout=10.0) as http,
            ):
                await wait_http(f"{base_url}/_sandbox/clock", proc)
                return await _run(ours, floor, http, path, query, iterations, warmup)
        except BaseException as exc:
            raise RuntimeError(f"per-call overhead failed: {exc!r}\nsandbox log:\n{tail(sandbox_log)}\n"
                               f"server log:\n{tail(servers_log)}") from exc  # fmt: skip


async def _run(ours: Client, floor: Client, http: httpx2.AsyncClient, path: str, query: dict[str, str],
               iterations: int, warmup: int) -> dict[str, Any]:  # fmt: skip
    async def timed_tool(client: Any, tool: str, args: dict[str, Any]) -> float:
        started = time.perf_counter()
        result = await client.call_tool(tool, args)
        elapsed = time.perf_counter() - started
        if result.is_error:
            raise RuntimeError(f"{tool} failed: {result.content}")
        return elapsed

    async def call_ours() -> float:
        return await timed_tool(ours, "get_order", {"order_id": SEED_ORDER})

    async def call_noop() -> float:
        return await timed_tool(floor, "noop", {})

    async def call_get() -> float:
        started = time.perf_counter()
        response = await http.get(path, params=query)
        await response.aread()
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        return elapsed

    for _ in range(warmup):
        await call_ours()
        await call_noop()
        await call_get()
    samples: dict[str, list[float]] = {"ours": [], "noop": [], "get": [], "floor": []}
    for i in range(iterations):
        if i % 2 == 0:
            a = await call_ours()
            b, c = await call_noop(), await call_get()
        else:
            b, c = await call_noop(), await call_get()
            a = await call_ours()
        samples["ours"].append(a)
        samples["noop"].append(b)
        samples["get"].append(c)
        samples["floor"].append(b + c)
        await anyio.lowlevel.checkpoint()
    out: dict[str, Any] = {"iterations": iterations, "warmup": warmup}
    for name, values in samples.items():
        out[f"{name}_ms"] = {"median": ms(median(values)), "p95": ms(p95(values))}
    out["ratio_median"] = round(median(samples["ours"]) / median(samples["floor"]), 3)
    out["ratio_p95"] = round(p95(samples["ours"]) / p95(samples["floor"]), 3)
    return out
