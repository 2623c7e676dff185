"""The layout holds: operations carry their own behaviour, and a new one reaches every consumer.

- No module of the server outside the registry holds a string equal to a tool name: anything
  specific to one operation is declared on it (registry/catalog.py).
- A throwaway operation, added only to a registry given to ``build_server``, is listed as a tool,
  guarded, snapshotted and documented with no other edit.
- The views stay readable: no function above cyclomatic complexity 15.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import httpx2
import jsonschema
import pytest
from mcp import Client, types
from pydantic import Field

from vtex_orders_mcp import models as m
from vtex_orders_mcp import views
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.docs import tool_table
from vtex_orders_mcp.registry import CARD_TOOL, CHECK_TOOL, CONFIRM_TOOL, OPERATIONS, Example, Operation, Registry
from vtex_orders_mcp.schemas import render, write_snapshots
from vtex_orders_mcp.server import build_server

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "vtex_orders_mcp"
SEED = "v502556llux-01"


def _python_files(*, exclude: str) -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if exclude not in p.relative_to(PACKAGE).parts]


def test_no_tool_name_literal_outside_the_registry():
    names = {op.name for op in OPERATIONS} | {CONFIRM_TOOL}
    found = []
    for path in _python_files(exclude="registry"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert not found, "per-operation behaviour belongs on the Operation (registry/catalog.py):\n" + "\n".join(found)


# --- a throwaway operation ------------------------------------------------------------------------


class FlagOrder(m.Args):
    order_id: m.OrderId
    message: str = Field(min_length=1, max_length=40, description="a word for the support team")
    source: str = Field("support flag", max_length=40)


class OrderBrief(m.Args):
    order_id: m.OrderId


FLAG = Operation(
    name="flag_order", title="Flag order", method="POST", path="/api/oms/pvt/orders/{orderId}/interactions",
    args=FlagOrder, kind="write", group="orders", order_arg="order_id", answers_document=False,
    summary=lambda args, order, money: f"flag: {args.message}",
    description="Put a flag on an order for the support team (a note in its interaction log).",
    example=Example({"order_id": SEED, "message": "vip"}),
)  # fmt: skip
BRIEF = Operation(
    name="get_order_brief", title="Get order brief", method="GET", path="/api/oms/pvt/orders/{orderId}",
    args=OrderBrief, kind="read", group="orders", view=views.ORDER,
    description="The order, compact, by order_id.", example=Example({"order_id": SEED}),
)  # fmt: skip
EXTENDED = Registry((*OPERATIONS, BRIEF, FLAG))


@pytest.fixture
def app(tmp_path):
    return build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=40), registry=EXTENDED)


@pytest.mark.anyio
async def test_a_new_operation_is_listed_and_read(app):
    async with Client(app.server) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        brief = await c.call_tool("get_order_brief", {"order_id": SEED})
    assert {"get_order_brief", "flag_order", CHECK_TOOL} <= set(tools)
    flag = tools["flag_order"]
    assert flag.annotations.read_only_hint is False and flag.annotations.destructive_hint is False
    assert flag.meta == {"vtex": {"method": "POST", "path": "/api/oms/pvt/orders/{orderId}/interactions"}}
    assert (
        flag.input_schema["required"] == ["order_id", "message"] and flag.input_schema["additionalProperties"] is False
    )
    jsonschema.validate({"order_id": SEED, "message": "vip"}, flag.input_schema)
    assert tools["get_order_brief"].annotations.read_only_hint is True
    assert not brief.is_error and brief.structured_content["order"]["orderId"] == SEED


@pytest.mark.anyio
async def test_a_new_write_is_guarded_by_both_channels(app):
    asked: list[str] = []

    async def approve(ctx, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={})

    async with Client(app.server) as plain:  # no elicitation: the approval page, nothing sent until approved
        pending = await plain.call_tool("flag_order", {"order_id": SEED, "message": "vip"})
        assert pending.structured_content["status"] == "approval_required"
        assert app.sandbox.writes() == []
        url = pending.structured_content["approval"]["url"]
        async with httpx2.AsyncClient() as http:
            page = await http.get(url)
            assert "flag: vip" in page.text
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            origin = {"Origin": url.split("/approvals/")[0]}
            await http.post(url, data={"csrf": csrf, "decision": "approve"}, headers=origin)
        done = await plain.call_tool(CHECK_TOOL, {"approval_id": pending.structured_content["approval"]["id"]})
        assert done.structured_content["status"] == "done", done.content
    assert [w.route for w in app.sandbox.writes()] == ["POST /api/oms/pvt/orders/{orderId}/interactions"]
    app.sandbox.clear_log()
    async with Client(app.server, elicitation_callback=approve) as asking:
        done = await asking.call_tool("flag_order", {"order_id": SEED, "message": "urgent"})
    assert done.structured_content["status"] == "done"
    assert len(asked) == 1 and "Flag order v502556llux-01 — handling" in asked[0] and "flag: urgent" in asked[0]
    assert len(app.sandbox.writes()) == 1
    events = [r.event for r in reversed(await app.store.recent(20)) if r.tool == "flag_order"]
    assert events[-4:] == ["requested", "approved", "executing", "executed"]


@pytest.mark.anyio
async def test_a_new_operation_gets_a_schema_snapshot_and_a_docs_row(app, tmp_path):
    async with Client(app.server) as c:
        tools = await app.server.list_tools()
    written = write_snapshots(tools, tmp_path / "schemas")
    assert {p.stem for p in written} == {op.name for op in EXTENDED} | {CHECK_TOOL, CARD_TOOL}
    snapshot = json.loads((tmp_path / "schemas" / "flag_order.json").read_text())
    assert snapshot["inputSchema"]["properties"]["message"]["maxLength"] == 40
    assert render(next(t for t in tools if t.name == "flag_order")).endswith("\n")
    table = tool_table(EXTENDED)
    assert "| `flag_order` | `POST /api/oms/pvt/orders/{orderId}/interactions` | write (guarded) | orders |" in table
    assert "`get_order_brief`" in table
    del c


def test_a_registry_refuses_inconsistent_operations():
    with pytest.raises(ValueError, match="duplicate"):
        Registry((*OPERATIONS, OPERATIONS[0]))
    with pytest.raises(ValueError, match="not a toolset"):
        Registry((*OPERATIONS, Operation(**{**FLAG.__dict__, "group": "nowhere"})))
    with pytest.raises(ValueError, match="must be a read"):
        Registry(OPERATIONS, order_read="cancel_order")


# --- views stay readable --------------------------------------------------------------------------

_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.ExceptHandler, ast.With, ast.AsyncWith,
             ast.Assert, ast.comprehension, ast.match_case)  # fmt: skip


def complexity(fn: ast.AST) -> int:
    """McCabe's number as radon counts it: 1, plus one per branch, loop, handler, comprehension
    (and each of its conditions) and boolean operator."""
    score = 1
    for node in ast.walk(fn):
        if isinstance(node, _BRANCHES):
            score += 1
            if isinstance(node, ast.comprehension):
                score += len(node.ifs)
        elif isinstance(node, ast.BoolOp):
            score += len(node.values) - 1
    return score


def test_no_view_function_is_above_complexity_15():
    over = []
    for path in (PACKAGE / "views").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and complexity(node) > 15:
                over.append(f"views/{path.name}: {node.name} ({complexity(node)})")
    assert not over, over


def _imported(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``import from`` in ``path`` names."""
    if not node.level:
        return node.module or ""
    package = ["vtex_orders_mcp", *path.relative_to(PACKAGE).parent.parts]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def test_the_sandbox_imports_nothing_of_the_server():
    """It is the independent check of the server: it implements VTEX's rules on its own."""
    leaks = []
    for path in (PACKAGE / "sandbox").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = _imported(path, node)
                if module.startswith("vtex_orders_mcp") and not module.startswith("vtex_orders_mcp.sandbox"):
                    leaks.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {module}")
            elif isinstance(node, ast.Import):
                leaks += [
                    f"{path.relative_to(PACKAGE)}:{node.lineno}: {a.name}"
                    for a in node.names
                    if a.name.startswith("vtex_orders_mcp") and not a.name.startswith("vtex_orders_mcp.sandbox")
                ]
    assert not leaks, leaks
