"""Toolsets: an operator lists only some groups of tools; everything that names tools follows.

tools/list, the guard's own tools, the prompts and the status reference all derive from one rule
(``registry.offered``), so a limited server never points the model at a tool it does not have.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client

from vtex_orders_mcp.cli import build_parser, settings_from
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.errors import ConfigError
from vtex_orders_mcp.registry import OPERATIONS, REGISTRY, TOOLSETS
from vtex_orders_mcp.resources import STATUS_REFERENCE_URI
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

SUPPORT_DESK = "orders,conversation,payment,invoice"


def test_every_operation_belongs_to_a_declared_toolset_and_each_toolset_has_tools():
    assert {op.group for op in OPERATIONS} == set(TOOLSETS)
    assert REGISTRY.offered(read_only=False, toolsets=None) == OPERATIONS


def test_environment_and_flag(tmp_path, monkeypatch):
    s = Settings.from_env({"VTEX_MCP_TOOLSETS": " orders, invoice ,"}, state_dir=tmp_path)
    assert s.toolsets == {"orders", "invoice"}
    assert Settings.from_env({"VTEX_MCP_TOOLSETS": ""}, state_dir=tmp_path).toolsets is None
    monkeypatch.setenv("VTEX_MCP_TOOLSETS", "feed")
    monkeypatch.setenv("VTEX_MCP_STATE_DIR", str(tmp_path))
    ns = build_parser().parse_args(["serve", "--toolsets", "orders,hook"])
    assert settings_from(ns).toolsets == {"orders", "hook"}  # the flag wins over the variable


@pytest.mark.parametrize(
    ("value", "message"),
    [("orders,invoices", "unknown toolset invoices; allowed: orders, modifications, invoice"), (",", "is empty")],
)
def test_unknown_or_empty_toolsets_are_refused_naming_the_allowed_ones(tmp_path, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"VTEX_MCP_TOOLSETS": value}, state_dir=tmp_path)


async def test_tools_list_holds_exactly_the_chosen_toolsets(tmp_path):
    app = build_server(Settings.from_env({"VTEX_MCP_TOOLSETS": SUPPORT_DESK}, state_dir=tmp_path, sandbox_orders=40))
    async with Client(app.server) as c:
        listed = {t.name for t in (await c.list_tools()).tools}
    expected = {op.name for op in OPERATIONS if op.group in SUPPORT_DESK.split(",")}
    assert listed == expected | {"check_approval"}
    assert {"get_order", "cancel_order", "invoice_order", "get_order_conversation"} <= listed
    assert not listed & {"set_hook_config", "get_feed_items", "create_order_modification"}


async def test_read_only_toolsets_have_no_confirm_step(tmp_path):
    app = build_server(
        Settings.from_env({"VTEX_MCP_TOOLSETS": "conversation,user"}, state_dir=tmp_path, sandbox_orders=40)
    )
    async with Client(app.server) as c:
        listed = {t.name for t in (await c.list_tools()).tools}
    assert listed == {"get_order_conversation", "list_user_orders", "get_user_order"}


async def test_confirm_write_refuses_a_write_outside_the_toolsets(tmp_path):
    """A confirmation for a tool this server does not list is refused, even with a valid token."""
    full = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=40, guard="token"))
    async with Client(full.server) as c:
        asked = await c.call_tool("delete_hook_config", {})
        confirmation = asked.structured_content["confirmation"]
    limited = build_server(
        Settings.from_env({"VTEX_MCP_TOOLSETS": "orders"}, state_dir=tmp_path, sandbox_orders=40, guard="token")
    )
    async with Client(limited.server) as c:
        result = await c.call_tool("confirm_write", confirmation)
    assert result.is_error and "not a write tool of this server" in result.content[0].text
    assert limited.sandbox.writes() == []


async def test_prompts_and_status_reference_follow_the_toolsets(tmp_path):
    app = build_server(
        Settings.from_env({"VTEX_MCP_TOOLSETS": "orders,conversation"}, state_dir=tmp_path, sandbox_orders=40)
    )
    async with Client(app.server) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        prompts = {p.name: p for p in (await c.list_prompts()).prompts}
        reference = json.loads((await c.read_resource(STATUS_REFERENCE_URI)).contents[0].text)
        for name in prompts:
            args = {a.name: "v502556llux-01" for a in prompts[name].arguments or [] if a.required}
            text = " ".join(m.content.text for m in (await c.get_prompt(name, args)).messages
                            if hasattr(m.content, "text"))  # fmt: skip
            named = {op.name for op in OPERATIONS if op.name in text}
            assert named <= tools, f"{name} names {named - tools}"
    assert prompts, "the order workflows that need only these tools are still offered"
    allowed = {t for s in reference["statuses"] for t in s["allows"]}
    assert allowed and allowed <= tools
    assert "invoice_order" not in allowed  # VTEX allows it for handling orders, this server does not list it


async def test_the_status_reference_text_agrees_with_its_json_on_a_read_only_server(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=40, read_only=True))
    async with Client(app.server) as c:
        both = (await c.read_resource(STATUS_REFERENCE_URI)).contents
    data, text = json.loads(both[0].text), both[1].text
    assert all(s["allows"] == [] for s in data["statuses"])
    per_status = text.split("Also:")[0]  # the general conditions after it name tools by design
    assert "Allows: no action (read only)." in per_status
    assert "cancel_order" not in per_status and "invoice_order" not in per_status
