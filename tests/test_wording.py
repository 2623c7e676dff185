"""What the model and the human read is prose, not Python: every tool's approval summary (from
its registry example, with the model's free text ending in a period as models write it) and every
tool's error for a VTEX refusal are scanned for doubled periods, list reprs and ``None``.

One server in token mode for every tool: the write answers ``approval_required`` with its summary,
and ``confirm_write`` then meets VTEX's refusal; a read meets it directly.
"""

from __future__ import annotations

import re

import pytest
from examples import example_arguments
from mcp import Client, types

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.guard.review import summarize
from vtex_orders_mcp.registry import BY_NAME, OPERATIONS
from vtex_orders_mcp.sandbox import Fault
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

# "..", not an ellipsis; a Python list repr; None, True, False as Python prints them
PYTHON_OR_DOUBLED = re.compile(r"(?<!\.)\.\.(?!\.)|\['|\[\"|\b(None|True|False)\b")
FREE_TEXT = ("reason", "message")  # what a model writes in sentences


async def approve(ctx, params):
    return types.ElicitResult(action="accept", content={})


def prose(text: str) -> str:
    """The words before the first JSON value (results carry their data as JSON after the prose)."""
    return re.split(r"[{\[]\"", text, maxsplit=1)[0]


def scan(texts: list[str]) -> list[str]:
    return [t for t in texts if PYTHON_OR_DOUBLED.search(t)]


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


def token_server(state_dir):
    return build_server(Settings.from_env({}, state_dir=state_dir, sandbox_orders=40, guard="token"))


@pytest.fixture(scope="module")
async def shared(tmp_path_factory):
    # One server for the tools whose example needs no set-up: a write here never runs (its
    # confirmation meets VTEX's refusal), so the orders stay as the next example expects them.
    app = token_server(tmp_path_factory.mktemp("state"))
    async with Client(app.server, elicitation_callback=approve) as setup, Client(app.server) as client:
        yield app, setup, client


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_summaries_and_errors_read_as_prose(shared, tmp_path, op):
    if op.example.before or op.example.wait:  # its set-up writes: a server of its own
        app = token_server(tmp_path / "state")
        async with Client(app.server, elicitation_callback=approve) as setup, Client(app.server) as client:
            await prose_check(op, app, setup, client)
    else:
        await prose_check(op, *shared)


async def prose_check(op, app, setup, client):
    args = await example_arguments(op, setup, app.sandbox)
    args = {k: f"{v}." if k in FREE_TEXT and isinstance(v, str) else v for k, v in args.items()}
    route = re.sub(r"\{[^}]+\}", "[^/]+", op.path.split("?")[0]) + "$"
    refusal = Fault(kind="status", status=400, method=op.method, path=route)
    texts: list[str] = []
    try:
        if op.read_only:
            app.sandbox.faults.add(refusal)
            failed = await client.call_tool(op.name, args)
        else:
            asked = await client.call_tool(op.name, args)
            assert asked.structured_content["status"] == "approval_required", asked.content[0].text
            texts += [asked.structured_content["summary"], prose(asked.content[0].text)]
            app.sandbox.faults.add(refusal)
            failed = await client.call_tool("confirm_write", asked.structured_content["confirmation"])
    finally:
        app.sandbox.faults.clear()
    assert failed.is_error and "VTEX answered 400" in failed.content[0].text, failed.content[0].text
    texts.append(failed.content[0].text)
    assert scan(texts) == []
    assert len(failed.content[0].text) <= 500


def test_a_summary_of_an_order_with_null_fields_says_no_none():
    # VTEX may leave any field null: the question leaves it out rather than printing "None".
    op = BY_NAME["cancel_order"]
    args = op.args.model_validate({"order_id": "v1-01", "reason": "customer asked."})
    review = summarize(op, args, {"status": None, "value": None, "items": None, "clientProfileData": None})
    assert scan([review.summary]) == [] and review.summary.startswith("Cancel order v1-01 — 0 items — reason")
