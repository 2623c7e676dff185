"""Two stores behind one server, as processes: two standalone sandboxes (seeds 7 and 11, so their
orders differ) as two VTEX accounts, and one ``serve --transport http --config accounts.toml``
whose file reads the credentials and the agents' bearer tokens from the environment
(docs/deploy.md). Each endpoint lists and reads only its own orders; an approval of account A is
refused on B; a token scoped to A does not open B.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from e2e_support import ORDER, SERVER, Process, clean_env, http_client, structured
from ports import free_port

from vtex_orders_mcp.registry import CHECK_TOOL
from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SANDBOX_HEADERS = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}
TOKENS = {"storea": "storea-agents-0123456789", "storeb": "storeb-agents-0123456789"}
ACCOUNTS = """
[accounts.{name}]
base_url = "{url}"
app_key = {{ env = "VTEX_KEY" }}
app_token = {{ env = "VTEX_TOKEN" }}
http_tokens = [{{ env = "{name}_AGENTS" }}]
"""


@dataclass
class Stores:
    base: str
    sandboxes: dict[str, str]
    config: Path
    env: dict[str, str]

    def mcp(self, name: str) -> str:
        return f"{self.base}/mcp/{name}"

    def orders(self, name: str) -> set[str]:
        got = httpx2.get(f"{self.sandboxes[name]}/api/oms/pvt/orders", params={"per_page": 100},
                         headers=SANDBOX_HEADERS, timeout=10).json()  # fmt: skip
        return {row["orderId"] for row in got["list"]}

    def writes(self, name: str) -> list[dict[str, Any]]:
        log = httpx2.get(f"{self.sandboxes[name]}/_sandbox/requests", headers=SANDBOX_HEADERS, timeout=10).json()
        return [r for r in log if r["method"] != "GET"]


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> Iterator[Stores]:
    tmp = tmp_path_factory.mktemp("accounts")
    ports = {"storea": free_port(), "storeb": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    processes = []
    for name, seed in (("storea", "7"), ("storeb", "11")):
        args = [*SERVER, "sandbox", "--port", str(ports[name]), "--orders", "60", "--seed", seed]
        processes.append(Process(args, clean_env(tmp / name), tmp / f"sandbox-{name}.log").start())
    config = tmp / "accounts.toml"
    config.write_text("".join(ACCOUNTS.format(name=name, url=url) for name, url in urls.items()))
    port = free_port()
    env = clean_env(tmp / "state", VTEX_KEY=SANDBOX_APP_KEY, VTEX_TOKEN=SANDBOX_APP_TOKEN,
                    storea_AGENTS=TOKENS["storea"], storeb_AGENTS=TOKENS["storeb"])  # fmt: skip
    server = Process([*SERVER, "serve", "--transport", "http", "--port", str(port), "--config", str(config)],
                     env, tmp / "server.log").start()  # fmt: skip
    processes.append(server)
    try:
        for name, proc in zip(urls, processes, strict=False):
            proc.wait_http(f"{urls[name]}/_sandbox/clock")
        server.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield Stores(f"http://127.0.0.1:{port}", urls, config, env)
    finally:
        for proc in processes:
            proc.stop()
        assert all(token not in server.log() for token in TOKENS.values())


async def test_each_endpoint_lists_and_reads_only_its_own_orders(stores):
    a_orders, b_orders = stores.orders("storea"), stores.orders("storeb")
    only_b = sorted(b_orders - a_orders)[0]
    async with http_client(stores.mcp("storea"), TOKENS["storea"]) as a:
        listed = structured(await a.call_tool("list_orders", {"per_page": 100}))["orders"]
        assert {r["orderId"] for r in listed} == a_orders
        missing = await a.call_tool("get_order", {"order_id": only_b})
        assert missing.is_error and "not found" in missing.content[0].text.lower()
    async with http_client(stores.mcp("storeb"), TOKENS["storeb"]) as b:
        listed = structured(await b.call_tool("list_orders", {"per_page": 100}))["orders"]
        assert {r["orderId"] for r in listed} == b_orders
        assert structured(await b.call_tool("get_order", {"order_id": only_b}))["order"]["orderId"] == only_b
    assert httpx2.get(f"{stores.base}/readyz", timeout=10).text == "ready"


async def test_an_approval_of_one_account_is_refused_on_the_other(stores):
    async with http_client(stores.mcp("storea"), TOKENS["storea"]) as a:
        asked = structured(await a.call_tool("cancel_order", {"order_id": ORDER, "reason": "account a"}))
    approval_id, url = asked["approval"]["id"], asked["approval"]["url"]
    assert url.startswith(f"{stores.base}/approvals/storea/")
    async with http_client(stores.mcp("storeb"), TOKENS["storeb"]) as b:
        elsewhere = await b.call_tool(CHECK_TOOL, {"approval_id": approval_id})
    assert elsewhere.is_error and "no such approval" in elsewhere.content[0].text
    async with httpx2.AsyncClient(timeout=30) as http:
        page = await http.get(url)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        on_b = url.replace("/approvals/storea/", "/approvals/storeb/")
        assert (await http.get(on_b)).status_code == 404
        refused = await http.post(on_b, data={"csrf": csrf, "decision": "approve"}, headers={"Origin": stores.base})
        assert refused.status_code == 404
        assert stores.writes("storea") == [] and stores.writes("storeb") == []
        done = await http.post(url, data={"csrf": csrf, "decision": "approve"}, headers={"Origin": stores.base})
        assert "sent to VTEX" in done.text
    assert [w["path"] for w in stores.writes("storea")] == [f"/api/oms/pvt/orders/{ORDER}/cancel"]
    assert stores.writes("storeb") == []


def test_a_token_opens_only_its_own_account(stores):
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
            "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}  # fmt: skip
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

    def post(name: str, token: str) -> int:
        headers = {**accept, "Authorization": f"Bearer {token}"}
        return httpx2.post(stores.mcp(name), json=init, headers=headers, timeout=10).status_code

    assert post("storea", TOKENS["storea"]) == 200 and post("storeb", TOKENS["storeb"]) == 200
    assert post("storeb", TOKENS["storea"]) == 403 and post("storea", TOKENS["storeb"]) == 403
    assert post("storea", "not-a-token-0123456789") == 401


async def test_over_stdio_the_chosen_account_is_served(stores, tmp_path):
    """``serve --config FILE --account storeb`` over stdio: one server, the chosen store's orders."""
    env = {**stores.env, "VTEX_MCP_STATE_DIR": str(tmp_path / "stdio-state")}
    params = StdioServerParameters(command=SERVER[0], args=[*SERVER[1:], "serve", "--config", str(stores.config),
                                                            "--account", "storeb"], env=env)  # fmt: skip
    async with Client(params) as b:
        listed = structured(await b.call_tool("list_orders", {"per_page": 100}))["orders"]
    assert {r["orderId"] for r in listed} == stores.orders("storeb") != stores.orders("storea")
