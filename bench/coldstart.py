"""Cold start: from spawning the server process to the first tools/list answer, over stdio.

This is what a user waits for when Claude Desktop or an IDE starts the server. Each run spawns
a fresh process, connects (protocol negotiation included), lists tools and stops; runs of ours
and of the floor (a bare ``MCPServer`` with one tool) alternate, and the ratio is of medians.

Ours is configured with credentials (pointing at an unused loopback port: tools/list makes no
upstream call), the deployed configuration. As a reference it is also measured without
credentials, where it builds the embedded sandbox (500 generated orders) before answering.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import LOOPBACK, PYTHON, child_env, free_port, median, ms
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from overhead import floor_stdio, ours_stdio


async def first_list(params: StdioServerParameters, errlog: Any) -> tuple[float, int]:
    started = time.perf_counter()
    async with Client(stdio_client(params, errlog=errlog), cache=None) as client:
        listed = await client.list_tools()
        elapsed = time.perf_counter() - started
    return elapsed, len(listed.tools)


def ours_embedded(state_dir: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=PYTHON, args=["-m", "vtex_orders_mcp"], env=child_env(VTEX_MCP_STATE_DIR=str(state_dir))
    )


async def measure(work: Path, *, runs: int, embedded_runs: int = 0) -> dict[str, Any]:
    state_dir = work / "state-coldstart"
    state_dir.mkdir(exist_ok=True)
    unused = f"http://{LOOPBACK}:{free_port()}"
    samples: dict[str, list[float]] = {"ours": [], "floor": [], "ours_embedded_sandbox": []}
    counts: dict[str, int] = {}
    with open(work / "coldstart.log", "w") as errlog:
        for i in range(runs):
            order = [("ours", ours_stdio(unused, state_dir)), ("floor", floor_stdio())]
            if i % 2:
                order.reverse()
            if i < embedded_runs:
                order.append(("ours_embedded_sandbox", ours_embedded(state_dir)))
            for name, params in order:
                elapsed, listed = await first_list(params, errlog)
                samples[name].append(elapsed)
                counts[name] = listed
    out: dict[str, Any] = {"runs": runs, "tools_listed": counts}
    for name, values in samples.items():
        if values:
            out[f"{name}_ms"] = {"median": ms(median(values)), "min": ms(min(values)), "max": ms(max(values))}
    out["ratio"] = round(median(samples["ours"]) / median(samples["floor"]), 3)
    if samples["ours_embedded_sandbox"]:
        out["ratio_embedded_sandbox"] = round(median(samples["ours_embedded_sandbox"]) / median(samples["floor"]), 3)
    return out
