"""What the tool list costs a model's context, as budgets a change must not silently exceed.

Token counts are deterministic (o200k_base over the compact wire JSON, as bench/sizes.py
measures them), so unlike speed they can be tests. The budgets sit a little above today's
figures (BENCHMARKS.md): a new field description or a longer tool description that pushes the
list past them has to raise the budget here, in review, with a reason.
"""

from __future__ import annotations

import json

import pytest
from bpe_openai import get_encoding
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import REGISTRY
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

ENC = get_encoding("o200k_base")
WHOLE_LIST = 8_100  # 8,078 today; the best-known peer lists the same operations in 8,380
MODEL_VISIBLE = 4_950  # name + description + inputSchema, 4,926 today
SUPPORT_DESK = 4_000  # orders, conversation, payment, invoice toolsets: 3,456 today
PER_TOOL = 450  # the largest tool (list_orders, with whole_range) is 437 today


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
