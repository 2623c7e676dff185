"""What the tool list costs a model's context, as budgets a change must not silently exceed.

Token counts are deterministic (o200k_base over the compact wire JSON, as bench/sizes.py
measures them), so unlike speed they can be tests. The budgets sit a little above today's
figures (BENCHMARKS.md): a new field description or a longer tool description that pushes the
list past them has to raise the budget here, in review, with a reason.
"""

from __future__ import annotations

import json
import re

import pytest
from bpe_openai import get_encoding
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import REGISTRY
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

ENC = get_encoding("o200k_base")
WHOLE_LIST = (
    8_100  # 7,568 today (the tools array; 7,614 as the whole result); the peer lists the same operations in 8,380
)
MODEL_VISIBLE = 4_450  # name + description + inputSchema: half the peer's 8,900; 4,447 today
SUPPORT_DESK = 4_000  # orders, conversation, payment, invoice toolsets: 3,262 today
PER_TOOL = 450  # the largest tool (invoice_order) is 394 today


def tokens(data) -> int:
    return len(ENC.encode(json.dumps(data, ensure_ascii=False, separators=(",", ":"))))


async def wire_tools(tmp_path, **settings) -> list[dict]:
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=10, **settings))
    async with Client(app.server, cache=None) as client:
        listed = await client.list_tools()
    return listed.model_dump(by_alias=True, mode="json", exclude_none=True)["tools"]


async def test_whole_tool_list_stays_within_budget(tmp_path):
    tools = await wire_tools(tmp_path)
    assert tokens({"tools": tools}) <= WHOLE_LIST
    visible = [{k: t[k] for k in ("name", "description", "inputSchema")} for t in tools]
    assert tokens(visible) <= MODEL_VISIBLE
    largest = max(tools, key=tokens)
    assert tokens(largest) <= PER_TOOL, largest["name"]


async def test_support_desk_toolsets_fit_in_4000_tokens(tmp_path):
    desk = frozenset({"orders", "conversation", "payment", "invoice"})
    tools = await wire_tools(tmp_path, toolsets=desk)
    _, listed = REGISTRY.tool_names(read_only=False, toolsets=desk)
    assert {t["name"] for t in tools} == listed
    assert tokens({"tools": tools}) <= SUPPORT_DESK


async def test_descriptions_are_one_to_three_sentences(tmp_path):
    for tool in await wire_tools(tmp_path):
        sentences = [s for s in tool["description"].replace("e.g.", "eg").split(". ") if s.strip()]
        assert 1 <= len(sentences) <= 3, tool["name"]
        assert len(ENC.encode(tool["description"])) <= 40, tool["name"]


# Tools a model confuses, and the neighbour each one's description must send it to instead.
NEIGHBOURS = {
    "get_order": "list_orders",
    "list_orders": "get_order",
    "get_user_order": "get_order",
    "list_user_orders": "list_orders",
    "get_order_change_summary": "get_order_modification_history",
    "register_order_changes": "create_order_modification",
    "create_order_modification": "preview_order_modification",
    "cancel_order": "invoice_order",
    "get_feed_v2_status": "get_feed_items",
    "get_order_modification": "get_order_modification_history",
    "cancel_order_modification": "cancel_order",
    "add_order_interaction": "get_order_conversation",
    "update_invoice_tracking": "update_tracking_status",
    "update_tracking_status": "update_invoice_tracking",
    "get_feed_items": "commit_feed_items",
}


async def test_descriptions_say_when_to_use_a_neighbour_instead(tmp_path):
    described = {t["name"]: t["description"] for t in await wire_tools(tmp_path)}
    for tool, neighbour in NEIGHBOURS.items():
        assert neighbour in described[tool], (tool, neighbour)


async def test_descriptions_cite_no_order_ids(tmp_path):
    """An id in a description is some store's, never the user's (get_order_group once cited a
    group that was not even the example order's): descriptions explain shapes in words."""
    order_like = re.compile(r"\b(?:[A-Za-z0-9]+-[0-9]{2}|seq[0-9]+|v[0-9]{5,}[a-z]+)\b")
    for tool in await wire_tools(tmp_path):
        assert not order_like.search(tool["description"]), tool["name"]
