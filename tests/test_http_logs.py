"""What streamable HTTP logs per request, in process: the HTTP app (http.py) over httpx2's ASGI
transport, its session manager run as the server's lifespan would.

Stateless HTTP has no session, yet the SDK logs "Terminating session: None" at INFO after every
request; the server drops exactly that line, and a stateful session's real termination still logs.
"""

from __future__ import annotations

import logging

import httpx2
import pytest

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.http import MCP_PATH, build_http_app
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

TOKEN = "log-test-token-3c1e"
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Authorization": f"Bearer {TOKEN}",
    "Host": "127.0.0.1:8000",
}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "logs", "version": "1"}},
}
SDK_LOGGER = "mcp.server.streamable_http"


async def exchange(tmp_path, stateless: bool) -> list[str]:
    """Initialize (and, stateful, end the session with DELETE); the SDK transport's log lines."""
    app = build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=10))
    http = build_http_app(app, token=TOKEN, stateless=stateless)
    async with app.server.session_manager.run():
        transport = httpx2.ASGITransport(app=http)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            answer = await client.post(MCP_PATH, json=INIT, headers=HEADERS)
            assert answer.status_code == 200, answer.text
            session = answer.headers.get("mcp-session-id")
            assert (session is None) == stateless
            if session:
                ended = await client.delete(MCP_PATH, headers={**HEADERS, "mcp-session-id": session})
                assert ended.status_code == 200
    return [session or ""]


async def test_stateless_request_logs_no_session_termination(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SDK_LOGGER)
    await exchange(tmp_path, stateless=True)
    lines = [r.getMessage() for r in caplog.records if r.name == SDK_LOGGER]
    assert "Terminating session: None" not in lines


async def test_stateful_session_termination_still_logs(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SDK_LOGGER)
    (session,) = await exchange(tmp_path, stateless=False)
    lines = [r.getMessage() for r in caplog.records if r.name == SDK_LOGGER]
    assert f"Terminating session: {session}" in lines
