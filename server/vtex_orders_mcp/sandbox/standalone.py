"""Serve a sandbox over HTTP with uvicorn (`vtex-orders-mcp sandbox --port 8787`).

Point any VTEX client at http://127.0.0.1:8787 with the sandbox AppKey/AppToken; /_sandbox/...
endpoints reset it, read the request log, inject faults and move the clock. Over a real socket an
injected "reset" fault closes the connection mid-response, and "timeout" really keeps the client
waiting.
"""

from __future__ import annotations

from typing import Any

from .core import Sandbox


def make_server(host: str = "127.0.0.1", port: int = 8787, *, log_level: str = "info", **sandbox_kwargs: Any):
    """A uvicorn.Server for a new Sandbox (port 0 picks a free port); returns (server, sandbox)."""
    import uvicorn

    sandbox = Sandbox(**sandbox_kwargs)
    config = uvicorn.Config(sandbox.app, host=host, port=port, log_level=log_level, lifespan="off")
    return uvicorn.Server(config), sandbox


def serve(host: str = "127.0.0.1", port: int = 8787, **sandbox_kwargs: Any) -> None:
    server, _ = make_server(host, port, **sandbox_kwargs)
    server.run()
