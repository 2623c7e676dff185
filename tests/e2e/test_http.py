"""Streamable HTTP: ``vtex-orders-mcp serve --transport http`` as a process, reached over a socket.

The gates (bearer token 401, foreign Origin 403, foreign Host 421, no token off loopback exit 2)
are checked with plain HTTP requests; the sessions with the SDK's client in both protocol eras,
stateful and stateless.
"""

from __future__ import annotations

import re
import subprocess
import sys

import httpx2
import pytest
from e2e_support import ORDER, SERVER, audit_events, clean_env, http_client, structured
from ports import free_port
from mcp import Client, StdioServerParameters, types
from mcp.client.streamable_http import streamable_http_client

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}},
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def accept(ctx, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={})


def test_gates(start_http):
    srv = start_http(token="gate-token-7f3a")
    good = {**ACCEPT, "Authorization": "Bearer gate-token-7f3a"}

    assert httpx2.get(f"{srv.base}/healthz").text == "ok"

    missing = httpx2.post(srv.url, json=INIT, headers=ACCEPT)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer ")

    wrong = httpx2.post(srv.url, json=INIT, headers={**ACCEPT, "Authorization": "Bearer gate-token-7f3b"})
    assert wrong.status_code == 401
    not_bearer = httpx2.post(srv.url, json=INIT, headers={**ACCEPT, "Authorization": "Basic Z2F0ZQ=="})
    assert not_bearer.status_code == 401

    foreign = httpx2.post(srv.url, json=INIT, headers={**good, "Origin": "http://evil.example"})
    assert foreign.status_code == 403
    rebound = httpx2.post(srv.url, json=INIT, headers={**good, "Host": f"evil.example:{srv.port}"})
    assert rebound.status_code == 421

    own_origin = httpx2.post(srv.url, json=INIT, headers={**good, "Origin": f"http://localhost:{srv.port}"})
    assert own_origin.status_code == 200
    assert "gate-token-7f3a" not in srv.log()


def test_allowed_origin_flag(start_http):
    srv = start_http(extra_args=["--allowed-origin", "https://support.example.com"])
    good = {**ACCEPT, "Authorization": f"Bearer {srv.token}"}
    ok = httpx2.post(srv.url, json=INIT, headers={**good, "Origin": "https://support.example.com"})
    assert ok.status_code == 200
    other = httpx2.post(srv.url, json=INIT, headers={**good, "Origin": "https://support.example.org"})
    assert other.status_code == 403


def test_refuses_non_loopback_without_token(tmp_path):
    out = subprocess.run([*SERVER, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
                         env=clean_env(tmp_path), capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 2
    assert "without a bearer token" in out.stderr and "VTEX_MCP_HTTP_TOKEN" in out.stderr


def test_token_from_environment(start_http):
    srv = start_http(token=None, env={"VTEX_MCP_HTTP_TOKEN": "env-token-55aa"})
    assert httpx2.post(srv.url, json=INIT, headers=ACCEPT).status_code == 401
    ok = httpx2.post(srv.url, json=INIT, headers={**ACCEPT, "Authorization": "Bearer env-token-55aa"})
    assert ok.status_code == 200


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stateful_session_with_elicitation(start_http, mode):
    srv = start_http()
    async with http_client(srv.url, srv.token, mode=mode, elicitation_callback=accept) as c:
        rows = structured(await c.call_tool("list_orders", {"per_page": 5}))["orders"]
        assert 0 < len(rows) <= 5
        assert structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]["status"] == "handling"
        done = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "e2e http"}))
        assert done["status"] == "done"
    events = [(e["event"], e.get("channel"), e.get("principal")) for e in audit_events(srv.state_dir)
              if e["tool"] == "cancel_order"]  # fmt: skip
    executed = [e for e in events if e[0] == "executed"]
    assert executed and executed[0][1] == "elicitation"
    assert executed[0][2] == "http-bearer", "the HTTP caller is the authenticated principal, readable"


async def test_stateless_modern_client_elicits(start_http):
    srv = start_http(stateless=True)
    async with http_client(srv.url, srv.token, mode="auto", elicitation_callback=accept) as c:
        done = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "e2e stateless"}))
        assert done["status"] == "done"


async def approve_on_page(url: str) -> None:
    """A person at the approval page (no bearer token: the link is the capability), approving."""
    async with httpx2.AsyncClient() as http:
        page = await http.get(url)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        origin = {"Origin": url.split("/approvals/")[0]}
        decided = await http.post(url, data={"csrf": csrf, "decision": "approve"}, headers=origin)
        assert "sent to VTEX" in decided.text, decided.text


async def test_stateless_legacy_client_gets_the_approval_page(start_http):
    """Legacy stateless HTTP carries no client capabilities: the guard neither crashes nor elicits;
    the answer links to the page this very server serves, at the host the request came to."""
    srv = start_http(stateless=True)
    async with http_client(srv.url, srv.token, mode="legacy", elicitation_callback=accept) as c:
        first = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "e2e stateless"}))
        assert first["status"] == "approval_required" and first["channel"] == "page"
        assert first["approval"]["url"].startswith(srv.url.removesuffix("/mcp") + "/approvals/")
        assert structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]["status"] == "handling"
        await approve_on_page(first["approval"]["url"])
        done = structured(await c.call_tool("check_approval", {"approval_id": first["approval"]["id"]}))
        assert done["status"] == "done"


async def test_http_token_is_bound_to_the_http_caller(start_http):
    """A confirmation minted for the HTTP principal is refused to a local stdio client."""
    srv = start_http(env={"VTEX_MCP_GUARD": "token"})
    async with http_client(srv.url, srv.token) as c:
        first = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "bound"}))
    params = StdioServerParameters(command=sys.executable, args=["-m", "vtex_orders_mcp"],
                                   env=clean_env(srv.state_dir, VTEX_MCP_GUARD="token"))  # fmt: skip
    async with Client(params) as local:
        refused = await local.call_tool("confirm_write", first["confirmation"])
    assert refused.is_error and "another client" in refused.content[0].text


class RoundRobin(httpx2.AsyncBaseTransport):
    """A load balancer in miniature: each request goes to the next replica (URL and Host rewritten)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.sent = 0
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = self.ports[self.sent % len(self.ports)]
        self.sent += 1
        request.url = request.url.copy_with(port=port)
        request.headers["Host"] = f"127.0.0.1:{port}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def replicas(start_http, n: int = 2, state_dir=None, **env: str):
    shared = {"VTEX_MCP_SECRET": "replica-shared-secret-0123456789", **env}
    return [start_http(stateless=True, env=shared, name=f"replica{i}", state_dir=state_dir) for i in range(n)]


async def test_an_approval_asked_on_one_replica_is_decided_on_another(start_http, tmp_path):
    """Replicas sharing the secret and the store: the link one replica gave works on the other."""
    a, b = replicas(start_http, state_dir=tmp_path / "shared-state")
    async with http_client(a.url, a.token, mode="legacy") as c:
        first = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "replicas"}))
    url = first["approval"]["url"].replace(f":{a.port}/", f":{b.port}/")
    await approve_on_page(url)
    async with http_client(b.url, b.token, mode="legacy") as c:
        done = structured(await c.call_tool("check_approval", {"approval_id": first["approval"]["id"]}))
    assert done["status"] == "done"


async def test_two_step_token_across_stateless_replicas(start_http):
    """A confirmation minted by one replica is redeemed by another (shared VTEX_MCP_SECRET)."""
    a, b = replicas(start_http, VTEX_MCP_GUARD="token")
    balancer = RoundRobin([a.port, b.port])
    headers = {"Authorization": f"Bearer {a.token}"}
    async with (
        httpx2.AsyncClient(transport=balancer, headers=headers, timeout=30.0) as hc,
        Client(streamable_http_client(a.url, http_client=hc), mode="legacy") as c,
    ):
        first = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "replicas"}))
        assert first["status"] == "approval_required"
        done = structured(await c.call_tool("confirm_write", first["confirmation"]))
        assert done["status"] == "done"
    assert balancer.sent >= 3


async def test_elicitation_across_stateless_replicas(start_http):
    a, b = replicas(start_http)
    balancer = RoundRobin([a.port, b.port])
    headers = {"Authorization": f"Bearer {a.token}"}
    async with (
        httpx2.AsyncClient(transport=balancer, headers=headers, timeout=30.0) as hc,
        Client(streamable_http_client(a.url, http_client=hc), elicitation_callback=accept) as c,
    ):
        done = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "replicas"}))
        assert done["status"] == "done"


def test_allow_lists_for_other_binds():
    from vtex_orders_mcp.errors import ConfigError
    from vtex_orders_mcp.http import check_bind, is_loopback, transport_security

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("mcp.example.com")
    six = transport_security("::1", 9000, [])
    assert "[::1]:9000" in six.allowed_hosts and "http://[::1]:9000" in six.allowed_origins
    lan = transport_security("10.0.0.5", 9000, ["https://mcp.example.com"])
    assert lan.allowed_hosts == ["10.0.0.5:9000", "mcp.example.com"]
    assert "localhost:9000" not in lan.allowed_hosts
    with pytest.raises(ConfigError):
        transport_security("127.0.0.1", 9000, ["mcp.example.com"])
    with pytest.raises(ConfigError):
        check_bind("10.0.0.5", None)
    with pytest.raises(ConfigError, match="shorter than 16"):  # reachable from elsewhere: a real token
        check_bind("10.0.0.5", "a-token")
    check_bind("10.0.0.5", "a-token-of-16-chars")
    check_bind("127.0.0.1", None)
    check_bind("127.0.0.1", "short")  # loopback: the machine's own users
