"""Embedding the server in another program (``build_server`` without the CLI): logging stays quiet.

The SDK configures root logging at INFO when the program has not; httpx2 would then print a
line per upstream request. Run in a subprocess, so that pytest's own logging set-up is not there.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.e2e  # each test runs a Python subprocess

SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, sys, tempfile
    from pathlib import Path
    from mcp import Client
    from vtex_orders_mcp.config import Settings
    from vtex_orders_mcp.server import build_server

    if sys.argv[1] == "chosen":
        logging.getLogger("httpx2").setLevel(logging.INFO)

    async def main():
        app = build_server(Settings.from_env({}, state_dir=Path(tempfile.mkdtemp()), sandbox_orders=10))
        async with Client(app.server) as client:
            result = await client.call_tool("get_order", {"order_id": "v502556llux-01"})
        assert not result.is_error
        await app.aclose()

    asyncio.run(main())
    """
)


def run(mode: str) -> str:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_no_request_line_per_call_by_default():
    err = run("default")
    assert "HTTP Request" not in err, err
    assert "serving the embedded sandbox" in err  # our own start-up warning still shows


def test_a_level_the_embedder_chose_is_kept():
    assert "HTTP Request: GET" in run("chosen")
