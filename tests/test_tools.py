"""Every tool through the SDK client against the sandbox: one happy path and one invalid input each.

Writes run with a client that approves through elicitation, so each happy path crosses the guard
for real. Invalid inputs must be refused before any request: the sandbox log stays empty.
"""

from __future__ import annotations

import re

import jsonschema
import pytest
from mcp import Client, types

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import OPERATIONS
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

SEED = "v502556llux-01"


async def approve(ctx, params):
    return types.ElicitResult(action="accept", content={})


@pytest.fixture
async def env(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=80))
    async with Client(app.server, elicitation_callback=approve) as client:
        yield app, client


def orders(app, status):
    return [o for o in app.sandbox.store.orders.values() if o["status"] == status]


def pick(app, status, pred=lambda o: True):
    return next(o for o in orders(app, status) if pred(o))


def invoiced_with_tracking(app):
    for o in orders(app, "invoiced"):
        for p in o["packageAttachment"]["packages"]:
            if p.get("type") == "Output" and p.get("trackingNumber"):
                return o, p
    raise LookupError


def card_paid(o):
    return any(p.get("group") == "creditCard" for t in o["paymentData"]["transactions"] for p in t["payments"])


async def input_schema(client, name):
    return next(t.input_schema for t in (await client.list_tools()).tools if t.name == name)


async def call(client, name, args):
    result = await client.call_tool(name, args)
    assert not result.is_error, f"{name}: {result.content[0].text}"
    return result.structured_content


# name -> async (app, client) -> arguments; writes are then approved and must end "done".
def happy_cases():
    async def order_only(app, c):
        return {"orderId": SEED}

    async def list_orders(app, c):
        return {"status": "handling", "per_page": 5}

    async def group(app, c):
        return {"orderGroup": app.sandbox.store.orders[SEED]["orderGroup"]}

    async def start_handling(app, c):
        return {"orderId": pick(app, "ready-for-handling")["orderId"]}

    async def cancel(app, c):
        return {"orderId": SEED, "reason": "customer asked"}

    async def register_changes(app, c):
        o = pick(app, "handling", lambda o: len(o["items"]) >= 1)
        item = o["items"][0]
        return {"orderId": o["orderId"], "requestId": "req-1", "reason": "out of stock", "discountValue": 100,
                "itemsRemoved": [{"id": item["id"], "quantity": 1, "price": item["price"]}]}

    async def interaction(app, c):
        return {"orderId": SEED, "source": "support", "message": "Customer called about delivery"}

    async def modification(app, c):
        o = pick(app, "handling", lambda o: card_paid(o) and o["orderId"] != SEED)
        item = o["items"][0]
        return {"changeOrderId": o["orderId"], "reason": "customer wants one more",
                "add": [{"id": item["id"], "quantity": 1}]}

    async def preview(app, c):
        args = await modification(app, c)
        return args

    async def created(app, c):
        args = await modification(app, c)
        out = await call(c, "create_order_modification", args)
        return {"changeOrderId": args["changeOrderId"], "changeRequestId": out["result"]["requestId"]}

    async def history(app, c):
        return {"changeOrderId": (await created(app, c))["changeOrderId"]}

    async def stuck(app, c):
        o = pick(app, "handling", lambda o: not card_paid(o) and o["orderId"] != SEED)
        item = o["items"][0]
        args = {"changeOrderId": o["orderId"], "reason": "add an item",
                "add": [{"id": item["id"], "quantity": 1}]}
        out = await call(c, "create_order_modification", args)
        app.sandbox.clock.advance(60)
        return {"changeOrderId": o["orderId"], "changeRequestId": out["result"]["requestId"]}

    async def retry(app, c):
        return {**(await stuck(app, c)), "reason": "try again"}

    async def cancel_mod(app, c):
        return {**(await stuck(app, c)), "reason": "customer changed their mind"}

    async def settings(app, c):
        return {"rolloutConfiguration": {"enableApi": True}}

    async def no_args(app, c):
        return {}

    async def invoice(app, c):
        o = app.sandbox.store.orders[SEED]
        return {"orderId": SEED, "type": "Output", "invoiceNumber": "NF-1001", "invoiceValue": o["value"],
                "issuanceDate": "2026-11-23T10:00:00-03:00",
                "items": [{"id": i["id"], "quantity": i["quantity"], "price": i["sellingPrice"]} for i in o["items"]]}

    async def tracking(app, c):
        o, p = invoiced_with_tracking(app)
        return {"orderId": o["orderId"], "invoiceNumber": p["invoiceNumber"], "trackingNumber": "BR123456789BR",
                "courier": "Correios", "trackingUrl": "https://tracking.example/BR123456789BR"}

    async def tracking_status(app, c):
        o, p = invoiced_with_tracking(app)
        return {"orderId": o["orderId"], "invoiceNumber": p["invoiceNumber"], "isDelivered": True,
                "deliveredDate": "2026-11-22 15:30",
                "events": [{"city": "Rio de Janeiro", "state": "RJ", "description": "Delivered",
                            "date": "2026-11-22T15:30:00Z"}]}

    async def payment_notification(app, c):
        o = pick(app, "payment-pending")
        return {"orderId": o["orderId"], "paymentId": o["paymentData"]["transactions"][0]["payments"][0]["id"]}

    async def feed_config(app, c):
        return {"filter": {"type": "FromWorkflow", "status": ["handling", "canceled"]}}

    async def configured(app, c):
        await call(c, "set_feed_config", await feed_config(app, c))
        return {}

    async def feed_items(app, c):
        await configured(app, c)
        await call(c, "start_handling", await start_handling(app, c))
        return {"maxlot": 5}

    async def commit(app, c):
        out = await call(c, "get_feed_items", await feed_items(app, c))
        handles = [item["handle"] for item in out["result"]]
        assert handles
        return {"handles": handles}

    async def jsonata(app, c):
        return {"Expression": 'status = "canceled"', "Document": '{"status": "canceled"}'}

    async def hook(app, c):
        return {"filter": {"type": "FromOrders", "expression": "value > 100", "disableSingleFire": False},
                "hook": {"url": "https://erp.example.com/vtex-hook", "headers": {"X-Key": "k"}}}

    async def hooked(app, c):
        await call(c, "set_hook_config", await hook(app, c))
        return {}

    def customer_order(app):  # the seed example's e-mail is an obfuscated placeholder, not an address
        return next(o for o in app.sandbox.store.orders.values() if o["orderId"] != SEED)

    async def user_orders(app, c):
        return {"clientEmail": customer_order(app)["clientProfileData"]["email"]}

    async def user_order(app, c):
        return {"orderId": customer_order(app)["orderId"], **(await user_orders(app, c))}

    async def window(app, c):
        return {"waitingTime": 3}

    async def feed_v2(app, c):
        return {"maxLot": 5}

    return {
        "get_order": order_only, "get_order_group": group, "list_orders": list_orders,
        "start_handling": start_handling, "cancel_order": cancel, "register_order_changes": register_changes,
        "add_order_interaction": interaction, "get_order_change_summary": order_only,
        "create_order_modification": modification, "get_order_modification_history": history,
        "get_order_modification": created, "preview_order_modification": preview,
        "retry_order_modification": retry, "cancel_order_modification": cancel_mod,
        "update_order_modification_settings": settings, "get_order_modification_settings": no_args,
        "invoice_order": invoice, "update_invoice_tracking": tracking, "update_tracking_status": tracking_status,
        "get_order_conversation": order_only, "get_payment_transaction": order_only,
        "send_payment_notification": payment_notification, "get_feed_v2_status": feed_v2,
        "get_feed_config": configured, "set_feed_config": feed_config, "delete_feed_config": configured,
        "get_feed_items": feed_items, "commit_feed_items": commit, "test_jsonata_expression": jsonata,
        "get_hook_config": hooked, "set_hook_config": hook, "delete_hook_config": hooked,
        "list_user_orders": user_orders, "get_user_order": user_order,
        "get_change_seller_window": no_args, "set_change_seller_window": window,
    }  # fmt: skip


HAPPY = happy_cases()


def test_every_operation_has_a_happy_path_and_an_invalid_case():
    names = {op.name for op in OPERATIONS}
    assert set(HAPPY) == names and set(INVALID) == names


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_happy_path(env, op):
    app, client = env
    args = await HAPPY[op.name](app, client)
    jsonschema.validate(args, await input_schema(client, op.name))  # a valid example for the schema
    app.sandbox.clear_log()
    out = await call(client, op.name, args)
    if op.read_only:
        # a read sends nothing but itself (preview and the JSONata test are read-only POSTs)
        assert {w.route for w in app.sandbox.writes()} <= {f"{op.method} {op.path}"}, op.name
        assert set(out) & {"order", "orders", "messages", "transaction", "result"}
    else:
        assert out["status"] == "done", out
        routes = [w.route for w in app.sandbox.writes()]
        assert routes == [f"{op.method} {op.path}"], routes


WRITES = [op for op in OPERATIONS if not op.read_only]


@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.name)
async def test_two_step_confirmation_round_trips(env, op):
    """A client without elicitation passes the confirmation back unchanged and the write runs once."""
    app, client = env
    args = await HAPPY[op.name](app, client)  # set-up may use the approving client
    app.sandbox.clear_log()
    async with Client(app.server) as plain:  # no elicitation: the two-step token path
        asked = await call(plain, op.name, args)
        assert asked["status"] == "approval_required" and app.sandbox.writes() == []
        done = await call(plain, "confirm_write", asked["confirmation"])
    assert done["status"] == "done", done
    assert [w.route for w in app.sandbox.writes()] == [f"{op.method} {op.path}"]


INVALID = {
    "get_order": ({"orderId": "not an id"}, "orderId"),
    "get_order_group": ({"orderGroup": "v1-01"}, "orderGroup"),
    "list_orders": ({"status": "shipped"}, "status: must be one of"),
    "start_handling": ({}, "orderId: required"),
    "cancel_order": ({"orderId": SEED}, "reason: required"),
    "register_order_changes": ({"orderId": SEED, "requestId": "r", "reason": "x", "discountValue": -5}, "discountValue"),
    "add_order_interaction": ({"orderId": SEED, "source": "s", "message": ""}, "message"),
    "get_order_change_summary": ({"orderId": "../../etc"}, "orderId"),
    "create_order_modification": ({"changeOrderId": SEED, "reason": "x", "add": [{"id": "1", "quantity": 0}]}, "quantity"),
    "get_order_modification_history": ({"changeOrderId": "seq123"}, "changeOrderId"),
    "get_order_modification": ({"changeOrderId": SEED, "changeRequestId": "a/b"}, "changeRequestId"),
    "preview_order_modification": ({"changeOrderId": SEED}, "reason: required"),
    "retry_order_modification": ({"changeOrderId": SEED, "changeRequestId": "abc"}, "reason: required"),
    "cancel_order_modification": ({"changeOrderId": SEED, "changeRequestId": "abc", "reason": ""}, "reason"),
    "update_order_modification_settings": ({"rolloutConfiguration": {"enableApi": "maybe"}}, "enableApi"),
    "get_order_modification_settings": ({"an": "other"}, "unknown field"),
    "invoice_order": ({"orderId": SEED, "type": "Sale", "invoiceNumber": "1", "invoiceValue": 1, "issuanceDate": "2026-01-01T00:00:00Z", "items": [{"id": "1", "quantity": 1, "price": 1}]}, "must be one of 'Output' or 'Input'"),
    "update_invoice_tracking": ({"orderId": SEED, "invoiceNumber": "NF1", "courier": "c"}, "trackingNumber: required"),
    "update_tracking_status": ({"orderId": SEED, "invoiceNumber": "NF1", "isDelivered": True, "deliveredDate": "yesterday"}, "deliveredDate"),
    "get_order_conversation": ({"orderId": 12}, "orderId"),
    "get_payment_transaction": ({"orderId": SEED, "view": "full"}, "unknown field"),
    "send_payment_notification": ({"orderId": SEED, "paymentId": "x y"}, "paymentId"),
    "get_feed_v2_status": ({"maxLot": 50}, "maxLot"),
    "get_feed_config": ({"verbose": True}, "unknown field"),
    "set_feed_config": ({"filter": {"type": "FromWorkflow", "status": ["shipped"]}}, "filter.status.0"),
    "delete_feed_config": ({"force": True}, "unknown field"),
    "get_feed_items": ({"maxlot": 11}, "maxlot"),
    "commit_feed_items": ({"handles": []}, "handles"),
    "test_jsonata_expression": ({"Expression": "x"}, "Document: required"),
    "get_hook_config": ({"page": 2}, "unknown field"),
    "set_hook_config": ({"filter": {"type": "FromOrders"}, "hook": {"url": "http://insecure.example"}}, "hook.url"),
    "delete_hook_config": ({"all": True}, "unknown field"),
    "list_user_orders": ({"clientEmail": "not-an-email"}, "clientEmail"),
    "get_user_order": ({"orderId": SEED}, "clientEmail: required"),
    "get_change_seller_window": ({"days": 1}, "unknown field"),
    "set_change_seller_window": ({"waitingTime": -1}, "waitingTime"),
}  # fmt: skip


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_invalid_input_is_refused_before_any_request(env, op):
    app, client = env
    args, expected = INVALID[op.name]
    with pytest.raises(jsonschema.ValidationError):  # the advertised schema refuses it too
        jsonschema.validate(args, await input_schema(client, op.name))
    app.sandbox.clear_log()
    result = await client.call_tool(op.name, args)
    assert result.is_error
    text = result.content[0].text
    assert expected in text and "nothing was sent to VTEX" in text, text
    assert app.sandbox.requests == []


async def test_tools_list_covers_the_36_operations_by_meta(env):
    app, client = env
    tools = (await client.list_tools()).tools
    metas = {(t.meta["vtex"]["method"], t.meta["vtex"]["path"]) for t in tools if t.meta}
    assert metas == {(op.method, op.path) for op in OPERATIONS}
    for tool in tools:
        assert tool.title and tool.description and tool.annotations is not None
        ann = tool.annotations
        hints = (ann.read_only_hint, ann.destructive_hint, ann.idempotent_hint, ann.open_world_hint)
        assert None not in hints, tool.name  # every hint stated explicitly
        op = next((o for o in OPERATIONS if o.name == tool.name), None)
        if op is not None:
            assert hints == (op.read_only, op.destructive, op.read_only or op.idempotent, True), tool.name
        else:
            assert tool.name == "confirm_write" and ann.destructive_hint and not ann.read_only_hint
        assert tool.input_schema.get("additionalProperties") is False
        assert not {"anyOf", "oneOf", "allOf"} & set(tool.input_schema), tool.name
        assert tool.output_schema and tool.output_schema["type"] == "object"


async def test_deprecated_tools_name_their_replacement(env):
    _, client = env
    tools = {t.name: t for t in (await client.list_tools()).tools}
    for name, replacement in (("register_order_changes", "create_order_modification"), ("get_feed_v2_status", "get_feed_items")):
        assert replacement in tools[name].description and tools[name].meta["vtex"]["deprecatedBy"] == replacement


async def test_compact_and_full_views(env):
    app, client = env
    compact = await call(client, "get_order", {"orderId": SEED})
    full = await call(client, "get_order", {"orderId": SEED, "view": "full"})
    assert compact["order"]["customer"]["name"] == "Rodrigo Cunha"
    assert compact["order"]["statusMeaning"] and compact["order"]["total"].startswith("R$")
    assert full["order"]["clientProfileData"]["firstName"] == "Rodrigo" and "items" in full["order"]


async def test_all_pages_reports_progress_and_merges_rows(env):
    app, client = env
    progress: list[float] = []

    async def on_progress(p, total, message):
        progress.append(p)

    result = await client.call_tool("list_orders", {"per_page": 10, "all_pages": True}, progress_callback=on_progress)
    out = result.structured_content
    ids = [row["orderId"] for row in out["orders"]]
    assert len(ids) == len(set(ids)) == min(len(app.sandbox.store.orders), 300)
    assert progress and max(progress) == out["paging"]["pagesFetched"]


async def test_all_pages_fails_cleanly_when_one_page_fails(tmp_path):
    """Page 2 of 3 refused: the call fails with that page's error, as a single-page read would."""
    import httpx2

    def vtex(request):
        page = int(request.url.params.get("page", "1"))
        if page == 2:
            return httpx2.Response(403, json={"error": {"code": "1", "message": "Access denied"}})
        rows = [{"orderId": f"v{page}{i}x-01", "status": "handling", "totalValue": 1000, "currencyCode": "BRL",
                 "creationDate": "2026-01-01T00:00:00Z"} for i in range(2)]  # fmt: skip
        return httpx2.Response(200, json={"list": rows, "paging": {"total": 6, "pages": 3, "currentPage": page,
                                                                   "perPage": 2}})  # fmt: skip

    settings = Settings.from_env({"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"},
                                 state_dir=tmp_path)  # fmt: skip
    app = build_server(settings, transport=httpx2.MockTransport(vtex))
    async with Client(app.server) as client:
        result = await client.call_tool("list_orders", {"per_page": 2, "all_pages": True})
    assert result.is_error, result.content
    assert result.content[0].text.startswith("failed to list orders: VTEX answered 403"), result.content[0].text


async def test_upstream_refusal_says_what_to_do_next(env):
    app, client = env
    invoiced = pick(app, "invoiced")["orderId"]
    result = await client.call_tool("cancel_order", {"orderId": invoiced, "reason": "late"})
    text = result.content[0].text
    assert result.is_error and "invoice_order (type Input)" in text, text
    assert re.search(r"VTEX answered 4\d\d", text)


async def test_null_means_not_given(env):
    """Clients that fill every optional field with null get the same call as if they had left it out."""
    app, client = env
    assert await call(client, "get_order", {"orderId": SEED, "view": None}) == await call(
        client, "get_order", {"orderId": SEED}
    )
    plain = await call(client, "list_orders", {})
    assert await call(client, "list_orders", {"q": None, "status": None, "page": None, "per_page": None}) == plain

    o, p = invoiced_with_tracking(app)
    base = {"orderId": o["orderId"], "invoiceNumber": p["invoiceNumber"], "trackingNumber": "BR1", "courier": "C"}
    bodies = []
    for args in (base, {**base, "trackingUrl": None, "dispatchedDate": None}):
        app.sandbox.clear_log()
        assert (await call(client, "update_invoice_tracking", args))["status"] == "done"
        bodies.append([w.body for w in app.sandbox.writes()])
    assert bodies[0] == bodies[1] and len(bodies[0]) == 1

    # nested bodies too, and a required field set to null is reported as missing, before any request
    items = [{"id": "1", "quantity": 1, "price": 100, "description": None}]
    app.sandbox.clear_log()
    result = await client.call_tool("invoice_order", {"orderId": None, "type": "Output", "invoiceNumber": "NF-9",
                                                      "invoiceValue": 100, "issuanceDate": "2026-11-23T10:00:00Z",
                                                      "items": items})  # fmt: skip
    assert result.is_error and "orderId: required" in result.content[0].text, result.content[0].text
    assert "items" not in result.content[0].text and app.sandbox.requests == []


async def test_partial_settings_send_only_what_was_given(env):
    """Settings fields carry no defaults: enabling My Orders must not switch the API off."""
    app, client = env
    app.sandbox.clear_log()
    await call(client, "update_order_modification_settings",
               {"rolloutConfiguration": {"enableMyOrders": {"enabledWorkspaces": ["store"]}}})  # fmt: skip
    (write,) = app.sandbox.writes()
    assert write.body == {"rolloutConfiguration": {"enableMyOrders": {"enabledWorkspaces": ["store"]}}}
    now = (await call(client, "get_order_modification_settings", {}))["result"]
    assert now["rolloutConfiguration"]["enableApi"] is True
