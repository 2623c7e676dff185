"""Listing every order through MCP: one list_orders call with all_pages, against page by page.

The server is built in-process on an embedded sandbox of ``orders`` orders (the README's 500 by
default), with a latency fault on the list-orders route: ``delay`` seconds on every page (20 ms
by default), standing in for VTEX's network round trip. An SDK client talks to it over MCP (in
memory): the whole client-server path, argument checks, views and serialization included.

* all_pages: ``list_orders {"per_page": P, "all_pages": true}``, one call (the server reads page
  1 for the count, then the rest concurrently);
* page by page: ``list_orders {"per_page": P, "page": n}`` for n = 1, 2, ... until the last page,
  as a client without all_pages would.

Runs alternate; each pair gives one ratio (page by page / all_pages), reported as median and
min-max. Both must list the same orders, or the measurement is refused.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import ms, spread
from mcp import Client

LIST_ORDERS_PATH = r"^/api/oms/pvt/orders/?$"


async def _list(client: Client, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool("list_orders", arguments)
    if result.is_error:
        raise RuntimeError(f"list_orders {arguments} failed: {result.content}")
    return dict(result.structured_content or {})


def _ids(answer: dict[str, Any]) -> list[str]:
    return [row["orderId"] for row in answer["orders"]]


async def measure(work: Path, *, runs: int = 5, orders: int = 500, per_page: int = 100,
                  delay: float = 0.02) -> dict[str, Any]:  # fmt: skip
    from vtex_orders_mcp.config import Settings
    from vtex_orders_mcp.sandbox import Fault, Sandbox
    from vtex_orders_mcp.server import build_server

    state_dir = work / "state-paging"
    state_dir.mkdir(exist_ok=True)
    sandbox = Sandbox(orders=orders, rate_limit_per_minute=10**9)
    app = build_server(Settings.from_env({}, state_dir=state_dir), sandbox=sandbox)
    timings: dict[str, list[float]] = {"all_pages": [], "page_by_page": []}
    try:
        async with Client(app.server, cache=None) as client:
            total = int((await _list(client, {"per_page": 1}))["paging"]["total"])
            pages = -(-total // per_page)
            await _list(client, {"per_page": per_page, "all_pages": True})  # warm-up, before the fault
            fault = sandbox.faults.add(Fault(kind="latency", method="GET", path=LIST_ORDERS_PATH, delay=delay))

            async def all_pages() -> list[str]:
                return _ids(await _list(client, {"per_page": per_page, "all_pages": True}))

            async def page_by_page() -> list[str]:
                rows: list[str] = []
                for page in range(1, pages + 1):
                    rows += _ids(await _list(client, {"per_page": per_page, "page": page}))
                return rows

            for i in range(runs):
                order = [("all_pages", all_pages), ("page_by_page", page_by_page)]
                if i % 2:
                    order.reverse()
                for name, run in order:
                    started = time.perf_counter()
                    rows = await run()
                    timings[name].append(time.perf_counter() - started)
                    if len(rows) != total or len(set(rows)) != total:
                        raise RuntimeError(f"{name} listed {len(rows)} rows ({len(set(rows))} distinct), "
                                           f"expected {total}")  # fmt: skip
    finally:
        await app.aclose()
    return {
        "orders": total,
        "pages": pages,
        "per_page": per_page,
        "latency_ms_per_page": ms(delay),
        "runs": runs,
        "pages_delayed": fault.injected,
        "all_pages_ms": spread([ms(t) for t in timings["all_pages"]], 1),
        "page_by_page_ms": spread([ms(t) for t in timings["page_by_page"]], 1),
        "speedup": spread([p / a for a, p in zip(timings["all_pages"], timings["page_by_page"], strict=True)], 2),
    }
