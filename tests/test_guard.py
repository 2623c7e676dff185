"""The confirmation guard, end to end with the SDK client against the sandbox.

Every refusal is asserted through the sandbox's request log: no write request reached "VTEX".
"""

from __future__ import annotations

import time

import jwt
import pytest
from mcp import Client, types

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.models import ORDER_STATUSES
from vtex_orders_mcp.server import build_server
from vtex_orders_mcp.tools import APPROVAL_OUTPUT, WRITE_OUTPUT

pytestmark = pytest.mark.anyio

ORDER = "v502556llux-01"
CANCEL = {"order_id": ORDER, "reason": "customer asked"}
CANCEL_ROUTE = "POST /api/oms/pvt/orders/{orderId}/cancel"


def make_app(tmp_path, **overrides):
    settings = Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=40, **overrides)
    return build_server(settings)


def answering(action, asked=None):
    async def callback(ctx, params):
        if asked is not None:
            asked.append(params.message)
        return types.ElicitResult(action=action, content={} if action == "accept" else None)

    return callback


async def events(app):
    return [r.event for r in reversed(await app.store.recent(100))]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_approved_write_executes_once_and_is_audited_with_receipt(tmp_path, mode):
    app = make_app(tmp_path)
    asked: list[str] = []
    async with Client(app.server, elicitation_callback=answering("accept", asked), mode=mode) as c:
        result = await c.call_tool("cancel_order", CANCEL)
    assert not result.is_error, result.content
    assert result.structured_content["status"] == "done"
    assert len(asked) == 1 and "Cancel order v502556llux-01 — handling, R$ 11,60, 1 item" in asked[0]
    assert "customer Rodrigo Cunha" in asked[0] and "reason: customer asked" in asked[0]
    writes = app.sandbox.writes()
    assert [w.route for w in writes] == [CANCEL_ROUTE]
    assert app.sandbox.store.orders[ORDER]["status"] == "canceled"
    assert await events(app) == ["requested", "approved", "executing", "executed"]
    executed = (await app.store.recent(1))[0]
    assert executed.receipt == result.structured_content["result"]["receipt"]


@pytest.mark.parametrize("action", ["decline", "cancel"])
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_decline_or_cancel_sends_nothing(tmp_path, action, mode):
    app = make_app(tmp_path)
    async with Client(app.server, elicitation_callback=answering(action), mode=mode) as c:
        result = await c.call_tool("cancel_order", CANCEL)
    assert not result.is_error
    assert result.structured_content["status"] == ("declined" if action == "decline" else "dismissed")
    assert "Not executed" in result.content[0].text
    assert app.sandbox.writes() == []
    assert app.sandbox.store.orders[ORDER]["status"] == "handling"
    assert (await events(app))[-1] == ("declined" if action == "decline" else "dismissed")
    said = result.content[0].text
    assert ("dismissed the question" in said) == (action == "cancel") and "canceled" not in said


def test_guard_answers_never_use_an_order_state_word():
    # "canceled" is an order state: a dismissed approval must not read like a canceled order.
    words = set(WRITE_OUTPUT["properties"]["status"]["enum"]) | set(APPROVAL_OUTPUT["properties"]["status"]["enum"])
    assert {"declined", "dismissed", "expired"} <= words and not words & set(ORDER_STATUSES)


async def two_step(c):
    result = await c.call_tool("cancel_order", CANCEL)
    assert not result.is_error and result.structured_content["status"] == "approval_required"
    return result.structured_content["confirmation"]


async def test_without_elicitation_nothing_is_sent_until_confirmed(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)
        assert app.sandbox.writes() == []
        assert "Cancel order v502556llux-01" in (await c.call_tool("cancel_order", CANCEL)).content[0].text
        assert app.sandbox.writes() == []
        done = await c.call_tool("confirm_write", confirmation)
    assert not done.is_error and done.structured_content["status"] == "done"
    assert [w.route for w in app.sandbox.writes()] == [CANCEL_ROUTE]
    assert "token_issued" in await events(app) and (await events(app))[-1] == "executed"


async def refused(c, app, arguments, match):
    result = await c.call_tool("confirm_write", arguments)
    assert result.is_error, result.content
    assert match in result.content[0].text, result.content[0].text
    assert app.sandbox.writes() == []


async def test_forged_token(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)
        raw, payload, sig = confirmation["token"].split(".")
        forged = ".".join((raw, payload, sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")))
        await refused(c, app, {**confirmation, "token": forged}, "not issued by this server")
        other = jwt.encode({"jti": "1", "tool": "cancel_order", "args": "x", "sub": "x", "exp": 9e9}, "k" * 32)
        await refused(c, app, {**confirmation, "token": other}, "not issued")
        await refused(c, app, {**confirmation, "token": "x" * 40}, "malformed")


async def test_token_for_other_arguments(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)
        other = {**confirmation, "arguments": {**CANCEL, "reason": "something else"}}
        await refused(c, app, other, "arguments differ")
        other_order = {**confirmation, "arguments": {**CANCEL, "order_id": "v502556llux-02"}}
        await refused(c, app, other_order, "arguments differ")


async def test_confirmed_arguments_keep_the_write_tools_schema(tmp_path):
    # confirm_write checks the arguments against the write tool's own advertised schema, as if the
    # tool were called: a null is no more "not given" there than in the call itself.
    app = make_app(tmp_path, guard="token")
    order = next(o for o in app.sandbox.store.orders.values()
                 if o["status"] == "invoiced" and o["packageAttachment"]["packages"])  # fmt: skip
    base = {"order_id": order["orderId"], "invoice_number": order["packageAttachment"]["packages"][0]["invoiceNumber"],
            "tracking_number": "BR1", "courier": "Correios"}  # fmt: skip
    async with Client(app.server) as c:
        first = await c.call_tool("update_invoice_tracking", base)
        confirmation = first.structured_content["confirmation"]
        nulls = await c.call_tool("confirm_write", {**confirmation, "arguments": {**base, "tracking_url": None}})
        assert nulls.is_error and "tracking_url: must not be null" in nulls.content[0].text, nulls.content
        assert app.sandbox.writes() == []
        done = await c.call_tool("confirm_write", {**confirmation, "arguments": base})
        assert not done.is_error and done.structured_content["status"] == "done", done.content
    assert len(app.sandbox.writes()) == 1


async def test_token_minted_for_another_tool(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        result = await c.call_tool("add_order_interaction", {"order_id": ORDER, "source": "support", "message": "hi"})
        confirmation = result.structured_content["confirmation"]
        await refused(
            c, app, {**confirmation, "tool": "cancel_order", "arguments": CANCEL}, "issued for add_order_interaction"
        )


async def test_expired_token(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)
        app.guard.tokens._clock = lambda: time.time() + 301
        await refused(c, app, confirmation, "expired")


async def test_reused_token(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)
        assert not (await c.call_tool("confirm_write", confirmation)).is_error
        app.sandbox.clear_log()
        await refused(c, app, confirmation, "already used")


async def test_single_use_survives_a_restart_and_tokens_stay_valid(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        first = await two_step(c)
        second = await two_step(c)
        assert not (await c.call_tool("confirm_write", first)).is_error
    restarted = make_app(tmp_path, guard="token")  # same state dir: same secret, same spent-token table
    async with Client(restarted.server) as c:
        await refused(c, restarted, first, "already used")
        assert not (await c.call_tool("confirm_write", second)).is_error


async def test_token_bound_to_principal(tmp_path):
    app = make_app(tmp_path, guard="token")
    from vtex_orders_mcp.guard import TokenError
    from vtex_orders_mcp.models import CancelOrder
    from vtex_orders_mcp.registry import BY_NAME

    op, args = BY_NAME["cancel_order"], CancelOrder(**CANCEL)
    token, _ = app.guard.tokens.mint(op, args, "alice")
    with pytest.raises(TokenError, match="another client"):
        await app.guard.tokens.redeem(token, op, args, "mallory")


@pytest.mark.parametrize("extra", [{"confirm": True}, {"approved": True}, {"confirmation_token": "yes"}])
async def test_confirm_style_arguments_are_refused(tmp_path, extra):
    app = make_app(tmp_path)
    async with Client(app.server, elicitation_callback=answering("decline")) as c:
        result = await c.call_tool("cancel_order", {**CANCEL, **extra})
    assert result.is_error and "unknown field" in result.content[0].text
    assert app.sandbox.writes() == []


async def test_confirm_cannot_run_reads_or_unknown_tools(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)
        await refused(c, app, {**confirmation, "tool": "get_order"}, "not a write tool")
        await refused(c, app, {**confirmation, "tool": "drop_tables"}, "not a write tool")


async def test_elicit_only_refuses_clients_without_elicitation(tmp_path):
    app = make_app(tmp_path, guard="elicit-only")
    async with Client(app.server) as c:
        result = await c.call_tool("cancel_order", CANCEL)
    assert result.is_error and "elicitation" in result.content[0].text
    assert app.sandbox.writes() == [] and await events(app) == ["refused"]


async def test_unknown_order_is_refused_before_asking(tmp_path):
    app = make_app(tmp_path)
    asked: list[str] = []
    async with Client(app.server, elicitation_callback=answering("accept", asked)) as c:
        result = await c.call_tool("cancel_order", {**CANCEL, "order_id": "v000000zzz-01"})
    assert result.is_error and "404" in result.content[0].text
    assert asked == [] and app.sandbox.writes() == []


async def test_guard_off_executes_and_audits_as_bypassed(tmp_path):
    app = make_app(tmp_path, guard="off")
    async with Client(app.server) as c:
        result = await c.call_tool("cancel_order", CANCEL)
    assert not result.is_error and result.structured_content["status"] == "done"
    assert await events(app) == ["bypassed", "executing", "executed"]
    assert (await app.store.recent(1))[0].channel == "off"


async def test_operator_can_relax_one_tool_but_not_others(tmp_path):
    app = make_app(tmp_path, guard_relax=frozenset({"add_order_interaction"}))
    async with Client(app.server) as c:
        note = await c.call_tool("add_order_interaction", {"order_id": ORDER, "source": "support", "message": "hi"})
        cancel = await c.call_tool("cancel_order", CANCEL)
    assert note.structured_content["status"] == "done"
    assert cancel.structured_content["status"] == "approval_required"
    assert [w.route for w in app.sandbox.writes()] == ["POST /api/oms/pvt/orders/{orderId}/interactions"]


async def test_read_only_lists_no_write_tools(tmp_path):
    app = make_app(tmp_path, read_only=True)
    async with Client(app.server) as c:
        tools = (await c.list_tools()).tools
        result = await c.call_tool("cancel_order", CANCEL)
    assert tools and all(t.annotations.read_only_hint for t in tools)
    assert "confirm_write" not in {t.name for t in tools}
    assert result.is_error and app.sandbox.writes() == []


async def test_audit_redacts_hook_headers(tmp_path):
    app = make_app(tmp_path)
    args = {
        "filter": {"status": ["handling"]},
        "hook": {"url": "https://example.com/hook", "headers": {"Authorization": "Bearer HOOK-SECRET-123"}},
    }
    async with Client(app.server, elicitation_callback=answering("accept")) as c:
        result = await c.call_tool("set_hook_config", args)
    assert not result.is_error, result.content
    dump = repr([r.as_dict() for r in await app.store.recent(20)])
    assert "HOOK-SECRET-123" not in dump


def test_pending_summaries_are_bounded(tmp_path):
    """A 2026-07-28 first round the client never resumes must not leak its summary forever."""
    from types import SimpleNamespace

    from vtex_orders_mcp.guard import MAX_PENDING_SUMMARIES

    from vtex_orders_mcp.models import CancelOrder
    from vtex_orders_mcp.registry import BY_NAME

    guard = make_app(tmp_path).runtime.guard
    op, args = BY_NAME["cancel_order"], CancelOrder(**CANCEL)
    from vtex_orders_mcp.guard import Review

    for i in range(MAX_PENDING_SUMMARIES + 50):
        guard.pending.keep(SimpleNamespace(request_id=i), op, args, Review(f"summary {i}"))
    assert len(guard.pending) == MAX_PENDING_SUMMARIES
    last = SimpleNamespace(request_id=MAX_PENDING_SUMMARIES + 49)
    assert guard.pending.pop(last, op, args).summary == f"summary {MAX_PENDING_SUMMARIES + 49}"
    assert guard.pending.pop(SimpleNamespace(request_id=0), op, args) is None


async def test_audit_command_prints_the_decisions_oldest_first(tmp_path, capsys):
    import json

    from vtex_orders_mcp.cli import main

    app = make_app(tmp_path)
    async with Client(app.server, elicitation_callback=answering("accept")) as c:
        await c.call_tool("cancel_order", CANCEL)
    capsys.readouterr()
    import anyio.to_thread

    assert await anyio.to_thread.run_sync(main, ["audit", "--state-dir", str(tmp_path / "state")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["event"] for r in rows] == ["requested", "approved", "executing", "executed"]
    assert rows[-1]["receipt"] and rows[1]["channel"] == "elicitation" and rows[0]["summary"].startswith("Cancel order")


# --- tokens are bound to the order's state as the user saw it ------------------------------------


async def test_token_refused_when_the_order_changed_before_confirmation(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)  # the summary said "handling, R$ ..."
        order = app.sandbox.store.orders[ORDER]
        app.sandbox.store.set_status(order, "ready-for-handling")  # meanwhile, someone else moved it
        await refused(c, app, confirmation, "the order changed since the user was asked")
        assert "token_rejected" in await events(app)
        again = await two_step(c)  # a fresh approval request shows the order as it is now
        assert "ready-for-handling" in (await c.call_tool("cancel_order", CANCEL)).structured_content["summary"]
        done = await c.call_tool("confirm_write", again)
    assert not done.is_error and [w.route for w in app.sandbox.writes()] == [CANCEL_ROUTE]


async def test_token_refused_when_the_order_cannot_be_read_to_check(tmp_path):
    from vtex_orders_mcp.sandbox import Fault

    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        confirmation = await two_step(c)
        app.sandbox.faults.add(Fault(kind="status", status=403, method="GET", path=rf"/orders/{ORDER}$"))
        await refused(c, app, confirmation, "could not be read to check")


async def test_replicas_with_separate_state_dirs_cannot_both_redeem_a_token(tmp_path):
    """Spent tokens live in each replica's state dir; the order-state binding still stops the second
    redemption, because the first one changed the order (here: a non-idempotent invoice)."""
    from vtex_orders_mcp.sandbox import Sandbox

    shared = Sandbox(orders=40)
    replicas = [build_server(Settings.from_env({"VTEX_MCP_SECRET": "team-secret-0123456789", "VTEX_MCP_GUARD": "token"},
                                               state_dir=tmp_path / name,
                                               sandbox_orders=40), sandbox=shared)
                for name in ("a", "b")]  # fmt: skip
    order = next(
        o for o in shared.store.orders.values() if o["status"] == "handling" and not o["packageAttachment"]["packages"]
    )
    invoice = {
        "order_id": order["orderId"],
        "type": "Output",
        "invoice_number": "NF-77",
        "invoice_value": order["value"],
        "issuance_date": "2026-11-23T10:00:00Z",
        "items": [{"id": i["id"], "quantity": i["quantity"], "price": i["sellingPrice"]} for i in order["items"]],
    }
    async with Client(replicas[0].server) as a, Client(replicas[1].server) as b:
        confirmation = (await a.call_tool("invoice_order", invoice)).structured_content["confirmation"]
        first = await a.call_tool("confirm_write", confirmation)
        second = await b.call_tool("confirm_write", confirmation)
    assert not first.is_error and first.structured_content["status"] == "done"
    assert second.is_error and "the order changed" in second.content[0].text
    assert [w.route for w in shared.writes()] == ["POST /api/oms/pvt/orders/{orderId}/invoice"]


async def test_account_level_writes_are_not_state_bound(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        first = await c.call_tool("set_change_seller_window", {"waiting_time": 3})
        confirmation = first.structured_content["confirmation"]
        await c.call_tool("get_change_seller_window", {})
        done = await c.call_tool("confirm_write", confirmation)
    assert not done.is_error and done.structured_content["status"] == "done"


async def test_settings_approval_shows_every_value_sent(tmp_path):
    app = make_app(tmp_path)
    asked: list[str] = []
    async with Client(app.server, elicitation_callback=answering("decline", asked)) as c:
        await c.call_tool("update_order_modification_settings", {"rollout_configuration": {"enable_api": False}})
    assert asked and '"enable_api": false' in asked[0], asked
    assert app.sandbox.writes() == []


# --- one human "yes" runs a write at most once, and is recorded against the right call ----------


async def test_a_resent_final_round_does_not_run_the_write_twice(tmp_path):
    """2026-07-28: the client resends the answered round (same request state and answers), e.g.
    after losing the response. The SDK would accept the pair again; the guard spends it."""
    app = make_app(tmp_path)
    args = {"order_id": ORDER, "source": "support", "message": "called the customer"}
    async with Client(app.server, elicitation_callback=answering("accept")) as c:
        first = await c.session.call_tool("add_order_interaction", args, allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult)
        answers = {key: types.ElicitResult(action="accept", content={}) for key in first.input_requests}
        results = [
            await c.session.call_tool("add_order_interaction", args, input_responses=answers,
                                      request_state=first.request_state, allow_input_required=True)
            for _ in range(2)
        ]  # fmt: skip
    assert not results[0].is_error and results[0].structured_content["status"] == "done"
    assert results[1].is_error and "already used" in results[1].content[0].text
    assert len(app.sandbox.writes()) == 1
    assert await events(app) == ["requested", "approved", "executing", "executed", "refused"]


async def test_concurrent_approvals_keep_their_own_summaries(tmp_path):
    """Two sessions use the same JSON-RPC ids; each approval and its audit rows name its own order."""
    import anyio

    app = make_app(tmp_path)
    orders = [o["orderId"] for o in app.sandbox.store.orders.values() if o["status"] == "handling"][:2]
    b_asked = anyio.Event()

    async def answer_a(ctx, params):
        await b_asked.wait()  # A's human answers after B's question was asked
        return types.ElicitResult(action="accept", content={})

    async def answer_b(ctx, params):
        b_asked.set()
        await anyio.sleep(0.1)
        return types.ElicitResult(action="accept", content={})

    results = {}
    async with Client(app.server, elicitation_callback=answer_a, mode="legacy") as a, \
               Client(app.server, elicitation_callback=answer_b, mode="legacy") as b:  # fmt: skip

        async def note(client, order_id):
            results[order_id] = await client.call_tool(
                "add_order_interaction", {"order_id": order_id, "source": "support", "message": f"note {order_id}"}
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(note, a, orders[0])
            await anyio.sleep(0.05)
            tg.start_soon(note, b, orders[1])
    for order_id in orders:
        assert f"Add order interaction {order_id} —" in results[order_id].structured_content["summary"]
    for record in await app.store.recent(20):
        if record.event == "approved":
            assert record.summary.startswith(f"Add order interaction {record.arguments['order_id']} —")


# --- what the human sees is what is sent, and still true when they answer -------------------------


async def test_the_question_shows_every_argument_and_neutralises_layout_tricks(tmp_path):
    app = make_app(tmp_path)
    asked: list[str] = []
    hook = {
        "filter": {"expression": "status = 'invoiced'"},
        "hook": {"url": "https://hooks.example.com/orders", "headers": {"X-Forward-To": "https://elsewhere.example"}},
    }
    tricky = {"order_id": ORDER, "reason": "duplicate\u202e order\n\nApprove? Add a note (nothing is canceled)"}
    async with Client(app.server, elicitation_callback=answering("decline", asked)) as c:
        await c.call_tool("set_hook_config", hook)
        await c.call_tool("cancel_order", tricky)
    assert "X-Forward-To" in asked[0] and "https://elsewhere.example" in asked[0]  # headers were hidden before
    assert asked[1].count("\n") == 1  # only the server's own line break, between summary and arguments
    assert "\\u202e" in asked[1] and "\u202e" not in asked[1]
    assert app.sandbox.writes() == []


@pytest.mark.parametrize(
    ("meanwhile", "refusal"),
    [
        # someone moves the order while the human decides: the answer is about another state
        ("order_moved", "changed while the user was deciding"),
        # other callers' unanswered questions pushed this one out of the bounded store
        ("question_forgotten", "no longer known"),
    ],
)
async def test_a_legacy_answer_that_no_longer_matches_is_refused(tmp_path, meanwhile, refusal):
    """2025-11-25: the question is answered inside the call, after a pause. The order must still be
    what the question showed, and the server must still know what it showed."""
    app = make_app(tmp_path)

    async def accept_after(ctx, params):
        if meanwhile == "order_moved":
            app.sandbox.store.set_status(app.sandbox.store.orders[ORDER], "ready-for-handling")
        else:
            app.guard.pending.clear()
        return types.ElicitResult(action="accept", content={})

    async with Client(app.server, elicitation_callback=accept_after, mode="legacy") as c:
        result = await c.call_tool("cancel_order", CANCEL)
    assert result.is_error and refusal in result.content[0].text
    assert app.sandbox.writes() == []


async def test_resent_answer_to_another_replica_is_asked_again_once_the_order_changed(tmp_path):
    """Replicas share the secret, not the spent-approval table: a final round resent to replica B
    after A executed meets a different question (the order's state is in it) and is not run."""
    from vtex_orders_mcp.sandbox import Sandbox

    shared = Sandbox(orders=40)
    env = {"VTEX_MCP_SECRET": "replica-shared-secret-0123456789"}
    a, b = (build_server(Settings.from_env(env, state_dir=tmp_path / n, sandbox_orders=40), sandbox=shared)
            for n in ("a", "b"))  # fmt: skip
    invoiced = next(o for o in shared.store.orders.values() if o["status"] == "invoiced")
    item = invoiced["items"][0]
    refund = {
        "order_id": invoiced["orderId"],
        "type": "Input",
        "invoice_number": "RET-1",
        "invoice_value": item["sellingPrice"],
        "issuance_date": "2026-11-23T10:00:00Z",
        "items": [{"id": item["id"], "quantity": 1, "price": item["sellingPrice"]}],
    }
    async with Client(a.server, elicitation_callback=answering("accept")) as ca, \
               Client(b.server, elicitation_callback=answering("accept")) as cb:  # fmt: skip
        first = await ca.session.call_tool("invoice_order", refund, allow_input_required=True)
        answers = {k: types.ElicitResult(action="accept", content={}) for k in first.input_requests}
        done = await ca.session.call_tool(
            "invoice_order",
            refund,
            input_responses=answers,
            request_state=first.request_state,
            allow_input_required=True,
        )
        resent = await cb.session.call_tool(
            "invoice_order",
            refund,
            input_responses=answers,
            request_state=first.request_state,
            allow_input_required=True,
        )
    assert done.structured_content["status"] == "done"
    assert isinstance(resent, types.InputRequiredResult)  # asked anew, not executed
    assert [w.route for w in shared.writes()] == ["POST /api/oms/pvt/orders/{orderId}/invoice"]


async def test_a_note_approved_with_a_cancel_is_not_stale_after_the_cancel(tmp_path):
    app = make_app(tmp_path, guard="token")
    async with Client(app.server) as c:
        cancel = await two_step(c)
        note = await c.call_tool(
            "add_order_interaction",
            {"order_id": ORDER, "source": "support", "message": "canceled at the customer's request"},
        )
        assert not (await c.call_tool("confirm_write", cancel)).is_error
        done = await c.call_tool("confirm_write", note.structured_content["confirmation"])
    assert not done.is_error and done.structured_content["status"] == "done", done.content
    assert len(app.sandbox.writes()) == 2


async def test_results_quote_a_long_reason_bounded_and_a_hook_s_credentials_masked(tmp_path):
    """The schema bounds a call (256 KiB), not a reason: the result and the audit quote a bounded
    summary (the question still shows every argument to the human), and a hook URL's token is
    masked in the summary as it is in the audit."""
    app = make_app(tmp_path)
    long_reason = "R" * 250_000
    url = "https://erp.example.com/h?token=abc123secret"
    hook = {"filter": {"status": ["invoiced"]}, "hook": {"url": url, "headers": {"Authorization": "Bearer HDR"}}}
    async with Client(app.server, elicitation_callback=answering("decline")) as c:
        declined = await c.call_tool("cancel_order", {**CANCEL, "reason": long_reason})
    async with Client(app.server, elicitation_callback=answering("accept")) as c:
        done = await c.call_tool("set_hook_config", hook)
    assert not declined.is_error and len(declined.content[0].text) < 2_000, len(declined.content[0].text)
    assert "characters)" in declined.structured_content["summary"]
    assert "abc123secret" not in repr(done.structured_content) and "token=***" in done.structured_content["summary"]
    records = [r.as_dict() for r in await app.store.recent(20)]
    assert "abc123secret" not in repr(records)
    assert all(len(r.get("summary") or "") < 2_000 for r in records), [len(r.get("summary") or "") for r in records]


async def test_a_token_answer_does_not_echo_arguments_of_any_size(tmp_path):
    """Token mode: a 200k-character reason is not sent back to the model; its own call's arguments
    with the token still confirm the write, once."""
    app = make_app(tmp_path, guard="token")
    arguments = {**CANCEL, "reason": "r" * 200_000}
    async with Client(app.server) as c:
        asked = await c.call_tool("cancel_order", arguments)
        confirmation = asked.structured_content["confirmation"]
        done = await c.call_tool(
            "confirm_write", {"tool": "cancel_order", "arguments": arguments, "token": confirmation["token"]}
        )
    assert len(asked.content[0].text) < 6_000 and len(repr(asked.structured_content)) < 6_000
    assert isinstance(confirmation["arguments"], str)
    assert not done.is_error and done.structured_content["status"] == "done", done.content[0].text
    assert len(app.sandbox.writes()) == 1
