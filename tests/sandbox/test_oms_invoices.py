"""Invoices (Output/Input), tracking number and tracking status: one test per rule."""

from __future__ import annotations

import pytest
from sandbox_support import check_response, pick

from vtex_orders_mcp.sandbox.invoicing import (
    find_package,
    invoiced_total,
    is_partially_invoiced,
    order_total,
    quantities,
    remaining,
)

pytestmark = pytest.mark.anyio
ORDERS = "/api/oms/pvt/orders"
INVOICE_OP = "POST /api/oms/pvt/orders/{orderId}/invoice"


def uninvoiced_lines(order) -> list[dict]:
    """Invoice lines for every unit no Output invoice covers yet (invoiced quantities add up)."""
    done = quantities(order, "Output")
    return [
        {
            "id": i["id"],
            "price": i["sellingPrice"],
            "quantity": i["quantity"] - done.get(n, 0),
            "description": i["name"],
        }
        for n, i in enumerate(order["items"])
        if i["quantity"] > done.get(n, 0)
    ]


def invoice_body(order, number="NF-1001", value=None, kind="Output", items=None, **extra):
    items = (
        items
        if items is not None
        else [
            {"id": i["id"], "price": i["sellingPrice"], "quantity": i["quantity"], "description": i["name"]}
            for i in order["items"]
        ]
    )
    body = {
        "type": kind,
        "issuanceDate": "2025-06-02T12:00:00-03:00",
        "invoiceNumber": number,
        "invoiceValue": str(remaining(order) if value is None else value),
        "items": items,
        "courier": "",
        "trackingNumber": "",
        "trackingUrl": "",
        "invoiceKey": None,
        "invoiceUrl": None,
    }
    body.update(extra)
    return body


def whole_handling(sb):
    return pick(sb, "handling", whole=lambda o: not is_partially_invoiced(o))


async def test_full_output_invoice_moves_to_invoiced(client, sb):
    order = whole_handling(sb)
    total = order_total(order)
    response = await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order))
    body = check_response(INVOICE_OP, response)
    assert body["orderId"] == order["orderId"] and body["receipt"]
    assert order["status"] == "invoiced" and order["invoicedDate"] == sb.store.iso()
    package = find_package(order, "NF-1001")
    assert package["type"] == "Output" and package["invoiceValue"] == total
    assert [p["itemIndex"] for p in package["items"]] == list(range(len(order["items"])))
    assert order["value"] == total and order["allowCancellation"] is False


async def test_invoice_from_ready_for_handling(client, sb):
    order = pick(sb, "ready-for-handling")
    response = await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order))
    check_response(INVOICE_OP, response)
    assert order["status"] == "invoiced"


async def test_partial_invoice_updates_value_then_remaining_invoices(client, sb):
    order = whole_handling(sb)
    total = order_total(order)
    first_item = order["items"][0]
    part = first_item["sellingPrice"]  # one unit of the first item
    response = await client.post(
        f"{ORDERS}/{order['orderId']}/invoice",
        json=invoice_body(
            order,
            number="NF-1",
            value=part,
            items=[{"id": first_item["id"], "price": first_item["sellingPrice"], "quantity": 1}],
        ),
    )
    check_response(INVOICE_OP, response)
    assert order["status"] == "handling" and is_partially_invoiced(order)
    assert order["value"] == part  # "the order's total value will be updated, even in partial invoice scenarios"
    assert remaining(order) == total - part
    cancel = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "x"})
    assert cancel.status_code == 400
    rest = invoice_body(order, number="NF-2", items=uninvoiced_lines(order))  # not the first unit again
    check_response(INVOICE_OP, await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=rest))
    assert order["status"] == "invoiced" and invoiced_total(order) == total == order["value"]


async def test_same_invoice_number_again_only_renews_the_receipt(client, sb):
    order = whole_handling(sb)
    first = (await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order))).json()
    packages = [dict(p) for p in order["packageAttachment"]["packages"]]
    sb.clock.advance(5)
    again = await client.post(
        f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order, value=1, courier="Outra")
    )
    body = check_response(INVOICE_OP, again)
    assert body["receipt"] != first["receipt"] and body["date"] != first["date"]
    assert order["packageAttachment"]["packages"] == packages


async def test_return_invoice_after_full_invoicing_records_refund(client, sb):
    order = pick(
        sb, "invoiced", no_return=lambda o: all(p["type"] == "Output" for p in o["packageAttachment"]["packages"])
    )
    item = order["items"][0]
    value_before = order["value"]
    body = invoice_body(
        order,
        number="DEV-1",
        kind="Input",
        value=item["sellingPrice"],
        items=[{"id": item["id"], "price": item["sellingPrice"], "quantity": 1}],
    )
    check_response(INVOICE_OP, await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=body))
    package = find_package(order, "DEV-1")
    assert package["type"] == "Input"
    assert package["restitutions"]["Refund"]["value"] == item["sellingPrice"]
    assert package["restitutions"]["Refund"]["items"][0]["id"] == item["id"]
    assert order["status"] == "invoiced" and order["value"] == value_before
    rows = (await client.get(ORDERS, params={"f_hasInputInvoice": "true", "per_page": 100})).json()["list"]
    assert order["orderId"] in {r["orderId"] for r in rows}


async def test_return_invoice_refused_before_full_invoicing(client, sb):
    order = whole_handling(sb)
    response = await client.post(
        f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order, kind="Input", value=100)
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "OMS003",
        "exception": None,
        "message": "Return (Input) invoices are accepted only after the full order amount was invoiced",
    }
    assert not order["packageAttachment"]["packages"]


async def test_return_invoice_refused_beyond_invoiced_amount(client, sb):
    order = pick(sb, "invoiced")
    response = await client.post(
        f"{ORDERS}/{order['orderId']}/invoice",
        json=invoice_body(order, number="DEV-9", kind="Input", value=order["value"] + 1),
    )
    assert response.status_code == 400 and "exceeds the amount still returnable" in response.json()["error"]["message"]


async def test_output_invoice_refused_on_canceled_order(client, sb):
    order = pick(sb, "canceled")
    response = await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order, value=100))
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Order is canceled: invoices can no longer be sent"


async def test_output_invoice_refused_on_fully_invoiced_order(client, sb):
    order = pick(sb, "invoiced")
    response = await client.post(
        f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order, number="NF-X", value=1)
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Order is already fully invoiced; send an Input invoice for returns"


@pytest.mark.parametrize("status", ["payment-pending", "payment-approved", "window-to-cancel"])
async def test_output_invoice_refused_before_handling(client, sb, status):
    order = pick(sb, status)
    response = await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order, value=100))
    assert response.status_code == 409 and response.json()["error"]["code"] == "OMS003"
    assert order["status"] == status


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b.update(invoiceValue=1000), "The field 'invoiceValue' must be a string"),
        (lambda b: b.update(invoiceValue="24.99"), "The field 'invoiceValue' must be a string of integer cents"),
        (lambda b: b.update(invoiceValue="0"), "The field 'invoiceValue' must be greater than 0"),
        (lambda b: b.update(type="Sale"), "The field 'type' must be Output or Input"),
        (lambda b: b.pop("items"), "The field 'items' is required"),
        (lambda b: b.update(items=[]), "The field 'items' must contain at least one item"),
        (lambda b: b.pop("issuanceDate"), "The field 'issuanceDate' is required"),
        (lambda b: b.update(invoiceNumber=""), "The field 'invoiceNumber' must not be empty"),
        (
            lambda b: b.update(items=[{"id": "2000101", "price": "10", "quantity": 1}]),
            "The field 'items[0].price' must be an integer",
        ),
        (lambda b: b.update(items=[{"id": "0", "price": 10, "quantity": 1}]), "items[0].id: SKU 0 is not in order"),
        (lambda b: b.update(courier=None), "The field 'courier' must not be null"),
    ],
)
async def test_invoice_refuses_invalid_bodies(client, sb, mutate, message):
    order = whole_handling(sb)
    body = invoice_body(order)
    mutate(body)
    response = await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(message) or message in response.json()["error"]["message"]
    assert order["status"] == "handling" and not order["packageAttachment"]["packages"]


# -- tracking ------------------------------------------------------------------------------------
async def invoiced_order(client, sb, number="NF-77"):
    order = whole_handling(sb)
    await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=invoice_body(order, number=number))
    return order


TRACKING = {
    "trackingNumber": "BR123456789BR",
    "trackingUrl": "https://rastreio.example/BR123456789BR",
    "dispatchedDate": "2025-06-02T18:00:00+00:00",
    "courier": "Correios",
}


async def test_tracking_number_is_added_to_the_invoice(client, sb):
    order = await invoiced_order(client, sb)
    response = await client.patch(f"{ORDERS}/{order['orderId']}/invoice/NF-77", json=TRACKING)
    check_response("PATCH /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}", response)
    package = find_package(order, "NF-77")
    assert package["trackingNumber"] == "BR123456789BR" and package["courier"] == "Correios"
    assert package["trackingUrl"] == TRACKING["trackingUrl"] and package["dispatchedDate"] == TRACKING["dispatchedDate"]


async def test_tracking_number_unknown_invoice_is_404(client, sb):
    order = await invoiced_order(client, sb)
    response = await client.patch(f"{ORDERS}/{order['orderId']}/invoice/NF-404", json=TRACKING)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Invoice NF-404 not found in order {order['orderId']}"


@pytest.mark.parametrize("drop", ["trackingNumber", "trackingUrl", "dispatchedDate", "courier"])
async def test_tracking_number_requires_every_field(client, sb, drop):
    order = await invoiced_order(client, sb)
    body = {k: v for k, v in TRACKING.items() if k != drop}
    response = await client.patch(f"{ORDERS}/{order['orderId']}/invoice/NF-77", json=body)
    assert response.status_code == 400 and response.json()["error"]["message"] == f"The field '{drop}' is required"


EVENTS = {
    "isDelivered": False,
    "deliveredDate": None,
    "events": [
        {"city": "São Paulo", "state": "SP", "description": "Objeto postado", "date": "2025-06-02"},
        {"city": "Rio de Janeiro", "state": "RJ", "description": "Saiu para entrega", "date": "2025-06-04"},
    ],
}


async def test_tracking_status_records_events_and_delivery(client, sb):
    order = await invoiced_order(client, sb)
    await client.patch(f"{ORDERS}/{order['orderId']}/invoice/NF-77", json=TRACKING)
    url = f"{ORDERS}/{order['orderId']}/invoice/NF-77/tracking"
    check_response(
        "PUT /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking", await client.put(url, json=EVENTS)
    )
    status = find_package(order, "NF-77")["courierStatus"]
    assert status["finished"] is False and [d["description"] for d in status["data"]] == [
        "Objeto postado",
        "Saiu para entrega",
    ]
    delivered = dict(EVENTS, isDelivered=True, deliveredDate="2025-06-04 15:10")
    check_response(
        "PUT /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking", await client.put(url, json=delivered)
    )
    status = find_package(order, "NF-77")["courierStatus"]
    assert status["finished"] is True and status["deliveredDate"] == "2025-06-04 15:10"
    assert len(status["data"]) == 2  # the same events again are not duplicated


async def test_tracking_status_refused_before_a_tracking_number(client, sb):
    order = await invoiced_order(client, sb)
    response = await client.put(f"{ORDERS}/{order['orderId']}/invoice/NF-77/tracking", json=EVENTS)
    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith("Invoice NF-77 has no tracking number yet")
    assert find_package(order, "NF-77")["courierStatus"] is None


@pytest.mark.parametrize(
    "body, message",
    [
        ({"deliveredDate": None, "events": []}, "The field 'isDelivered' is required"),
        ({"isDelivered": "yes", "deliveredDate": None, "events": []}, "The field 'isDelivered' must be a boolean"),
        (
            {"isDelivered": True, "deliveredDate": None, "events": [{"city": "X", "state": "SP", "date": "d"}]},
            "The field 'events[0].description' is required",
        ),
    ],
)
async def test_tracking_status_refuses_invalid_bodies(client, sb, body, message):
    order = await invoiced_order(client, sb)
    await client.patch(f"{ORDERS}/{order['orderId']}/invoice/NF-77", json=TRACKING)
    response = await client.put(f"{ORDERS}/{order['orderId']}/invoice/NF-77/tracking", json=body)
    assert response.status_code == 400 and response.json()["error"]["message"] == message


async def test_documents_still_fit_the_schemas_after_every_kind_of_write(client, sb):
    """A full life cycle on a few orders, then every read view of them validates again."""
    touched = []
    order = pick(sb, "ready-for-handling", whole=lambda o: len(o["items"]) >= 2)
    oid = order["orderId"]
    await client.post(f"{ORDERS}/{oid}/start-handling")
    item = order["items"][0]
    await client.post(
        f"{ORDERS}/{oid}/changes",
        json={
            "requestId": "r1",
            "reason": "Troca",
            "discountValue": 100,
            "incrementValue": 0,
            "itemsRemoved": [],
            "itemsAdded": [],
        },
    )
    await client.post(
        f"{ORDERS}/{oid}/invoice",
        json=invoice_body(
            order,
            number="P1",
            value=item["sellingPrice"],
            items=[{"id": item["id"], "price": item["sellingPrice"], "quantity": 1}],
        ),
    )
    await client.post(f"{ORDERS}/{oid}/invoice", json=invoice_body(order, number="P2", items=uninvoiced_lines(order)))
    await client.patch(f"{ORDERS}/{oid}/invoice/P2", json=TRACKING)
    await client.put(
        f"{ORDERS}/{oid}/invoice/P2/tracking", json=dict(EVENTS, isDelivered=True, deliveredDate="2025-06-05 10:00")
    )
    await client.post(
        f"{ORDERS}/{oid}/invoice",
        json=invoice_body(
            order, number="R1", kind="Input", value=500, items=[{"id": item["id"], "price": 500, "quantity": 1}]
        ),
    )
    await client.post(f"{ORDERS}/{oid}/interactions", json={"source": "test", "message": "ok"})
    touched.append(order)
    canceled = pick(sb, "window-to-cancel")
    await client.post(f"{ORDERS}/{canceled['orderId']}/cancel", json={"reason": "Desistência"})
    touched.append(canceled)
    paid = pick(sb, "payment-pending", complete=lambda o: o["isCompleted"])
    await client.post(
        f"{ORDERS}/{paid['orderId']}/payments/"
        f"{paid['paymentData']['transactions'][0]['payments'][0]['id']}/payment-notification"
    )
    touched.append(paid)
    assert all(r.status < 300 for r in sb.requests), [(r.route, r.status) for r in sb.requests if r.status >= 300]
    assert order["status"] == "invoiced" and canceled["status"] == "canceled" and paid["status"] == "payment-approved"

    for doc in touched:
        oid = doc["orderId"]
        check_response("GET /api/oms/pvt/orders/{orderId}", await client.get(f"{ORDERS}/{oid}"))
        check_response(
            "GET /api/oms/pvt/orders/order-group/{orderGroup}",
            await client.get(f"{ORDERS}/order-group/{doc['orderGroup']}"),
        )
        check_response(
            "GET /api/oms/user/orders/{orderId}",
            await client.get(f"/api/oms/user/orders/{oid}", params={"clientEmail": doc["clientProfileData"]["email"]}),
        )
        rows = check_response("GET /api/oms/pvt/orders", await client.get(ORDERS, params={"q": oid}))["list"]
        assert [r["orderId"] for r in rows] == [oid] and rows[0]["status"] == doc["status"]
