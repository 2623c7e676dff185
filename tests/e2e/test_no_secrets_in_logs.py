"""No credential ever reaches the operator's logs, the client's results or the audit file.

The server runs as a real process configured like a production one (AppKey/AppToken, a base
URL, a token-sealing secret, an HTTP bearer token), all with distinctive values, against a
standalone sandbox on loopback that accepts exactly those credentials, at DEBUG log level. A
whole session goes through reads, resources, a prompt, argument errors, a 404, upstream 500s
with retries, an elicitation-approved cancel, a VTEX conflict, the two-step token (with a
forged token) and, over HTTP, requests with a wrong bearer token. Then every byte of the
server's stderr, every result and the audit database are searched for each secret. A second
server with a *wrong* AppToken checks the 403 path, where clients classically echo headers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx2
import pytest
from e2e_support import ORDER, SERVER, Process, clean_env, http_client
from ports import free_port
from mcp import Client, StdioServerParameters, types
from mcp.client.stdio import stdio_client

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

APP_KEY = "vtexappkey-LEAKCHECK-123"
APP_TOKEN = "TOKEN-LEAKCHECK-456"
SEAL_SECRET = "SEAL-LEAKCHECK-789"
BEARER = "BEARER-LEAKCHECK-000"
WRONG_BEARER = "WRONGBEARER-LEAKCHECK-111"
WRONG_APP_TOKEN = "WRONGTOKEN-LEAKCHECK-222"
SECRETS = [APP_KEY, APP_TOKEN, SEAL_SECRET, BEARER, WRONG_BEARER, WRONG_APP_TOKEN]


@pytest.fixture
def upstream(tmp_path):
    """A standalone sandbox on loopback accepting only the distinctive credentials."""
    port = free_port()
    code = ("from vtex_orders_mcp.sandbox.standalone import serve; "
            f"serve(port={port}, orders=100, app_key={APP_KEY!r}, app_token={APP_TOKEN!r})")  # fmt: skip
    proc = Process([sys.executable, "-c", code], clean_env(tmp_path / "sandbox"), tmp_path / "sandbox.log").start()
    base = f"http://127.0.0.1:{port}"
    proc.wait_http(base)
    yield base
    proc.stop()


def production_env(state_dir: Path, base_url: str, app_token: str = APP_TOKEN) -> dict[str, str]:
    return clean_env(state_dir, VTEX_APP_KEY=APP_KEY, VTEX_APP_TOKEN=app_token, VTEX_BASE_URL=base_url,
                     VTEX_ACCOUNT_NAME="leakcheckstore", VTEX_MCP_SECRET=SEAL_SECRET,
                     VTEX_MCP_HTTP_TOKEN=BEARER, VTEX_MAX_RETRIES="1")  # fmt: skip


def inject_500s(base_url: str, path: str) -> None:
    fault = {"kind": "status", "status": 500, "method": "GET", "path": path, "times": 4}
    headers = {"X-VTEX-API-AppKey": APP_KEY, "X-VTEX-API-AppToken": APP_TOKEN}
    httpx2.post(f"{base_url}/_sandbox/faults", json=fault, headers=headers).raise_for_status()


async def approve(ctx, params):
    return types.ElicitResult(action="accept", content={"note": "leak check"})


async def session(c: Client, transcript: list[str]) -> None:
    """Everything an operator's day touches; each result's wire form goes to the transcript."""

    async def call(name: str, args: dict) -> types.CallToolResult:
        result = await c.call_tool(name, args)
        transcript.append(result.model_dump_json(by_alias=True))
        return result

    await call("list_orders", {"per_page": 5})
    assert not (await call("get_order", {"order_id": ORDER})).is_error, transcript[-1]
    await call("get_order_conversation", {"order_id": ORDER})
    await call("get_payment_transaction", {"order_id": ORDER})
    transcript.append((await c.read_resource(f"vtex://orders/{ORDER}")).model_dump_json())
    transcript.append((await c.get_prompt("cancel_order_safely", {"order_id": ORDER})).model_dump_json())
    assert (await call("get_order", {"order_id": "v000000000-01"})).is_error  # 404
    assert (await call("cancel_order", {"order_id": ORDER, "confirm": True})).is_error  # refused arguments
    assert (await call("get_order_conversation", {"order_id": "v000000001-01"})).is_error
    done = await call("cancel_order", {"order_id": ORDER, "reason": "leak check"})
    assert done.structured_content["status"] == "done", transcript[-1]
    await call("cancel_order", {"order_id": ORDER, "reason": "again"})  # refused: already canceled
    assert (await call("check_approval", {"approval_id": "0" * 32})).is_error


def assert_clean(where: str, text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{where} contains {leaked}"


async def test_stdio_session_leaks_nothing(tmp_path, upstream):
    state = tmp_path / "state"
    inject_500s(upstream, r"/conversation-message$")
    stderr_path = tmp_path / "server.stderr"
    transcript: list[str] = []
    params = StdioServerParameters(command=sys.executable, args=["-m", "vtex_orders_mcp", "--log-level", "DEBUG"],
                                   env=production_env(state, upstream))  # fmt: skip
    with open(stderr_path, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), elicitation_callback=approve) as c:
            await session(c, transcript)
    logs = stderr_path.read_text()
    assert "cancel" in logs.lower() and "DEBUG" in logs, "the log capture saw the session"
    assert_clean("server stderr", logs)
    assert_clean("tool results", "\n".join(transcript))
    for f in state.iterdir():
        assert_clean(f"state file {f.name}", f.read_bytes().decode("latin-1"))


async def test_wrong_vtex_credentials_leak_nothing(tmp_path, upstream):
    stderr_path = tmp_path / "server.stderr"
    params = StdioServerParameters(command=sys.executable, args=["-m", "vtex_orders_mcp", "--log-level", "DEBUG"],
                                   env=production_env(tmp_path / "state", upstream, WRONG_APP_TOKEN))  # fmt: skip
    with open(stderr_path, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as c:
            refused = await c.call_tool("get_order", {"order_id": ORDER})
    assert refused.is_error and "403" in refused.content[0].text + stderr_path.read_text()
    assert_clean("403 result", refused.model_dump_json())
    assert_clean("server stderr", stderr_path.read_text())


async def test_http_session_leaks_nothing(tmp_path, upstream, start_http):
    inject_500s(upstream, r"/payment-transaction$")
    # The bearer token comes from VTEX_MCP_HTTP_TOKEN here; the flag (at DEBUG) is the next test.
    srv = start_http(token=None, env=production_env(tmp_path / "unused", upstream), name="leak")
    for token in (None, WRONG_BEARER):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        assert httpx2.post(srv.url, json=init, headers=headers).status_code == 401
    transcript: list[str] = []
    async with http_client(srv.url, BEARER, elicitation_callback=approve) as c:
        await session(c, transcript)
    async with http_client(srv.url, BEARER, mode="legacy") as c:
        first = await c.call_tool("cancel_order", {"order_id": "v000000000-01", "reason": "x"})
        transcript.append(first.model_dump_json())
    logs = srv.log()
    assert "wrong bearer token" in logs and "Terminating session" in logs, "the log capture saw the session"
    assert_clean("server log", logs)
    assert_clean("tool results", "\n".join(transcript))
    for f in srv.state_dir.iterdir():
        assert_clean(f"state file {f.name}", f.read_bytes().decode("latin-1"))


async def test_http_debug_log_with_token_flag(tmp_path, upstream):
    """The bearer token given as a flag (not in Settings) is scrubbed from DEBUG logs too."""
    port = free_port()
    env = production_env(tmp_path / "state", upstream)
    del env["VTEX_MCP_HTTP_TOKEN"]
    proc = Process([*SERVER, "--log-level", "DEBUG", "serve", "--transport", "http", "--port", str(port),
                    "--http-token", BEARER], env, tmp_path / "debug.log").start()  # fmt: skip
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        async with http_client(f"http://127.0.0.1:{port}/mcp", BEARER) as c:
            result = await c.call_tool("get_order", {"order_id": ORDER})
            assert not result.is_error
        httpx2.post(f"http://127.0.0.1:{port}/mcp", json={}, headers={"Authorization": f"Bearer {WRONG_BEARER}"})
    finally:
        proc.stop()
    logs = proc.log()
    assert "DEBUG" in logs
    assert_clean("DEBUG server log", logs)
    assert json.dumps(BEARER) not in logs
