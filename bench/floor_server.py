"""The floors: a bare SDK ``MCPServer`` with a pass-through ``get_order`` (and a no-op tool).

``get_order`` does what any VTEX MCP server must do for that call and nothing more: the same
HTTP GET of the order, answered with VTEX's JSON text as it came (no validation beyond the SDK's
own, no view, no structured content). ``noop`` is what an MCP round trip costs with no work at
all (an extra row). The benchmarks compare vtex-orders-mcp against them, measured in the same
run on the same machine, so the ratios do not depend on how fast or busy the machine is.

    VTEX_BASE_URL=http://127.0.0.1:8787 python bench/floor_server.py     # stdio, VTEX over HTTP
    python bench/floor_server.py --http --port 8123 --sandbox-orders 100  # streamable HTTP,
                                                                           # the embedded sandbox

Over HTTP the upstream is an embedded sandbox in the same process, as for ``vtex-orders-mcp
serve --transport http`` without credentials: both servers then pay the same in-process GET.
"""

from __future__ import annotations

import argparse
import os
from typing import Any
from urllib.parse import quote

import httpx2
from mcp.server.mcpserver import MCPServer

server = MCPServer(name="floor")
_http: dict[str, httpx2.AsyncClient] = {}


def _client() -> httpx2.AsyncClient:
    # Created on first use, inside the server's event loop.
    if "vtex" not in _http:
        _http["vtex"] = _make_client()
    return _http["vtex"]


def _make_client(**extra: Any) -> httpx2.AsyncClient:
    headers = {
        "X-VTEX-API-AppKey": os.environ.get("VTEX_APP_KEY", ""),
        "X-VTEX-API-AppToken": os.environ.get("VTEX_APP_TOKEN", ""),
        "Accept": "application/json",
    }
    return httpx2.AsyncClient(base_url=os.environ.get("VTEX_BASE_URL", ""), headers=headers, timeout=30.0, **extra)


@server.tool(description="Does nothing.")
async def noop() -> str:
    return "ok"


@server.tool(description="Get an order by its id (VTEX's JSON as it came).")
async def get_order(order_id: str) -> str:
    response = await _client().get(f"/api/oms/pvt/orders/{quote(order_id, safe='')}")
    response.raise_for_status()
    return response.text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--role", default="", help="a label that tells processes apart (bench/percall.py)")
    parser.add_argument("--sandbox-orders", type=int, default=0, help="upstream: an embedded sandbox of N orders")
    ns = parser.parse_args(argv)
    if ns.sandbox_orders:
        from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Sandbox

        sandbox = Sandbox(orders=ns.sandbox_orders)
        os.environ.update(VTEX_APP_KEY=SANDBOX_APP_KEY, VTEX_APP_TOKEN=SANDBOX_APP_TOKEN)
        os.environ["VTEX_BASE_URL"] = "http://sandbox.vtexcommercestable.com.br"
        _http["vtex"] = _make_client(transport=sandbox.transport())
    if ns.http:
        server.run("streamable-http", host="127.0.0.1", port=ns.port)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
