"""Serve a sandbox over HTTP with uvicorn (`vtex-orders-mcp sandbox --port 8787`).

Point any VTEX client at http://127.0.0.1:8787 with the sandbox AppKey/AppToken; /_sandbox/...
endpoints reset it, read the request log, inject faults and move the clock.
"""

from __future__ import annotations

from typing import Any

from .core import Sandbox


def serve(host: str = "127.0.0.1", port: int = 8787, **sandbox_kwargs: Any) -> None:
    import uvicorn

    sandbox = Sandbox(**sandbox_kwargs)
    uvicorn.run(sandbox.app, host=host, port=port, log_level="info")
