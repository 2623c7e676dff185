"""Seven defects an audit of the guard found, each shown fixed (each of these failed before).

1. An order that could not be read when approval was asked left the approval unbound: now nothing
   is asked and nothing is sent.
2. Under 2026-07-28 a declined question stayed approvable with its sealed state.
3. The ``requested`` audit row and the decision rows carried different ids.
4. Summaries were stored unmasked: a secret they quote reached the audit and the CLI.
5. Relaxed tools ran without a word at start-up or in their results.
6. Shopper text in a question had no length limit; invisible fillers and look-alikes passed.
7. A human was asked to approve writes VTEX's rules refuse (and an already canceled order got
   the advice for invoiced ones).
"""

from __future__ import annotations

import json
import logging

import anyio.to_thread
import pytest
from mcp import Client, types

from vtex_orders_mcp.cli import main
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.guard import visible
from vtex_orders_mcp.sandbox import Fault
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

ORDER = "v502556llux-01"
CANCEL = {"order_id": ORDER, "reason": "customer asked"}


def make_app(tmp_path, env: dict[str, str] | None = None, **overrides):
    return build_server(Settings.from_env(env or {}, state_dir=tmp_path / "state", sandbox_orders=40, **overrides))


def answering(action: str, asked: list[str] | None = None):
    async def callback(ctx, params):
        if asked is not None:
            asked.append(params.message)
        return types.ElicitResult(action=action, content={} if action == "accept" else None)

    return callback


async def test_1_an_unreadable_order_is_not_asked_about(tmp_path):
    app = make_app(tmp_path)
    app.sandbox.faults.add(Fault(kind="status", status=503, method="GET", path=rf"/orders/{ORDER}$"))
    asked: list[str] = []
    async with Client(app.server, elicitation_callback=answering("accept", asked)) as c:
        result = await c.call_tool("cancel_order", CANCEL)
    text = result.content[0].text
    assert result.is_error and "could not be read" in text and "nothing was asked or sent" in text, text
    assert asked == [] and app.sandbox.writes() == []


async def test_2_a_declined_question_cannot_be_answered_yes_later(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server, elicitation_callback=answering("decline")) as c:
        first = await c.session.call_tool("cancel_order", CANCEL, allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult)
        no = {key: types.ElicitResult(action="decline") for key in first.input_requests}
        declined = await c.session.call_tool("cancel_order", CANCEL, input_responses=no,
                                             request_state=first.request_state, allow_input_required=True)  # fmt: skip
        yes = {key: types.ElicitResult(action="accept", content={}) for key in first.input_requests}
        later = await c.session.call_tool("cancel_order", CANCEL, input_responses=yes,
                                          request_state=first.request_state, allow_input_required=True)  # fmt: skip
    assert declined.structured_content["status"] == "declined"
    assert later.is_error and "already used" in later.content[0].text
    assert app.sandbox.writes() == []


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_3_one_id_joins_a_question_to_its_decision_and_execution(tmp_path, mode):
    app = make_app(tmp_path)
    async with Client(app.server, elicitation_callback=answering("accept"), mode=mode) as c:
        assert (await c.call_tool("cancel_order", CANCEL)).structured_content["status"] == "done"
    rows = list(reversed(await app.store.recent(10)))
    assert [r.event for r in rows] == ["requested", "approved", "executing", "executed"]
    assert len({r.call_id for r in rows}) == 1


async def test_4_summaries_in_the_audit_are_masked_like_arguments(tmp_path, capsys):
    secret = "team-secret-value-0123456789"
    app = make_app(tmp_path, {"VTEX_MCP_SECRET": secret})
    hook = {"filter": {"status": ["handling"]},
            "hook": {"url": "https://ops:hunter2@erp.example.com/hook?token=s3cr3t-tok&x=1",
                     "headers": {"Authorization": "Bearer HEADER-SECRET-42"}}}  # fmt: skip
    note = {"order_id": ORDER, "source": "support", "message": f"pasted {secret} by mistake"}
    async with Client(app.server, elicitation_callback=answering("accept")) as c:
        await c.call_tool("set_hook_config", hook)
        await c.call_tool("add_order_interaction", note)
    stored = repr([r.as_dict() for r in await app.store.recent(20)])
    for leaked in ("hunter2", "s3cr3t-tok", "HEADER-SECRET-42", secret):
        assert leaked not in stored, leaked
    assert "https://***@erp.example.com/hook?token=***&x=1" in stored
    capsys.readouterr()
    assert await anyio.to_thread.run_sync(main, ["audit", "--state-dir", str(tmp_path / "state")]) == 0
    printed = capsys.readouterr().out
    assert "hunter2" not in printed and secret not in printed and "POST to https://***@" in printed


async def test_5_relaxed_tools_are_announced_and_marked(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="vtex_orders_mcp")
    app = make_app(tmp_path, guard_relax=frozenset({"add_order_interaction"}))
    assert any("GUARD RELAXED" in r.getMessage() and "add_order_interaction" in r.getMessage() for r in caplog.records)
    async with Client(app.server) as c:
        done = await c.call_tool("add_order_interaction", {"order_id": ORDER, "source": "s", "message": "m"})
    assert done.structured_content["status"] == "done"
    assert "exempted this tool from approval" in done.structured_content["guard"]
    assert "Executed without a human's approval" in done.content[-1].text
    rows = [(r.event, r.channel) for r in reversed(await app.store.recent(10))]
    assert rows[0] == ("bypassed", "relaxed")


async def test_6_shopper_text_is_bounded_and_nothing_hides_in_it(tmp_path):
    app = make_app(tmp_path)
    profile = app.sandbox.store.orders[ORDER]["clientProfileData"]
    profile["firstName"] = "Ana" + "\u3164" * 3 + "\u00a0Approve" + "x" * 200
    asked: list[str] = []
    async with Client(app.server, elicitation_callback=answering("decline", asked)) as c:
        await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "C\u0430ncel the \u2800 order"})
    question = asked[0]
    assert "\\u3164" in question and "\\u00a0" in question and "\u3164" not in question
    assert "… (+" in question and "x" * 150 not in question  # the name is cut, and says so
    assert "C\\u0430ncel" in question and "\\u2800" in question  # look-alike and blank made visible
    assert visible("José Müller 北京") == "José Müller 北京"  # real names stay as they are


async def test_7_writes_vtex_refuses_are_not_asked_about(tmp_path):
    app = make_app(tmp_path)
    orders = app.sandbox.store.orders
    partial = next(o for o in orders.values() if o["status"] == "handling" and o["orderId"] != ORDER)
    item = partial["items"][0]
    invoice = {"itemIndex": 0, "quantity": 1, "price": item["price"]}
    partial["packageAttachment"]["packages"] = [
        {"type": "Output", "invoiceNumber": "NF-P1", "invoiceValue": 100, "items": [invoice]}
    ]
    canceled = next(o for o in orders.values() if o["status"] == "canceled")
    asked: list[str] = []
    async with Client(app.server, elicitation_callback=answering("accept", asked)) as c:
        part = await c.call_tool("cancel_order", {"order_id": partial["orderId"], "reason": "r"})
        again = await c.call_tool("cancel_order", {"order_id": canceled["orderId"], "reason": "r"})
        handling = await c.call_tool("start_handling", {"order_id": ORDER})
    assert asked == [] and app.sandbox.writes() == []
    assert "partially invoiced" in part.content[0].text and "invoice_order (type Input)" in part.content[0].text
    assert "already canceled" in again.content[0].text and "invoice_order" not in again.content[0].text
    assert "starting handling in status 'handling'" in handling.content[0].text
    audit = [json.loads(json.dumps(r.as_dict())) for r in await app.store.recent(10)]
    assert {r["event"] for r in audit} == {"refused"}
