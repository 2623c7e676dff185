"""Cold start: from spawning the server process to the first tools/list answer, over stdio.

This is what a user waits for when Claude Desktop or an IDE starts the server. Ours runs in the
README's first-run configuration: no credentials, so the embedded sandbox with its default 500
orders, and a fresh state directory. The floor is a bare ``MCPServer`` with one tool
(bench/floor_server.py). Each run spawns a fresh process, connects (protocol negotiation
included), lists tools and stops; runs alternate ours/floor, so each pair gives one ratio.
Reported: each side's median and min-max, and the ratio's (of each pair) median and min-max.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import BENCH_DIR, PYTHON, child_env, ms, spread
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client


async def first_list(params: StdioServerParameters, errlog: Any) -> tuple[float, int]:
    started = time.perf_counter()
    async with Client(stdio_client(params, errlog=errlog), cache=None) as client:
        listed = await client.list_tools()
        elapsed = time.perf_counter() - started
    return elapsed, len(listed.tools)


def readme_default(state_dir: Path) -> StdioServerParameters:
    """``vtex-orders-mcp`` as the README's first run starts it: no VTEX_* variables at all."""
    return StdioServerParameters(
        command=PYTHON, args=["-m", "vtex_orders_mcp"], env=child_env(VTEX_MCP_STATE_DIR=str(state_dir))
    )


def floor_stdio() -> StdioServerParameters:
    return StdioServerParameters(command=PYTHON, args=[str(BENCH_DIR / "floor_server.py")], env=child_env())


async def measure(work: Path, *, runs: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"ours": [], "floor": []}
    counts: dict[str, int] = {}
    with open(work / "coldstart.log", "w") as errlog:
        for i in range(runs):
            state_dir = work / f"state-coldstart-{i}"  # a first run: nothing in the state directory yet
            state_dir.mkdir()
            order = [("ours", readme_default(state_dir)), ("floor", floor_stdio())]
            if i % 2:
                order.reverse()
            for name, params in order:
                elapsed, listed = await first_list(params, errlog)
                samples[name].append(elapsed)
                counts[name] = listed
    out: dict[str, Any] = {"runs": runs, "tools_listed": counts}
    for name, values in samples.items():
        out[f"{name}_ms"] = spread([ms(v) for v in values], 1)
    out["ratio"] = spread([o / f for o, f in zip(samples["ours"], samples["floor"], strict=True)])
    return out
