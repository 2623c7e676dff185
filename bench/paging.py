"""Fetching every order over 15 pages with injected latency: concurrent all_pages versus sequential.

An in-process sandbox gets a latency fault on the list-orders route (``delay`` seconds on every
page, 20 ms by default, standing in for VTEX's network round trip). ``per_page`` is chosen so the
listing has exactly ``pages`` pages. Then, through the same ``VtexClient``:

* concurrent: what ``list_orders`` with ``all_pages=true`` runs (paging.fetch: page 1 for the
  count, the rest concurrently with bounded parallelism);
* sequential: page 1, 2, ... one after another, as a client without all_pages would.

Before the fault is added, the sequential pages are timed once without it: that is the in-process
sandbox's (and the client's) own cost per page, CPU work that cannot overlap inside one process
the way VTEX's server time would, so it is reported next to the speedup. The sandbox is sized to
a modest store (150 orders, 10 a page) so that this cost stays small next to the latency.

Runs alternate; speedup = median sequential time / median concurrent time. Both must return the
same rows, or the measurement is refused.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from harness import median, ms

LIST_ORDERS_PATH = r"^/api/oms/pvt/orders/?$"


def per_page_for(total: int, pages: int) -> int:
    """The smallest page size (1..100, VTEX's bounds) that splits ``total`` rows into exactly ``pages`` pages."""
    for size in range(1, 101):
        if math.ceil(total / size) == pages:
            return size
    raise ValueError(f"{total} orders cannot be split into exactly {pages} pages of 1..100")


async def sequential_pages(app: Any, op: Any, per_page: int, pages: int) -> tuple[float, list[str]]:
    from vtex_orders_mcp.models import ListOrders

    started = time.perf_counter()
    rows: list[str] = []
    for page in range(1, pages + 1):
        data = await app.client.call(op, ListOrders(per_page=per_page, page=page))
        rows += [row["orderId"] for row in data["list"]]
    return time.perf_counter() - started, rows


async def measure(work: Path, *, pages: int = 15, delay: float = 0.02, repeats: int = 5,
                  orders: int = 150) -> dict[str, Any]:  # fmt: skip
    from vtex_orders_mcp.config import Settings
    from vtex_orders_mcp.models import ListOrders
    from vtex_orders_mcp.registry import BY_NAME
    from vtex_orders_mcp.sandbox import Fault, Sandbox
    from vtex_orders_mcp.server import build_server
    from vtex_orders_mcp.paging import fetch

    state_dir = work / "state-paging"
    state_dir.mkdir(exist_ok=True)
    sandbox = Sandbox(orders=orders)
    app = build_server(Settings.from_env({}, state_dir=state_dir), sandbox=sandbox)
    op = BY_NAME["list_orders"]
    try:
        total = int((await app.client.call(op, ListOrders(per_page=1)))["paging"]["total"])
        per_page = per_page_for(total, pages)
        # The same sequential pages without the fault: what the in-process sandbox and the client
        # cost per page on this machine. That CPU work shares this process, so it cannot overlap
        # the way VTEX's server time would; it bounds the speedup and is reported with it.
        baseline, _ = await sequential_pages(app, op, per_page, pages)
        fault = sandbox.faults.add(Fault(kind="latency", method="GET", path=LIST_ORDERS_PATH, delay=delay))

        async def concurrent() -> tuple[float, list[str]]:
            started = time.perf_counter()
            data = await fetch(app.client, op, ListOrders(per_page=per_page, all_pages=True))
            return time.perf_counter() - started, [row["orderId"] for row in data["list"]]

        async def sequential() -> tuple[float, list[str]]:
            return await sequential_pages(app, op, per_page, pages)

        timings: dict[str, list[float]] = {"concurrent": [], "sequential": []}
        for i in range(repeats):
            runs = [("concurrent", concurrent), ("sequential", sequential)]
            if i % 2:
                runs.reverse()
            for name, run in runs:
                elapsed, rows = await run()
                if len(rows) != total or len(set(rows)) != total:
                    raise RuntimeError(f"{name} paging returned {len(rows)} rows ({len(set(rows))} distinct), "
                                       f"expected {total}")  # fmt: skip
                timings[name].append(elapsed)
    finally:
        await app.aclose()
    seq, conc = median(timings["sequential"]), median(timings["concurrent"])
    return {
        "orders": total,
        "pages": pages,
        "per_page": per_page,
        "latency_ms_per_page": ms(delay),
        "repeats": repeats,
        "pages_delayed": fault.injected,
        "sequential_no_latency_ms": ms(baseline),
        "sequential_ms": ms(seq),
        "concurrent_ms": ms(conc),
        "speedup": round(seq / conc, 2),
    }
