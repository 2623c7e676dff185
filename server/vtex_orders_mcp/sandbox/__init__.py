"""Embedded VTEX Orders API sandbox: a stateful, deterministic simulator of the VTEX Orders API.

Used in-process by the MCP server when no VTEX credentials are set, runnable standalone over HTTP
(standalone.serve), and the fixture of the test suite. It refuses what VTEX refuses, by rules it
implements on its own from VTEX's documentation: nothing here imports the server's registry,
status table or views, so it stays an independent check of the server.

    from vtex_orders_mcp.sandbox import Sandbox, Fault
    sb = Sandbox(seed=7, orders=500)
    client = httpx2.AsyncClient(
        transport=sb.transport(),
        base_url="http://sandbox.vtexcommercestable.com.br",
        headers={"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN},
    )
"""

from .access import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN
from .core import Sandbox
from .faults import Fault
from .requestlog import LoggedRequest
from .state import Clock, SandboxError, Store

__all__ = [
    "SANDBOX_APP_KEY",
    "SANDBOX_APP_TOKEN",
    "Clock",
    "Fault",
    "LoggedRequest",
    "Sandbox",
    "SandboxError",
    "Store",
]
