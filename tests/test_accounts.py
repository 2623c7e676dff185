"""Several stores in one server (accounts.py): the accounts file, and accounts kept apart.

Two accounts from one TOML file, each on its own simulated VTEX (two sandboxes with different
seeds, so their orders differ), over one store. An approval, a two-step token or a page link
issued for one account is refused by the other; each account's server lists, reads, completes
and audits only its own. Over HTTP with real processes: tests/e2e/test_multi_store.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, types

from vtex_orders_mcp.accounts import build_accounts, choose, load_accounts
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.errors import ConfigError
from vtex_orders_mcp.http import build_http_app
from vtex_orders_mcp.registry import CHECK_TOOL, CONFIRM_TOOL
from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Sandbox

pytestmark = pytest.mark.anyio

ORDER = "v502556llux-01"  # in every seed: the same id on both stores, two different orders
CANCEL = {"order_id": ORDER, "reason": "customer asked"}
FILE = """
[accounts.storea]
base_url = "http://storea.invalid"
app_key = { env = "A_KEY" }
app_token = { env = "A_TOKEN" }
http_tokens = [{ env = "A_AGENTS" }]

[accounts.storeb]
account_name = "storeb-br"
base_url = "http://storeb.invalid"
app_key = { env = "B_KEY" }
app_token = { env = "B_TOKEN" }
timeout = 5
http_tokens = ["storeb-agents-token-0123456789"]
"""
ENV = {"A_KEY": SANDBOX_APP_KEY, "A_TOKEN": SANDBOX_APP_TOKEN, "B_KEY": SANDBOX_APP_KEY,
       "B_TOKEN": SANDBOX_APP_TOKEN, "A_AGENTS": "storea-agents-token-0123456789"}  # fmt: skip


def _base(tmp_path: Path, text: str = FILE, **overrides: Any) -> Settings:
    (tmp_path / "accounts.toml").write_text(text)
    return Settings.from_env({}, state_dir=tmp_path / "state", config_file=tmp_path / "accounts.toml", **overrides)


def test_the_accounts_file_gives_each_account_its_settings(tmp_path):
    a, b = load_accounts(_base(tmp_path, guard="token"), ENV)
    assert (a.name, a.settings.account, a.settings.vtex_base_url) == ("storea", "storea", "http://storea.invalid")
    assert (b.name, b.settings.account, b.settings.timeout) == ("storeb", "storeb-br", 5.0)
    assert a.settings.app_key.get_secret_value() == SANDBOX_APP_KEY and a.settings.guard == "token"  # shared: guard
    assert a.tokens == {"storea-agents-token-0123456789"} and b.tokens == {"storeb-agents-token-0123456789"}
    assert choose([a, b], "storeb") is b
    with pytest.raises(ConfigError, match=r"several accounts .*--account"):
        choose([a, b], None)


def test_each_store_may_name_its_approvers_and_one_that_does_not_keeps_the_server_s(tmp_path):
    """An agency's stores approve apart: a table's approvers replace the server-wide ones for that
    store only; a store that names none keeps them (never fewer sign-ins than the operator set)."""
    text = FILE.replace('http_tokens = [{ env = "A_AGENTS" }]',
                        'http_tokens = [{ env = "A_AGENTS" }]\napprovers = { env = "A_APPROVERS" }')  # fmt: skip
    env = {**ENV, "A_APPROVERS": "alice:alice-approves-0123456789"}
    server_wide = "ops:ops-approves-0123456789"
    a, b = load_accounts(_base(tmp_path, text, approvers=server_wide), env)
    assert a.settings.approvers.get_secret_value() == "alice:alice-approves-0123456789"
    assert b.settings.approvers.get_secret_value() == server_wide
    with pytest.raises(ConfigError, match=r"\[accounts.storea\]: VTEX_MCP_APPROVERS"):
        load_accounts(_base(tmp_path, text), {**env, "A_APPROVERS": "alice:short"})


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (FILE, {**ENV, "A_TOKEN": ""}, r"\[accounts.storea\]: app_token names the environment variable A_TOKEN"),
        ("[accounts.storea]\napp_secret = 'x'\n", ENV, "unknown key 'app_secret'"),
        ("[accounts.Store_A]\n", ENV, "lowercase letters"),
        ("title = 'x'\n", ENV, r"\[accounts.NAME\] tables"),
        ("[accounts.storea\n", ENV, "not valid TOML"),
        (FILE.replace('"storeb-br"', '"storea"'), ENV, "same VTEX account"),
        ("[accounts.storea]\napp_key = 'k'\n", ENV, r"\[accounts.storea\]: VTEX_APP_KEY is set but VTEX_APP_TOKEN"),
    ],
)
def test_a_wrong_accounts_file_is_refused_naming_where(tmp_path, text, env, message):
    with pytest.raises(ConfigError, match=message) as refused:
        load_accounts(_base(tmp_path, text), env)
    assert SANDBOX_APP_TOKEN not in str(refused.value)


def test_the_single_account_variables_and_a_file_together_are_refused(tmp_path):
    (tmp_path / "accounts.toml").write_text(FILE)
    base = Settings.from_env(
        {"VTEX_ACCOUNT_NAME": "mystore", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"},
        state_dir=tmp_path,
        config_file=tmp_path / "accounts.toml",
    )
    with pytest.raises(
        ConfigError, match="VTEX_ACCOUNT_NAME, VTEX_APP_KEY, VTEX_APP_TOKEN set together with VTEX_MCP_CONFIG"
    ):
        load_accounts(base, ENV)


@pytest.fixture
async def make_stores(tmp_path):
    """``make_stores(**settings)``: two accounts' servers over one store, on two sandboxes (seeds 7, 11)."""
    built: list[Any] = []

    def make(**overrides: Any) -> tuple[dict[str, Any], dict[str, Sandbox], list[Any]]:
        sandboxes = {"storea": Sandbox(seed=7, orders=40), "storeb": Sandbox(seed=11, orders=40)}
        accounts = load_accounts(_base(tmp_path, **overrides), ENV)
        store, apps = build_accounts(accounts, accounts[0].settings, {n: s.transport() for n, s in sandboxes.items()})
        built.append((store, apps))
        return apps, sandboxes, accounts

    yield make
    for store, apps in built:
        for app in apps.values():
            await app.aclose()
        await store.aclose()


@pytest.fixture
def two_stores(make_stores):
    return make_stores()


async def test_an_approval_or_a_token_of_one_account_is_refused_by_the_other(two_stores):
    apps, sandboxes, _ = two_stores
    async with Client(apps["storea"].server) as a, Client(apps["storeb"].server) as b:
        asked = (await a.call_tool("cancel_order", CANCEL)).structured_content
        approval_id = asked["approval"]["id"]
        elsewhere = await b.call_tool(CHECK_TOOL, {"approval_id": approval_id})
        assert elsewhere.is_error and "no such approval" in elsewhere.content[0].text
        assert (await apps["storeb"].guard.approvals.decide(approval_id, approve=True, by="page")).taken is False
        assert apps["storeb"].guard.approvals.key(approval_id) != apps["storea"].guard.approvals.key(approval_id)
        assert (await a.call_tool(CHECK_TOOL, {"approval_id": approval_id})).structured_content["status"] == "pending"
        assert sandboxes["storea"].writes() == [] and sandboxes["storeb"].writes() == []


async def test_a_confirmation_token_of_one_account_is_refused_by_the_other(make_stores):
    apps, sandboxes, _ = make_stores(guard="token")
    async with Client(apps["storea"].server) as a, Client(apps["storeb"].server) as b:
        confirmation = (await a.call_tool("cancel_order", CANCEL)).structured_content["confirmation"]
        refused = await b.call_tool(CONFIRM_TOOL, confirmation)  # the same order id exists on storeb too
        assert refused.is_error and "Not executed" in refused.content[0].text
        assert sandboxes["storeb"].writes() == [] and sandboxes["storea"].writes() == []
        assert not (await a.call_tool(CONFIRM_TOOL, confirmation)).is_error  # on its own account it runs
    assert len(sandboxes["storea"].writes()) == 1 and sandboxes["storeb"].writes() == []


async def test_each_account_lists_reads_completes_and_audits_only_its_own(two_stores):
    apps, sandboxes, _ = two_stores
    only_b = next(o for o in sorted(sandboxes["storeb"].store.orders) if o not in sandboxes["storea"].store.orders)
    async with Client(apps["storea"].server) as a, Client(apps["storeb"].server) as b:
        rows_a = (await a.call_tool("list_orders", {"per_page": 100})).structured_content["orders"]
        assert {r["orderId"] for r in rows_a} <= set(sandboxes["storea"].store.orders)
        assert (await a.call_tool("get_order", {"order_id": only_b})).is_error
        assert (await b.call_tool("get_order", {"order_id": only_b})).structured_content["order"]["orderId"] == only_b
        ref = types.ResourceTemplateReference(uri="vtex://orders/{order_id}")
        done_b = await b.complete(ref, {"name": "order_id", "value": only_b[:6]})
        done_a = await a.complete(ref, {"name": "order_id", "value": only_b[:6]})
        assert only_b in done_b.completion.values and only_b not in done_a.completion.values
        await b.call_tool("cancel_order", CANCEL)  # a row in storeb's audit
        audit_a = await a.read_resource("vtex://audit/recent")
        audit_b = await b.read_resource("vtex://audit/recent")
    assert '"storeb-br"' in audit_b.contents[0].text and '"storeb-br"' not in audit_a.contents[0].text
    assert [r.account for r in await apps["storeb"].store.recent(5)] == ["storeb-br"]


async def test_over_http_each_account_has_its_endpoint_and_a_token_opens_only_its_own(two_stores):
    apps, _, accounts = two_stores
    app = build_http_app(None, token=None, accounts=apps, account_tokens={a.name: a.tokens for a in accounts},
                         store=apps["storea"].store)  # fmt: skip
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
            "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip
    accept = {"Accept": "application/json, text/event-stream", "Host": "127.0.0.1:8000"}
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http,
    ):

        async def post(path: str, token: str | None) -> int:
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            return (await http.post(path, json=init, headers={**accept, **auth})).status_code

        assert await post("/mcp/storea", "storea-agents-token-0123456789") == 200
        assert await post("/mcp/storeb", "storea-agents-token-0123456789") == 403
        assert await post("/mcp/storeb", "storeb-agents-token-0123456789") == 200
        assert await post("/mcp/storea", None) == 401
        assert await post("/mcp", "storea-agents-token-0123456789") == 404


NAMED = FILE.replace(
    'http_tokens = [{ env = "A_AGENTS" }]',
    'http_tokens = [{ env = "A_AGENTS", name = "ana" }, { value = "bruno-agents-token-0123456789", name = "bruno" }]',
)


def test_a_token_may_name_the_person_it_stands_for(tmp_path):
    a, b = load_accounts(_base(tmp_path, NAMED), ENV)
    assert a.tokens == {"storea-agents-token-0123456789", "bruno-agents-token-0123456789"}
    assert a.token_names == {"storea-agents-token-0123456789": "ana", "bruno-agents-token-0123456789": "bruno"}
    assert b.token_names == {}
    twice = NAMED.replace('http_tokens = ["storeb-agents-token-0123456789"]',
                          'http_tokens = [{ env = "A_AGENTS", name = "carla" }]')  # fmt: skip
    with pytest.raises(ConfigError, match="one token stands for one person"):
        load_accounts(_base(tmp_path, twice), ENV)
    with pytest.raises(ConfigError, match="http_tokens name is letters"):
        load_accounts(_base(tmp_path, NAMED.replace('name = "ana"', 'name = "ana smith"')), ENV)


async def test_over_http_a_named_token_is_its_holder_and_four_eyes_keeps_them_out(make_stores):
    # Ana's assistant asks with Ana's token: the approval is hers (http-bearer:ana), Bruno's
    # assistant cannot check it, and a four-eyes rule refuses Ana's own approval on the page.
    approvers = "ana:ana-approver-token-0123,bruno:bruno-approver-token-0123"
    apps, sandboxes, accounts = make_stores(text=NAMED, approvers=approvers, four_eyes="cancel_order")
    from vtex_orders_mcp.accounts import token_names
    from vtex_orders_mcp.guard.principals import person_of

    app = build_http_app(None, token=None, accounts=apps, account_tokens={a.name: a.tokens for a in accounts},
                         store=apps["storea"].store, token_names=token_names(accounts))  # fmt: skip
    base = "http://127.0.0.1:8000"
    async with app.router.lifespan_context(app):

        def http(token: str | None = None) -> httpx2.AsyncClient:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=base, headers=headers)

        async def call(token: str, tool: str, args: dict[str, Any]) -> types.CallToolResult:
            from mcp.client.streamable_http import streamable_http_client

            async with http(token) as hc, Client(streamable_http_client(f"{base}/mcp/storea", http_client=hc)) as c:
                return await c.call_tool(tool, args)

        asked = (await call("storea-agents-token-0123456789", "cancel_order", CANCEL)).structured_content
        assert asked["status"] == "approval_required", asked
        approval_id = asked["approval"]["id"]
        bruno_checks = await call("bruno-agents-token-0123456789", CHECK_TOOL, {"approval_id": approval_id})
        assert bruno_checks.is_error and "no such approval" in bruno_checks.content[0].text
        url = asked["approval"]["url"].replace("http://testserver", base)
        async with http() as page:
            shown = await page.get(url)
            csrf = shown.text.split('name="csrf" value="')[1].split('"')[0]
            form = {"csrf": csrf, "decision": "approve"}
            headers = {"Origin": base}
            ana = await page.post(url, data={**form, "approver": "ana-approver-token-0123"}, headers=headers)
            assert ana.status_code == 403 and "second person" in ana.text
            assert sandboxes["storea"].writes() == []
            bruno = await page.post(url, data={**form, "approver": "bruno-approver-token-0123"}, headers=headers)
        assert bruno.status_code == 200 and len(sandboxes["storea"].writes()) == 1
        records = await apps["storea"].store.recent(10)  # (the app's lifespan closes the store)
    assert {r.principal for r in records if r.event == "approved"} == {"http-bearer:ana"}
    assert person_of("http-bearer:ana") == "ana" and person_of("local") == "local"
