"""Issue #17's sandbox fidelity items, each checked over HTTP against VTEX's documented behaviour:
modification settings as VTEX defaults them, allowCancellation where cancel is refused, invoiced
quantities that add up and invoice values that match their items, the error shapes VTEX documents
(problem JSON on the change summary, "Value not found." text), clientEmail optional, no invented
upper bound on the seller window, a 405's Allow header, authorization dates in the past, receipts
that depend on the order, a real e-mail address on the example order, and the f_hasInputInvoice
filter no longer overwritten by f_isInstore.
"""

from __future__ import annotations

import re

import pytest
from sandbox_support import NOW, check_ext_schema, check_response, http, pick

from vtex_orders_mcp.sandbox import Sandbox, invoicing
from vtex_orders_mcp.sandbox.modifications import SEEDED_ACCOUNT_SETTINGS

pytestmark = pytest.mark.anyio

ORDERS = "/api/oms/pvt/orders"
SETTINGS = "/api/order-system/orders/changes/settings"
EXAMPLE = "v502556llux-01"
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


# -- order-modification settings ------------------------------------------------------------------


async def test_a_new_account_has_vtex_defaults_and_the_seeded_one_says_it_saved_its_own():
    fresh = Sandbox(orders=10, now=NOW, modification_settings=None)
    async with http(fresh) as c:
        body = (await c.get(SETTINGS, params={"an": "sandbox"})).json()
        check_ext_schema("GET /api/order-system/orders/changes/settings", "200", body)
        assert body["rolloutConfiguration"]["enableApi"] is False  # VTEX: default false
        assert body["rolloutConfiguration"]["usingDefaultBehavior"] is True
        order = pick(fresh, "handling")
        refused = await c.patch(
            f"/api/order-system/orders/{order['orderId']}/changes",
            params={"accountName": "sandbox"},
            json={"reason": "x", "remove": {"items": [{"id": order["items"][0]["id"], "quantity": 1}]}},
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "ORDMOD003"

    seeded = Sandbox(orders=10, now=NOW)
    assert SEEDED_ACCOUNT_SETTINGS == {"rolloutConfiguration": {"enableApi": True}}
    async with http(seeded) as c:
        body = (await c.get(SETTINGS, params={"an": "sandbox"})).json()
        assert body["rolloutConfiguration"]["enableApi"] is True
        assert body["rolloutConfiguration"]["usingDefaultBehavior"] is False  # it saved its settings
        seeded.reset()  # the saved settings survive a reset
        again = (await c.get(SETTINGS, params={"an": "sandbox"})).json()
        assert again == body


# -- allowCancellation ------------------------------------------------------------------------------


async def test_allow_cancellation_is_false_exactly_where_cancel_is_refused(sb, client):
    refused_kinds = {"partial": 0, "incomplete": 0}
    for order in sb.store.orders.values():
        partial = invoicing.is_partially_invoiced(order)
        incomplete = not order.get("isCompleted", True)
        final = order["status"] in ("invoiced", "canceled")
        assert order["allowCancellation"] is not (partial or incomplete or final), order["orderId"]
        if partial or incomplete:
            refused_kinds["partial" if partial else "incomplete"] += 1
            served = (await client.get(f"{ORDERS}/{order['orderId']}")).json()
            assert served["allowCancellation"] is False
            cancel = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "x"})
            assert cancel.status_code == 400, cancel.text
    assert refused_kinds["partial"] and refused_kinds["incomplete"], refused_kinds


# -- invoices ----------------------------------------------------------------------------------------


def _invoice(number: str, sku: str, quantity: int, price: int, value: int | None = None, kind: str = "Output"):
    return {
        "type": kind,
        "issuanceDate": "2025-06-02T10:00:00Z",
        "invoiceNumber": number,
        "invoiceValue": str(price * quantity if value is None else value),
        "items": [{"id": sku, "price": price, "quantity": quantity}],
    }


def _two_units_among_others(order) -> bool:
    items = order["items"]
    return len(items) > 1 and items[0]["quantity"] == 2 and not invoicing.packages(order)


async def test_invoiced_quantities_add_up_and_the_value_must_match_the_items():
    sandbox = Sandbox(orders=200, now=NOW)
    order = pick(sandbox, "handling", two=_two_units_among_others)
    item = order["items"][0]
    sku, price, url = item["id"], item["sellingPrice"], f"{ORDERS}/{order['orderId']}/invoice"
    others = [t["value"] for t in order["totals"] if t["id"] != "Items"]
    above, below = sum(v for v in others if v > 0), sum(v for v in others if v < 0)
    async with http(sandbox) as c:
        wrong = await c.post(url, json=_invoice("NF1", sku, 1, price, value=price + above + 1))
        assert wrong.status_code == 400 and "does not match the invoiced items" in wrong.json()["error"]["message"]
        short = await c.post(url, json=_invoice("NF1", sku, 1, price, value=price + below - 1))
        assert short.status_code == 400 and "does not match the invoiced items" in short.json()["error"]["message"]
        first = await c.post(url, json=_invoice("NF1", sku, 2, price))
        assert first.status_code == 200, first.text
        again = await c.post(url, json=_invoice("NF2", sku, 2, price))  # the same 2 units once more
        assert again.status_code == 400
        assert "only 0 unit(s) of SKU" in again.json()["error"]["message"]
        assert "2 of 2 already invoiced" in again.json()["error"]["message"]
    packages = invoicing.packages(sandbox.store.orders[order["orderId"]])
    assert [(p["invoiceNumber"], p["items"][0]["quantity"]) for p in packages] == [("NF1", 2)]


async def test_a_return_covers_only_units_invoiced_and_not_yet_returned():
    sandbox = Sandbox(orders=200, now=NOW)
    order = pick(sandbox, "invoiced", one=lambda o: not invoicing.has_input_invoice(o))
    item = order["items"][0]
    url = f"{ORDERS}/{order['orderId']}/invoice"
    async with http(sandbox) as c:
        quantity, price = item["quantity"], item["sellingPrice"]
        whole = await c.post(url, json=_invoice("RET1", item["id"], quantity, price, kind="Input"))
        assert whole.status_code == 200, whole.text
        more = await c.post(url, json=_invoice("RET2", item["id"], 1, price, kind="Input"))
        assert more.status_code == 400 and "already returned" in more.json()["error"]["message"]


# -- error shapes -------------------------------------------------------------------------------------


async def test_change_summary_errors_are_problem_json(sb, client, anon):
    unauthorized = await anon.get(f"/api/orders/pvt/document/{EXAMPLE}/change-summary")
    assert unauthorized.status_code == 401
    body = unauthorized.json()
    assert body["type"] == "https://tools.ietf.org/html/rfc9110#section-15.5.2"
    assert (body["title"], body["status"]) == ("Unauthorized", 401)
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00", body["traceId"])
    missing = await client.get("/api/orders/pvt/document/nope-01/change-summary")
    assert missing.status_code == 404
    assert {k: v for k, v in missing.json().items() if k != "traceId"} == {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        "title": "Not Found",
        "status": 404,
        "detail": "Order not found.",
    }
    # Other routes keep the OMS envelope for a missing credential.
    assert (await anon.get(f"{ORDERS}/{EXAMPLE}")).json()["error"]["code"] == "1"


async def test_cancel_and_payment_notification_on_an_unknown_order_answer_value_not_found(client):
    for path in (f"{ORDERS}/nope-01/cancel", f"{ORDERS}/nope-01/payments/ABC/payment-notification"):
        r = await client.post(path, json={})
        assert (r.status_code, r.text) == (404, "Value not found."), path
        assert r.headers["content-type"].startswith("text/plain")


async def test_client_email_is_optional_on_the_customer_order_list(sb, client):
    everyone = check_response("GET /api/oms/user/orders", await client.get("/api/oms/user/orders"))
    assert everyone["paging"]["total"] == len(sb.store.orders)
    example = sb.store.orders[EXAMPLE]
    email = example["clientProfileData"]["email"]
    mine = check_response(
        "GET /api/oms/user/orders", await client.get("/api/oms/user/orders", params={"clientEmail": email})
    )
    assert EXAMPLE in {row["orderId"] for row in mine["list"]} and mine["paging"]["total"] < len(sb.store.orders)
    detail = await client.get(f"/api/oms/user/orders/{EXAMPLE}")
    assert detail.status_code == 200 and detail.json()["orderId"] == EXAMPLE


async def test_a_405_lists_every_method_the_path_serves(client):
    for path, allowed in (
        ("/api/orders/feed/config", "DELETE, GET, HEAD, POST"),
        ("/api/checkout/pvt/configuration/window-to-change-seller", "GET, HEAD, POST"),
        ("/api/order-system/orders/v502556llux-01/changes", "GET, HEAD, PATCH"),
    ):
        r = await client.put(path, json={})
        assert (r.status_code, r.headers.get("allow")) == (405, allowed), path


# -- generated data ------------------------------------------------------------------------------------


async def test_authorization_dates_are_in_the_past_and_not_after_the_last_change(client):
    now = NOW.isoformat()
    query = {"f_status": "window-to-cancel,payment-approved", "per_page": 100}
    listing = (await client.get(ORDERS, params=query)).json()
    assert listing["list"]
    for row in listing["list"]:
        order = (await client.get(f"{ORDERS}/{row['orderId']}")).json()
        authorized, last = order["authorizedDate"][:19], order["lastChange"][:19]
        assert order["creationDate"][:19] <= authorized <= last <= now[:19], row["orderId"]


async def test_receipts_depend_on_the_order_and_stay_reproducible():
    first_receipts = []
    for order_id in ("A", "B", "A"):
        sandbox = Sandbox(orders=40, now=NOW)
        orders = [o for o in sorted(sandbox.store.orders) if sandbox.store.orders[o]["status"] == "ready-for-handling"]
        target = orders[0] if order_id == "A" else orders[1]
        async with http(sandbox) as c:
            r = await c.post(f"{ORDERS}/{target}/cancel", json={"reason": "x"})
            assert r.status_code == 200, r.text
            first_receipts.append(r.json()["receipt"])
    a, b, a_again = first_receipts
    assert a != b, "the first cancel of two different orders returned the same receipt"
    assert a == a_again  # same seed, same call: same receipt (evals are reproducible)


async def test_the_example_order_carries_real_email_addresses(client):
    order = (await client.get(f"{ORDERS}/{EXAMPLE}")).json()
    assert order["clientProfileData"]["email"] == "rodrigo.cunha@vtex.com.br"  # as in VTEX's OpenAPI example
    assert EMAIL.match(order["followUpEmail"]) and order["followUpEmail"].endswith("@ct.vtex.com.br")


async def test_has_input_invoice_is_not_overwritten_by_is_instore(sb, client):
    returned = {o["orderId"] for o in sb.store.orders.values() if invoicing.has_input_invoice(o)}
    assert returned
    both = await client.get(ORDERS, params={"f_hasInputInvoice": "true", "f_isInstore": "false", "per_page": 100})
    assert {row["orderId"] for row in both.json()["list"]} == returned
