"""The floor: a bare SDK ``MCPServer`` with one no-op tool, nothing else.

It is what any MCP server costs before it does any work: process start, SDK import, the
protocol, the transport. The benchmarks compare vtex-orders-mcp against it, measured in the same
run on the same machine, so the ratios do not depend on how fast or busy the machine is.

    python bench/floor_server.py                      # stdio
    python bench/floor_server.py --http --port 8123   # streamable HTTP on 127.0.0.1
"""

from __future__ import annotations

import argparse

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="floor")


@server.tool(description="Does nothing.")
async def noop() -> str:
    return "ok"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--port", type=int, default=8123)
    ns = parser.parse_args(argv)
    if ns.http:
        server.run("streamable-http", host="127.0.0.1", port=ns.port)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
