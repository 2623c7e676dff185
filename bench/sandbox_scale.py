"""The embedded sandbox at 20,000 orders against 500: start-up, one list page, memory.

Each measurement is a fresh process (``python bench/sandbox_scale.py ORDERS`` prints JSON), so
RSS is the sandbox's own and nothing is warm from an earlier size; the sizes alternate, and each
pair of processes gives one ratio. In a process:

* start-up: from constructing ``Sandbox(orders=N)`` to the answer of its first list request
  (what a server built on it waits for before its first list_orders answers; a sandbox that
  defers its work past construction still pays it here);
* one list page: ``GET /api/oms/pvt/orders`` (VTEX's default: 15 a page, newest first) through
  the sandbox's in-process transport, cycling pages 1-10, 30 times; the p50;
* RSS: ``VmRSS`` after the listing, and the peak (``VmHWM``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from harness import PYTHON, median, ms, spread

LIST = "/api/oms/pvt/orders"


def _memory() -> dict[str, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


async def _one(orders: int, calls: int) -> dict[str, Any]:
    import httpx2
    from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Sandbox

    headers = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}
    started = time.perf_counter()
    sandbox = Sandbox(orders=orders, rate_limit_per_minute=10**9)
    async with httpx2.AsyncClient(
        transport=sandbox.transport(), base_url="http://sandbox.vtexcommercestable.com.br", headers=headers
    ) as http:
        first = await http.get(LIST)
        first.raise_for_status()
        startup = time.perf_counter() - started
        samples = []
        for i in range(calls):
            t = time.perf_counter()
            response = await http.get(LIST, params={"page": str(i % 10 + 1)})
            response.raise_for_status()
            samples.append(time.perf_counter() - t)
        total = int(response.json()["paging"]["total"])
    return {"orders": total, "startup_s": round(startup, 3), "list_p50_ms": ms(median(samples)), **_memory()}


def _process(orders: int, calls: int) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), str(orders), str(calls)], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"sandbox of {orders} orders failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def measure(work: Path, *, runs: int, small: int = 500, large: int = 20_000, calls: int = 30) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
    for i in range(runs):
        order = [("small", small), ("large", large)]
        if i % 2:
            order.reverse()
        for name, orders in order:
            rows[name].append(await anyio.to_thread.run_sync(_process, orders, calls))
    out: dict[str, Any] = {"runs": runs, "small_orders": small, "large_orders": large}
    for name, results in rows.items():
        out[name] = {
            key: spread([r[key] for r in results]) for key in ("startup_s", "list_p50_ms", "rss_mb", "peak_rss_mb")
        }
    pairs = list(zip(rows["small"], rows["large"], strict=True))
    out["startup_ratio"] = spread([b["startup_s"] / a["startup_s"] for a, b in pairs])
    out["list_ratio"] = spread([b["list_p50_ms"] / a["list_p50_ms"] for a, b in pairs])
    return out


if __name__ == "__main__":
    print(json.dumps(anyio.run(_one, int(sys.argv[1]), int(sys.argv[2]))))
