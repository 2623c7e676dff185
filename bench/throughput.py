"""Streamable HTTP throughput: calls per second with N concurrent SDK clients, ours versus the floor.

Ours is ``vtex-orders-mcp serve --transport http`` (stateful sessions, bearer token, the embedded
sandbox: the README's configuration without credentials) answering get_order; the floor is
bench/floor_server.py's pass-through get_order (the same GET, into an embedded sandbox of the same
size, VTEX's JSON returned as it came) served by the SDK's own ``streamable-http`` runner. The
servers run on one core, the load on another (``taskset``): the load is this file run as a
script in a process of its own, N ``mcp.Client`` sessions over streamable HTTP, each sending the
bearer token and calling in a loop for a fixed window. Windows alternate ours/floor (each server
idle while the other is measured); each round's pair gives one ratio of calls/s, reported as
median and min-max over the rounds, with each server's CPU time per call (from /proc).

The embedded sandbox allows 6,000 requests a minute (VTEX's limit); the windows are short enough
to stay under it, and any error result is counted and reported rather than hidden.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
from harness import (
    BENCH_DIR, LOOPBACK, PYTHON, child_env, cores, cpu_seconds, free_port, pinned, spawn, spread, tail, wait_http,
)  # fmt: skip
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sizes import SEED_ORDER

TOKEN = "bench-http-token-0123456789abcdef"


async def measure(
    work: Path, *, clients: int, seconds: float, rounds: int, sandbox_orders: int = 100
) -> dict[str, Any]:
    server_core, client_core = cores()
    ours_port, floor_port = free_port(), free_port()
    state_dir = work / "state-throughput"
    state_dir.mkdir(exist_ok=True)
    ours_cmd = [PYTHON, "-m", "vtex_orders_mcp", "serve", "--transport", "http", "--host", LOOPBACK,
                "--port", str(ours_port), "--http-token", TOKEN]  # fmt: skip
    ours_env = child_env(VTEX_MCP_STATE_DIR=str(state_dir), VTEX_SANDBOX_ORDERS=str(sandbox_orders))
    floor_cmd = [PYTHON, str(BENCH_DIR / "floor_server.py"), "--http", "--port", str(floor_port),
                 "--sandbox-orders", str(sandbox_orders)]  # fmt: skip
    ours_log, floor_log = work / "ours-http.log", work / "floor-http.log"
    with (
        open(ours_log, "w") as olog,
        open(floor_log, "w") as flog,
        spawn(pinned(server_core, ours_cmd), ours_env, olog) as ours_proc,
        spawn(pinned(server_core, floor_cmd), child_env(), flog) as floor_proc,
    ):
        try:
            await wait_http(f"http://{LOOPBACK}:{ours_port}/healthz", ours_proc)
            await wait_http(f"http://{LOOPBACK}:{floor_port}/mcp", floor_proc)
            spec = {
                "clients": clients, "seconds": seconds, "rounds": rounds,
                "targets": {
                    "ours": [f"http://{LOOPBACK}:{ours_port}/mcp", "get_order", {"order_id": SEED_ORDER},
                             ours_proc.pid],
                    "floor": [f"http://{LOOPBACK}:{floor_port}/mcp", "get_order", {"order_id": SEED_ORDER},
                              floor_proc.pid],
                },
            }  # fmt: skip
            load = pinned(client_core, [PYTHON, str(Path(__file__).resolve()), json.dumps(spec)])
            done = await anyio.to_thread.run_sync(
                lambda: subprocess.run(load, capture_output=True, text=True, timeout=120 + rounds * 2 * seconds)
            )
            if done.returncode != 0:
                raise RuntimeError(f"load process failed ({done.returncode}):\n{done.stderr[-3000:]}")
            out: dict[str, Any] = json.loads(done.stdout)
        except BaseException as exc:
            raise RuntimeError(f"throughput failed: {exc!r}\nours log:\n{tail(ours_log)}\n"
                               f"floor log:\n{tail(floor_log)}") from exc  # fmt: skip
    out["pinned"] = {"servers": server_core, "clients": client_core}
    return out


async def _run(targets: dict[str, list[Any]], clients: int, seconds: float, rounds: int) -> dict[str, Any]:
    windows: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
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
                cpu = cpu_seconds(pid) - cpu_before
                windows[name].append({"calls": calls, "errors": errors, "seconds": elapsed, "cpu": cpu})
    out: dict[str, Any] = {"clients": clients, "window_s": seconds, "rounds": rounds}
    for name, ws in windows.items():
        out[name] = {
            "calls": sum(int(w["calls"]) for w in ws),
            "errors": sum(int(w["errors"]) for w in ws),
            "calls_per_s": spread([w["calls"] / w["seconds"] for w in ws], 1),
            "server_cpu_ms_per_call": spread([1000 * w["cpu"] / max(1, w["calls"]) for w in ws]),
        }
    out["ratio"] = spread(
        [
            (o["calls"] / o["seconds"]) / (f["calls"] / f["seconds"])
            for o, f in zip(windows["ours"], windows["floor"], strict=True)
        ]
    )
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


def main() -> None:
    """The load process: ``python bench/throughput.py SPEC`` prints the measurement as JSON."""
    spec = json.loads(sys.argv[1])
    result = anyio.run(_run, spec["targets"], spec["clients"], spec["seconds"], spec["rounds"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
