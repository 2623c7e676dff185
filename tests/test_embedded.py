"""The embedded sandbox is built when the first request reaches it, not at start (embedded.py):
the README's first run answers tools/list without generating any order."""

from __future__ import annotations

import sys

import pytest
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio


async def test_tools_list_does_not_build_the_sandbox_and_the_first_read_does(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=20))
    assert app.embedded is not None
    async with Client(app.server) as client:
        assert len((await client.list_tools()).tools) >= 36
        assert app.embedded._sandbox is None  # nothing generated yet
        result = await client.call_tool("get_order", {"order_id": "v502556llux-01"})
        assert not result.is_error, result.content
        built = app.embedded._sandbox
        assert built is not None and len(built.store.orders) == 20
        # the request carried the sandbox's own credentials (it refuses any other with 401/403)
        assert built.requests[-1].status == 200
        assert app.sandbox is built
    await app.aclose()


def test_starting_the_server_does_not_import_the_simulator(tmp_path):
    import subprocess

    code = (
        "import sys; from pathlib import Path; from vtex_orders_mcp.config import Settings; "
        "from vtex_orders_mcp.server import build_server; "
        f"build_server(Settings.from_env({{}}, state_dir=Path({str(tmp_path)!r}))); "
        "print('vtex_orders_mcp.sandbox' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
