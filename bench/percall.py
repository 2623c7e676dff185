"""One get_order over stdio: latency against the TypeScript peer, server CPU against the floor.

Set-up: the standalone sandbox (``python -m vtex_orders_mcp sandbox``) on a loopback port, and
four stdio servers pointed at it with the sandbox's AppKey/AppToken, each started by an SDK
client in this process:

* ours (``python -m vtex_orders_mcp``, configured as a real store is, default INFO logging);
* the peer: bench/peer/server.mjs, the official TypeScript SDK passing VTEX's JSON through as
  pretty-printed text (the best-known VTEX peer's shape; peer.py installs it);
* the floor: bench/floor_server.py, a Python ``MCPServer`` whose get_order sends the same GET
  and returns VTEX's JSON text as it came;
* the no-op floor: the same file's ``noop`` tool in a process of its own (an extra row).

The servers and the sandbox run on one core and this client on another (``taskset``), when the
machine has two. Each run makes ``calls`` rounds; a round calls each server once, in an order
that rotates every round, so machine noise lands on all of them alike. Per run: each server's
p50 latency and its CPU seconds per call (user + system of its process, from /proc, over the
run). Reported: ours / peer p50 and ours / floor CPU per call, median and min-max over the runs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import anyio
from harness import (
    BENCH_DIR, LOOPBACK, PYTHON, child_env, children, cmdline, cores, cpu_seconds, free_port, median, ms, pinned,
    spawn, spread, tail, wait_http,
)  # fmt: skip
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from peer import ensure_installed, peer_args

from sizes import SEED_ORDER


def sandbox_credentials() -> dict[str, str]:
    from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN

    return {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}


def upstream_env(base_url: str, **extra: str) -> dict[str, str]:
    """A server's environment for a store at ``base_url`` with the sandbox's credentials."""
    creds = sandbox_credentials()
    return child_env(
        VTEX_BASE_URL=base_url,
        VTEX_ACCOUNT_NAME="sandbox",
        VTEX_APP_KEY=creds["X-VTEX-API-AppKey"],
        VTEX_APP_TOKEN=creds["X-VTEX-API-AppToken"],
        **extra,
    )


def stdio(args: list[str], env: dict[str, str], core: int | None) -> StdioServerParameters:
    full = pinned(core, args)
    return StdioServerParameters(command=full[0], args=full[1:], env=env)


# name -> (tool, arguments); ours first: the ratios are ours / the others.
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "ours": ("get_order", {"order_id": SEED_ORDER}),
    "peer": ("get_order", {"orderId": SEED_ORDER}),
    "floor": ("get_order", {"order_id": SEED_ORDER}),
    "noop": ("noop", {}),
}
_MARKS = {"ours": "vtex_orders_mcp", "peer": "server.mjs", "floor": "floor_server.py --role get", "noop": "--role noop"}


async def measure(work: Path, *, runs: int, calls: int, warmup: int, sandbox_orders: int = 100) -> dict[str, Any]:
    node = ensure_installed()
    server_core, client_core = cores()
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    state_dir = work / "state-percall"
    state_dir.mkdir(exist_ok=True)
    env = upstream_env(base_url)
    params = {
        "ours": stdio([PYTHON, "-m", "vtex_orders_mcp"], {**env, "VTEX_MCP_STATE_DIR": str(state_dir)}, server_core),
        "peer": stdio(peer_args(node), env, server_core),
        "floor": stdio([PYTHON, str(BENCH_DIR / "floor_server.py"), "--role", "get"], env, server_core),
        "noop": stdio([PYTHON, str(BENCH_DIR / "floor_server.py"), "--role", "noop"], env, server_core),
    }
    sandbox_log, servers_log = work / "sandbox.log", work / "stdio-servers.log"
    affinity = os.sched_getaffinity(0)
    with open(sandbox_log, "w") as slog, open(servers_log, "w") as errlog, spawn(
        pinned(server_core, [PYTHON, "-m", "vtex_orders_mcp", "--log-level", "WARNING", "sandbox", "--host",
                             LOOPBACK, "--port", str(port), "--orders", str(sandbox_orders)]),
        child_env(), slog,
    ) as proc:  # fmt: skip
        try:
            if client_core is not None:
                os.sched_setaffinity(0, {client_core})
            async with (
                Client(stdio_client(params["ours"], errlog=errlog), cache=None) as ours,
                Client(stdio_client(params["peer"], errlog=errlog), cache=None) as peer,
                Client(stdio_client(params["floor"], errlog=errlog), cache=None) as floor,
                Client(stdio_client(params["noop"], errlog=errlog), cache=None) as noop,
            ):
                await wait_http(f"{base_url}/_sandbox/clock", proc)
                clients = {"ours": ours, "peer": peer, "floor": floor, "noop": noop}
                out = await _run(clients, _pids(), runs, calls, warmup)
        except BaseException as exc:
            raise RuntimeError(f"per-call measurement failed: {exc!r}\nsandbox log:\n{tail(sandbox_log)}\n"
                               f"server log:\n{tail(servers_log)}") from exc  # fmt: skip
        finally:
            os.sched_setaffinity(0, affinity)
    out["pinned"] = {"servers_and_sandbox": server_core, "client": client_core}
    return out


def _pids() -> dict[str, int]:
    """Each server's process id, found among this process's children by its command line (under
    taskset the child execs the server, so the pid is the server's)."""
    found: dict[str, int] = {}
    for pid in children():
        line = cmdline(pid)
        for name, mark in _MARKS.items():
            if mark in line and " sandbox " not in line:
                found.setdefault(name, pid)
    missing = set(_MARKS) - set(found)
    if missing:
        raise RuntimeError(f"server processes not found: {sorted(missing)}")
    return found


async def _call(client: Client, name: str) -> float:
    tool, args = CALLS[name]
    started = time.perf_counter()
    result = await client.call_tool(tool, args)
    elapsed = time.perf_counter() - started
    if result.is_error:
        raise RuntimeError(f"{name} {tool} failed: {result.content}")
    return elapsed


async def _run(clients: dict[str, Client], pids: dict[str, int], runs: int, calls: int,
               warmup: int) -> dict[str, Any]:  # fmt: skip
    names = list(clients)
    for _ in range(warmup):
        for name in names:
            await _call(clients[name], name)
    per_run: list[dict[str, Any]] = []
    for _ in range(runs):
        samples: dict[str, list[float]] = {name: [] for name in names}
        cpu_before = {name: cpu_seconds(pids[name]) for name in names}
        for i in range(calls):
            turn = names[i % len(names) :] + names[: i % len(names)]
            for name in turn:
                samples[name].append(await _call(clients[name], name))
            await anyio.lowlevel.checkpoint()
        cpu = {name: (cpu_seconds(pids[name]) - cpu_before[name]) / calls for name in names}
        per_run.append({"p50_ms": {n: ms(median(v)) for n, v in samples.items()},
                        "cpu_ms_per_call": {n: ms(c) for n, c in cpu.items()}})  # fmt: skip
    out: dict[str, Any] = {"runs": runs, "calls_per_run": calls, "warmup": warmup, "per_run": per_run}
    out["p50_ms"] = {n: spread([r["p50_ms"][n] for r in per_run]) for n in names}
    out["cpu_ms_per_call"] = {n: spread([r["cpu_ms_per_call"][n] for r in per_run]) for n in names}
    out["latency_vs_peer"] = spread([r["p50_ms"]["ours"] / r["p50_ms"]["peer"] for r in per_run])
    out["latency_vs_floor"] = spread([r["p50_ms"]["ours"] / r["p50_ms"]["floor"] for r in per_run])
    out["cpu_vs_floor"] = spread(
        [r["cpu_ms_per_call"]["ours"] / max(r["cpu_ms_per_call"]["floor"], 1e-9) for r in per_run]
    )
    out["cpu_vs_peer"] = spread(
        [r["cpu_ms_per_call"]["ours"] / max(r["cpu_ms_per_call"]["peer"], 1e-9) for r in per_run]
    )
    return out
