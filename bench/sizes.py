"""What the model reads: the size of tools/list and of one get_order answer, in bytes and tokens.

Both are measured on the wire result an in-process SDK client receives from the real server (on
the embedded sandbox): tools/list as the compact JSON of ``ListToolsResult`` (camelCase, no
nulls), the way it travels; get_order as the text content (what a model is shown) and the
structuredContent of the seed order v502556llux-01, next to the raw pretty-printed order document
that servers which pass VTEX's JSON through return. Tokens are o200k_base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import compact, pretty, size, tokens
from mcp import Client

SEED_ORDER = "v502556llux-01"
# The toolsets a support desk's assistant needs (VTEX_MCP_TOOLSETS): no feed, hook, modifications,
# checkout or customer-side tools.
SUPPORT_DESK = frozenset({"orders", "conversation", "payment", "invoice"})


async def measure(state_dir: Path, *, top: int = 5) -> dict[str, Any]:
    from vtex_orders_mcp.config import Settings
    from vtex_orders_mcp.registry import BY_NAME
    from vtex_orders_mcp.models import GetOrder
    from vtex_orders_mcp.server import build_server

    app = build_server(Settings.from_env({}, state_dir=state_dir, sandbox_orders=10))
    try:
        async with Client(app.server, cache=None) as client:
            listed = await client.list_tools()
            answer = await client.call_tool("get_order", {"order_id": SEED_ORDER})
            full = await client.call_tool("get_order", {"order_id": SEED_ORDER, "view": "full"})
            reads = await _reads(app, client)
        raw = await app.client.call(BY_NAME["get_order"], GetOrder(order_id=SEED_ORDER))
    finally:
        await app.aclose()
    if answer.is_error or full.is_error:
        raise RuntimeError(f"get_order failed: {answer.content}")
    desk = build_server(Settings.from_env({}, state_dir=state_dir, sandbox_orders=10, toolsets=SUPPORT_DESK))
    try:
        async with Client(desk.server, cache=None) as client:
            desk_listed = await client.list_tools()
    finally:
        await desk.aclose()
    tools_list = _tools_list(listed, top)
    tools_list["support_desk"] = {
        "toolsets": sorted(SUPPORT_DESK),
        "tools": len(desk_listed.tools),
        **size(compact(desk_listed.model_dump(by_alias=True, mode="json", exclude_none=True))),
    }
    return {"tools_list": tools_list, "get_order": _get_order(answer, full, raw), "reads": reads}


# The support agent's other reads: the tool's answer (text content, what the model is shown)
# against VTEX's own JSON for the same call, as a server passing it through would return it.
# Conversation and payment are read for the newest order (the seed order has no e-mails).
async def _reads(app: Any, client: Client) -> list[dict[str, Any]]:
    from vtex_orders_mcp.registry import BY_NAME

    newest = (await client.call_tool("list_orders", {"per_page": 1})).structured_content["orders"][0]["orderId"]
    calls = (
        ("list_orders", {}),
        ("get_order_group", {"order_group": "v502556lspt"}),  # the seed order's purchase
        ("get_order_conversation", {"order_id": newest}),
        ("get_payment_transaction", {"order_id": newest}),
    )
    rows = []
    for name, arguments in calls:
        op = BY_NAME[name]
        answer = await client.call_tool(name, arguments)
        if answer.is_error:
            raise RuntimeError(f"{name} failed: {answer.content}")
        text = "".join(getattr(block, "text", "") for block in answer.content)
        raw = await app.client.call(op, op.args.model_validate(arguments))
        rows.append({"tool": name, "arguments": arguments, "answer": size(text), "raw_pretty": size(pretty(raw))})
    return rows


def _tools_list(listed: Any, top: int) -> dict[str, Any]:
    wire = listed.model_dump(by_alias=True, mode="json", exclude_none=True)
    tools = wire["tools"]
    per_tool = sorted(
        ({"name": t["name"], **size(compact(t))} for t in tools), key=lambda row: row["tokens"], reverse=True
    )
    # Where the tokens go, summed over all tools (each field measured as its own compact JSON).
    by_field: dict[str, int] = {}
    for tool in tools:
        for key, value in tool.items():
            by_field[key] = by_field.get(key, 0) + tokens(compact(value))
    # What clients put into the model's context: Claude Desktop and Claude Code, like the chat APIs
    # they call, send each tool's name, description and input schema; title, annotations, _meta
    # and outputSchema stay with the client.
    model_visible = [{k: t[k] for k in ("name", "description", "inputSchema") if k in t} for t in tools]
    # The same list with every inputSchema emptied: what the metadata the tools must carry (title,
    # description, the four annotation hints, _meta.vtex, outputSchema) costs before any typing.
    untyped = {**wire, "tools": [{**t, "inputSchema": {"type": "object"}} for t in tools]}
    return {
        "tools": len(tools),
        "compact": size(compact(wire)),
        "model_visible": size(compact(model_visible)),
        "without_input_typing": size(compact(untyped)),
        "pretty": size(pretty(wire)),
        "top_tools": per_tool[:top],
        "tokens_by_field": dict(sorted(by_field.items(), key=lambda kv: kv[1], reverse=True)),
    }


def _get_order(answer: Any, full: Any, raw: Any) -> dict[str, Any]:
    text = "".join(getattr(block, "text", "") for block in answer.content)
    full_text = "".join(getattr(block, "text", "") for block in full.content)
    return {
        "order_id": SEED_ORDER,
        "text": size(text),
        "structured": size(compact(answer.structured_content)),
        "full_view_text": size(full_text),
        "raw_pretty": size(pretty(raw)),
        "raw_compact": size(compact(raw)),
    }
