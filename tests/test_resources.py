"""Resources and completions through the SDK client against the embedded sandbox.

Every template and static resource is listed and read in both forms (JSON and .txt); the order
JSON must equal the matching read tool's structuredContent; unknown orders are JSON-RPC -32602
errors; completions come from list_orders. The last test checks the order-status reference
against what the sandbox actually accepts and refuses, status by status.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, UTC

import httpx2
import pytest
from mcp import Client, types
from mcp.shared.exceptions import MCPError
from mcp.server.apps import APP_MIME_TYPE
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, PromptReference, ResourceTemplateReference

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.guard import APPROVAL_CARD
from vtex_orders_mcp.registry import OPERATIONS
from vtex_orders_mcp.resources import AUDIT_URI, STATUS_REFERENCE_URI
from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Fault
from vtex_orders_mcp.sandbox.modifications import payment_finished
from vtex_orders_mcp.server import build_server
from vtex_orders_mcp.statuses import MAIN, meaning

pytestmark = pytest.mark.anyio

SEED = "v502556llux-01"
SANDBOX_URL = "http://sandbox.vtexcommercestable.com.br"
UNKNOWN = "v999999999zz-01"  # well formed, not in the sandbox
TEMPLATES = {
    "vtex://orders/{order_id}": "application/json",
    "vtex://orders/{order_id}/conversation": "application/json",
    "vtex://orders/{order_id}/payment-transaction": "application/json",
    "vtex://orders/{order_id}.txt": "text/plain",
    "vtex://orders/{order_id}/conversation.txt": "text/plain",
    "vtex://orders/{order_id}/payment-transaction.txt": "text/plain",
}
STATIC = {
    APPROVAL_CARD: APP_MIME_TYPE,
    STATUS_REFERENCE_URI: "application/json",
    STATUS_REFERENCE_URI + ".txt": "text/plain",
    AUDIT_URI: "application/json",
    AUDIT_URI + ".txt": "text/plain",
}


async def approve(ctx, params):
    return types.ElicitResult(action="accept", content={})


@pytest.fixture
def app(tmp_path):
    return build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=80))


@pytest.fixture
async def client(app):
    async with Client(app.server, elicitation_callback=approve) as c:
        yield c


async def read(client: Client, uri: str) -> types.TextResourceContents:
    """The read's first content; a JSON read must also carry the very text its .txt form gives."""
    result = await client.read_resource(uri)
    content = result.contents[0]
    assert all(isinstance(c, types.TextResourceContents) and c.uri == uri for c in result.contents)
    if uri.endswith(".txt"):
        assert len(result.contents) == 1 and content.mime_type == "text/plain"
    else:
        assert [c.mime_type for c in result.contents] == ["application/json", "text/plain"]
        if "audit" not in uri:  # the audit text differs between two reads only by what happened between
            twin = (await client.read_resource(uri + ".txt")).contents[0]
            assert result.contents[1].text == twin.text
    return content


def with_conversation(app) -> str:
    return next(oid for oid, meta in app.sandbox.store.meta.items() if len(meta.get("conversation") or []) >= 2)


# --- listing and reading ------------------------------------------------------------------------


async def test_lists_every_template_and_static_resource(client):
    templates = (await client.list_resource_templates()).resource_templates
    assert {t.uri_template: t.mime_type for t in templates} == TEMPLATES
    resources = (await client.list_resources()).resources
    assert {str(r.uri): r.mime_type for r in resources} == STATIC
    for item in [*templates, *resources]:
        assert item.name and item.title and item.description


MIRRORED = [op for op in OPERATIONS if op.resource is not None]


def allows(status: str, ops=OPERATIONS) -> list[str]:
    """The tools the reference should list for ``status``: the operations whose rule allows it."""
    return [op.name for op in ops if op.rule is not None and not op.deprecated_by and status in op.rule.allowed]


@pytest.mark.parametrize("op", MIRRORED, ids=lambda op: op.name)
async def test_order_json_is_the_tools_structured_content(app, client, op):
    order_id = with_conversation(app)
    content = await read(client, op.resource.uri.replace("{order_id}", order_id))
    assert content.mime_type == "application/json"
    tool = await client.call_tool(op.name, {"order_id": order_id})
    assert not tool.is_error
    assert json.loads(content.text) == tool.structured_content
    assert app.sandbox.writes() == []


@pytest.mark.parametrize("op", MIRRORED, ids=lambda op: op.name)
async def test_order_text_is_readable_not_json(app, client, op):
    order_id = with_conversation(app)
    content = await read(client, op.resource.uri.replace("{order_id}", order_id) + ".txt")
    assert content.mime_type == "text/plain"
    assert order_id in content.text
    with pytest.raises(ValueError):
        json.loads(content.text)


async def test_order_text_carries_the_facts(app, client):
    text = (await read(client, f"vtex://orders/{SEED}.txt")).text
    order = app.sandbox.store.orders[SEED]
    first_line = text.splitlines()[0]
    assert first_line == f"Order {SEED} — {order['status']} ({meaning(order['status'])})"
    assert order["clientProfileData"]["email"] in text
    for item in order["items"]:
        assert f"{item['quantity']}x {item['name']} (SKU {item['id']})" in text
    assert "Shipping: to " in text and "Payment: " in text


async def test_conversation_text_newest_first_with_headers(app, client):
    order_id = with_conversation(app)
    raw = app.sandbox.store.meta[order_id]["conversation"]
    messages = json.loads((await read(client, f"vtex://orders/{order_id}/conversation")).text)["messages"]
    assert len(messages) == len(raw)
    dates = [m["date"] for m in messages]
    assert dates == sorted(dates, reverse=True)
    assert all("<" not in m["body"] for m in messages)  # HTML bodies come out as text
    text = (await read(client, f"vtex://orders/{order_id}/conversation.txt")).text
    assert text.splitlines()[0] == f"Order {order_id}: {len(raw)} message(s), newest first."
    newest = messages[0]
    header = f"{newest['date']} — from {newest['from']} to {newest['to']} — {newest['subject']}"
    assert f"\n{header}\n{newest['body']}" in text
    assert text.index(messages[0]["subject"]) < text.index(messages[-1]["subject"])


async def test_conversation_without_messages_says_so(app, client):
    store = app.sandbox.store
    order_id = next(oid for oid in store.orders if not store.meta.get(oid, {}).get("conversation"))
    assert json.loads((await read(client, f"vtex://orders/{order_id}/conversation")).text) == {"messages": []}
    text = (await read(client, f"vtex://orders/{order_id}/conversation.txt")).text
    assert text == f"Order {order_id}: no messages exchanged with the customer."


async def test_payment_transaction_json_and_text(app, client):
    data = json.loads((await read(client, f"vtex://orders/{SEED}/payment-transaction")).text)["transaction"]
    tx = app.sandbox.store.orders[SEED]["paymentData"]["transactions"][0]
    assert data["transactionId"] == tx["transactionId"] and data["status"] and data["payments"]
    text = (await read(client, f"vtex://orders/{SEED}/payment-transaction.txt")).text
    assert f"payment transaction {tx['transactionId']} — {data['status']}" in text
    for payment in data["payments"]:
        assert payment["system"] in text and f"id {payment['id']}" in text


# --- not found and failures ---------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(TEMPLATES))
async def test_unknown_order_is_resource_not_found(app, client, template):
    with pytest.raises(MCPError) as err:
        await client.read_resource(template.replace("{order_id}", UNKNOWN))
    assert err.value.code == INVALID_PARAMS == -32602
    assert UNKNOWN in err.value.message and "not found" in err.value.message


async def test_malformed_order_id_is_not_found_without_a_request(app, client):
    for uri in ("vtex://orders/zz", "vtex://orders/not an id/conversation", "vtex://orders/..%2Fx.txt"):
        with pytest.raises(MCPError) as err:
            await client.read_resource(uri)
        assert err.value.code == INVALID_PARAMS
    assert app.sandbox.requests == []


async def test_vtex_failure_is_a_resource_error_with_its_message(app, client):
    app.sandbox.faults.add(Fault(kind="status", status=403, path=r"/payment-transaction$"))
    with pytest.raises(MCPError) as err:
        await client.read_resource(f"vtex://orders/{SEED}/payment-transaction")
    assert err.value.code == INTERNAL_ERROR
    assert "403" in err.value.message and "VTEX_APP_KEY" in err.value.message


async def test_payment_transaction_refused_by_vtex_says_why(app, client):
    # VTEX serves payment transactions of marketplace orders only: a Fulfillment order's read is
    # refused with VTEX's reason, as invalid params, never as the server's "Internal error".
    order_id = next(k for k, o in app.sandbox.store.orders.items() if o.get("origin") == "Fulfillment")
    for suffix in ("", ".txt"):
        with pytest.raises(MCPError) as err:
            await client.read_resource(f"vtex://orders/{order_id}/payment-transaction{suffix}")
        assert err.value.code == INVALID_PARAMS
        assert "only Marketplace orders" in err.value.message and order_id in err.value.message
        assert "Internal error" not in err.value.message and len(err.value.message) <= 500


@pytest.mark.parametrize("template", sorted(TEMPLATES))
async def test_every_order_resource_refused_by_vtex_is_invalid_params(app, client, template):
    app.sandbox.faults.add(Fault(kind="status", status=400, path=re.escape(SEED)))
    with pytest.raises(MCPError) as err:
        await client.read_resource(template.replace("{order_id}", SEED))
    assert err.value.code == INVALID_PARAMS and "VTEX answered 400" in err.value.message
    assert "refuses this resource" in err.value.message and len(err.value.message) <= 500


# --- static resources ---------------------------------------------------------------------------


async def test_status_reference_lists_every_status(client):
    data = json.loads((await read(client, STATUS_REFERENCE_URI)).text)
    assert [s["status"] for s in data["statuses"]] == list(MAIN)
    for entry in data["statuses"]:
        status = entry["status"]
        assert entry == {"status": status, "meaning": meaning(status), "allows": allows(status)}
    tool_names = {t.name for t in (await client.list_tools()).tools}
    assert {t for s in data["statuses"] for t in s["allows"]} <= tool_names
    assert data["statuses"][MAIN.index("ready-for-handling")]["allows"] == ["start_handling", "cancel_order",
                                                                           "invoice_order"]  # fmt: skip
    assert data["statuses"][MAIN.index("canceled")]["allows"] == []
    text = (await read(client, STATUS_REFERENCE_URI + ".txt")).text
    for status in MAIN:
        line = next(line for line in text.splitlines() if line.startswith(status + " "))
        assert meaning(status) in line and all(t in line for t in allows(status))


async def test_audit_resource_shows_guarded_writes_newest_first(app, client):
    assert json.loads((await read(client, AUDIT_URI)).text) == {"events": []}
    assert (await read(client, AUDIT_URI + ".txt")).text == "No guarded calls recorded yet."
    order_id = next(o["orderId"] for o in app.sandbox.store.orders.values() if o["status"] == "ready-for-handling")
    result = await client.call_tool("start_handling", {"order_id": order_id})
    assert not result.is_error, result.content

    events = json.loads((await read(client, AUDIT_URI)).text)["events"]
    assert [e["event"] for e in events][:2] == ["executed", "executing"]
    assert all(e["tool"] == "start_handling" for e in events)
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert events[-1]["arguments"] == {"order_id": order_id}
    text = (await read(client, AUDIT_URI + ".txt")).text
    lines = text.splitlines()
    assert lines[0] == f"Last {len(events)} audit event(s), newest first."
    assert re.match(r"^\S+ start_handling executed via elicitation by \S+", lines[1])


async def test_audit_resource_never_shows_secrets(tmp_path):
    secret = "http-token-7f3c9a1b2d5e"
    settings = Settings.from_env({"VTEX_MCP_HTTP_TOKEN": secret}, state_dir=tmp_path / "state", sandbox_orders=20)
    app = build_server(settings)
    assert app.sandbox is not None and secret in settings.secret_values()
    # Token-like arguments are masked; a configured secret is masked wherever it appears, the
    # summary included (the audit log itself stores summaries as given).
    await app.store.record(call_id="c1", tool="confirm_write", event="token_rejected", arguments={"token": "tok-12"})
    await app.store.record(call_id="c2", tool="cancel_order", event="failed", detail=f"rejected {secret}",
                           summary=f"Cancel with {secret}")  # fmt: skip
    async with Client(app.server) as c:
        for uri in (AUDIT_URI, AUDIT_URI + ".txt"):
            text = (await read(c, uri)).text
            assert secret not in text and "tok-12" not in text and "***" in text


# --- completions --------------------------------------------------------------------------------


def order_ref(uri: str = "vtex://orders/{order_id}") -> ResourceTemplateReference:
    return ResourceTemplateReference(type="ref/resource", uri=uri)


async def test_complete_order_id_by_prefix(app, client):
    result = await client.complete(order_ref(), {"name": "order_id", "value": "v50"})
    assert SEED in result.completion.values
    assert all(v.lower().startswith("v50") for v in result.completion.values)
    prefix = next(oid for oid in app.sandbox.store.orders if oid[0].isdigit())[:4]
    ref = order_ref("vtex://orders/{order_id}/conversation")
    result = await client.complete(ref, {"name": "order_id", "value": prefix})
    expected = {oid for oid in app.sandbox.store.orders if oid.startswith(prefix)}
    assert result.completion.values and set(result.completion.values) <= expected
    assert app.sandbox.writes() == []


async def test_complete_empty_prefix_gives_recent_orders(app, client):
    result = await client.complete(order_ref(), {"name": "order_id", "value": ""})
    listed = await client.call_tool("list_orders", {"per_page": 20})
    assert result.completion.values == [row["orderId"] for row in listed.structured_content["orders"]]
    assert result.completion.total == len(app.sandbox.store.orders) and result.completion.has_more


async def test_complete_no_match_and_upstream_failure_give_nothing(app, client):
    result = await client.complete(order_ref(), {"name": "order_id", "value": "zzzz"})
    assert result.completion.values == []
    app.sandbox.faults.add(Fault(kind="status", status=403, path=r"^/api/oms/pvt/orders$"))
    result = await client.complete(order_ref(), {"name": "order_id", "value": "v5"})
    assert result.completion.values == []


async def test_complete_prompt_arguments(client):
    ref = PromptReference(type="ref/prompt", name="where_is_my_order")
    result = await client.complete(ref, {"name": "order_id", "value": "v502"})
    assert result.completion.values == [SEED]
    ref = PromptReference(type="ref/prompt", name="stuck_orders_backlog")
    result = await client.complete(ref, {"name": "status", "value": "ha"})
    assert result.completion.values == ["handling"]
    result = await client.complete(ref, {"name": "olderThanDays", "value": "1"})
    assert result.completion.values == []


# --- the reference agrees with the sandbox ------------------------------------------------------

# The status-gated tools of the reference, each probed on an order in a given status. A probe is
# "allowed" when the sandbox performs it and "refused" when it answers a conflict (400/409);
# anything else is a bug in the probe. Tracking tools are gated by an invoice existing, not by
# the status, and the reference states that condition separately.
PROBED = ("start_handling", "cancel_order", "create_order_modification", "invoice_order",
          "send_payment_notification")  # fmt: skip


def _clean(order: dict, store) -> bool:
    """An order whose only obstacle can be its status: complete, marketplace, no invoice, payment open."""
    return (order.get("isCompleted", True) and order.get("origin") == "Marketplace"
            and not (order.get("packageAttachment") or {}).get("packages")
            and not payment_finished(order, store.meta.get(order["orderId"], {}))
            and (order.get("paymentData") or {}).get("transactions"))  # fmt: skip


async def _probe(http: httpx2.AsyncClient, app, order: dict, tool: str) -> bool:
    """Send the tool's request on the wire, as VTEX spells it (independent of the tool models)."""
    oid = order["orderId"]
    base = f"/api/oms/pvt/orders/{oid}"
    if tool == "start_handling":
        answer = await http.post(f"{base}/start-handling")
    elif tool == "cancel_order":
        answer = await http.post(f"{base}/cancel", json={"reason": "probe"})
    elif tool == "create_order_modification":
        # The preview runs the same checks as the modification itself and changes nothing.
        first = order["items"][0]
        line = {"items": [{"id": first["id"], "quantity": 1}]}
        body = {"reason": "probe", "replace": [{"from": line, "to": line}]}
        answer = await http.post(f"/api/order-system/orders/{oid}/changes/preview", params={"an": "sandbox"}, json=body)
    elif tool == "invoice_order":
        # A sale (Output) while not invoiced; on an invoiced order what remains is a return (Input).
        if order["status"] == "invoiced":
            kind, lines = "Input", [{**order["items"][0], "quantity": 1}]
        else:
            kind, lines = "Output", order["items"]
        items = [{"id": i["id"], "quantity": i["quantity"], "price": i.get("sellingPrice", i["price"])} for i in lines]
        value = sum(i["price"] * i["quantity"] for i in items) if kind == "Input" else order["value"]
        answer = await http.post(f"{base}/invoice", json={
            "type": kind, "invoiceNumber": "PROBE1", "invoiceValue": str(value), "items": items,
            "issuanceDate": datetime.now(UTC).isoformat()})  # fmt: skip
    elif tool == "send_payment_notification":
        before = order["status"]
        payment = order["paymentData"]["transactions"][0]["payments"][0]["id"]
        answer = await http.post(f"{base}/payments/{payment}/payment-notification")
        if answer.is_success:  # acknowledged without effect is not acting on the order
            return app.sandbox.store.orders[oid]["status"] != before
    else:  # pragma: no cover
        raise AssertionError(tool)
    assert answer.is_success or answer.status_code in (400, 409), (tool, answer.status_code, answer.text)
    return answer.is_success


async def test_status_reference_agrees_with_the_sandbox(app):
    store = app.sandbox.store
    base = next(o for o in store.orders.values() if o["status"] == "handling" and _clean(o, store))
    invoiced = next(o for o in store.orders.values() if o["status"] == "invoiced" and o.get("isCompleted", True)
                    and o.get("origin") == "Marketplace")  # fmt: skip
    mismatches, accepted_somewhere = [], set()
    http = httpx2.AsyncClient(
        transport=app.sandbox.transport(),
        base_url=SANDBOX_URL,
        headers={"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN},
    )
    for status in MAIN:
        listed = allows(status)
        template = invoiced if status == "invoiced" else base
        for tool in PROBED:
            oid = template["orderId"]
            saved_order, saved_meta = copy.deepcopy(store.orders[oid]), copy.deepcopy(store.meta.get(oid))
            store.orders[oid]["status"] = status
            try:
                accepted = await _probe(http, app, store.orders[oid], tool)
            finally:
                store.orders[oid] = saved_order
                if saved_meta is None:
                    store.meta.pop(oid, None)
                else:
                    store.meta[oid] = saved_meta
            if accepted:
                accepted_somewhere.add(tool)
            if accepted != (tool in listed):
                mismatches.append(f"{status}: sandbox {'accepts' if accepted else 'refuses'} {tool}, "
                                  f"the reference {'lists' if tool in listed else 'does not list'} it")  # fmt: skip
    await http.aclose()
    # A probe refused everywhere is a broken probe (e.g. a body VTEX rejects), not a rule.
    assert accepted_somewhere == set(PROBED)
    assert not mismatches, "the status rules (statuses.py) and the sandbox disagree:\n" + "\n".join(mismatches)


def test_order_text_tells_split_deliveries_returns_and_dates():
    from vtex_orders_mcp.views import order_text

    view = {
        "orderId": "v1-01", "status": "invoiced", "statusMeaning": "invoiced",
        "items": [{"qty": 1, "name": "Mug", "sku": "1", "price": "R$ 10,00"}, {"sku": "2"}],
        "shipping": {"to": "Ana", "address": "Rua A, 1", "deliveries": [
            {"skus": ["1"], "carrier": "Correios", "estimate": "2026-11-25"},
            {"skus": ["2"], "pickupPoint": "Loja Centro", "estimate": "2026-11-30"}]},
        "invoices": [{"number": "NF1", "type": "Output", "tracking": "BR1", "delivered": "2026-11-24 10:00"},
                     {"number": "RET1", "type": "Input"}],
    }  # fmt: skip
    text = order_text(view)
    assert "SKU 1 · Correios · estimate 2026-11-25" in text
    assert "pickup at Loja Centro" in text and "estimate 2026-11-30" in text  # the later delivery is visible
    assert "delivered 2026-11-24 10:00" in text and "delivered True" not in text
    assert "(RET1" not in text and "Invoice RET1 (Input)" in text and text.count("no tracking number yet") == 0
    assert "None" not in text and "(unnamed item) (SKU 2)" in text


async def test_the_audit_resource_stays_bounded_whatever_the_calls_carried(tmp_path):
    """Arguments may be 256 KiB: the resource shows each long field as an excerpt with its size."""
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=10, guard="token"))
    async with Client(app.server) as client:
        for n in range(3):
            reason = str(n) * 200_000
            await client.call_tool("cancel_order", {"order_id": "v502556llux-01", "reason": reason})
            await client.call_tool("confirm_write", {"tool": "cancel_order", "arguments": {"reason": reason},
                                                     "token": "x"})  # fmt: skip
        read = await client.read_resource(AUDIT_URI)
    body = read.contents[0].text
    assert len(body) < 20_000, len(body)
    assert "characters" in body
