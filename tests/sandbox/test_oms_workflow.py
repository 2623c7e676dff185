"""Workflow actions: start-handling, cancel, register changes, interactions, payment notification.
One test per rule, refusals included (status code + error body)."""

from __future__ import annotations

import pytest
from sandbox_support import check_response, pick

from vtex_orders_mcp.sandbox.invoicing import is_partially_invoiced, order_total

pytestmark = pytest.mark.anyio
ORDERS = "/api/oms/pvt/orders"


def envelope(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "exception": None}}


# -- start-handling ----------------------------------------------------------------------------
async def test_start_handling_moves_ready_for_handling_to_handling(client, sb):
    order = pick(sb, "ready-for-handling")
    sb.clock.advance(60)
    response = await client.post(f"{ORDERS}/{order['orderId']}/start-handling")
    check_response("POST /api/oms/pvt/orders/{orderId}/start-handling", response, 204)
    assert order["status"] == "handling" and order["statusDescription"] == "Preparando Entrega"
    assert order["lastChange"] == sb.store.iso()


@pytest.mark.parametrize("status", ["handling", "payment-pending", "invoiced", "canceled", "window-to-cancel"])
async def test_start_handling_refused_outside_ready_for_handling(client, sb, status):
    order = pick(sb, status)
    response = await client.post(f"{ORDERS}/{order['orderId']}/start-handling")
    assert response.status_code == 409
    assert response.json() == envelope("OMS003", "Order status should be ready-for-handling to perform this action")
    assert order["status"] == status


async def test_start_handling_unknown_order(client):
    assert (await client.post(f"{ORDERS}/nope-01/start-handling")).status_code == 404


# -- cancel ------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["payment-pending", "window-to-cancel", "ready-for-handling", "handling"])
async def test_cancel_sets_cancellation_data(client, sb, status):
    order = pick(sb, status, complete=lambda o: o["isCompleted"], whole=lambda o: not is_partially_invoiced(o))
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "Sem estoque"})
    body = check_response("POST /api/oms/pvt/orders/{orderId}/cancel", response)
    assert body["orderId"] == order["orderId"] and body["receipt"] and body["date"] == sb.store.iso()
    assert order["status"] == "canceled" and order["statusDescription"] == "Cancelado"
    assert order["cancelReason"] == "Sem estoque" and order["allowCancellation"] is False
    data = order["cancellationData"]
    assert data["Reason"] == "Sem estoque" and data["CancellationDate"] == sb.store.iso()
    assert data["RequestedBySellerNotification"] is True
    assert order["paymentData"]["transactions"][0]["isActive"] is False


async def test_cancel_without_body(client, sb):
    order = pick(sb, "ready-for-handling")
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel")
    check_response("POST /api/oms/pvt/orders/{orderId}/cancel", response)
    assert order["status"] == "canceled" and order["cancelReason"] is None


async def test_cancel_refuses_invoiced(client, sb):
    order = pick(sb, "invoiced")
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "x"})
    assert response.status_code == 400
    assert response.json() == envelope(
        "1", "Orders with invoiced status cannot be canceled; send a return (Input) invoice instead"
    )
    assert order["status"] == "invoiced"


async def test_cancel_refuses_partially_invoiced(client, sb):
    order = pick(sb, "handling", partial=is_partially_invoiced)
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "x"})
    assert response.status_code == 400
    assert response.json() == envelope("1", "Partially invoiced orders cannot be canceled")
    assert order["status"] == "handling"


async def test_cancel_refuses_incomplete(client, sb):
    order = pick(sb, None, incomplete=lambda o: not o["isCompleted"])
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={})
    assert response.status_code == 400
    assert response.json() == envelope("1", "Incomplete orders cannot be canceled")


async def test_cancel_refuses_already_canceled(client, sb):
    order = pick(sb, "canceled")
    before = dict(order)
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "again"})
    assert response.status_code == 409
    assert response.json() == envelope("OMS003", f"Order {order['orderId']} is already canceled")
    assert order == before


async def test_cancel_refuses_bad_reason_type(client, sb):
    order = pick(sb, "handling")
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": 42})
    assert response.status_code == 400
    assert response.json() == envelope("1", "The field 'reason' must be a string")


# -- register changes (deprecated) ---------------------------------------------------------------
def change_body(order, request_id="req-1", discount=None, **extra):
    item = order["items"][0]
    body = {
        "requestId": request_id,
        "reason": "Produto indisponível",
        "discountValue": item["price"] if discount is None else discount,
        "incrementValue": 0,
        "itemsRemoved": [{"id": item["id"], "price": item["price"], "quantity": 1}],
        "itemsAdded": [],
    }
    body.update(extra)
    return body


@pytest.mark.parametrize("status", ["handling", "waiting-for-fulfillment", "ready-for-invoicing"])
async def test_register_changes_records_and_recomputes_totals(client, sb, status):
    order = pick(sb, status, whole=lambda o: not is_partially_invoiced(o))
    before = order_total(order)
    discount = order["items"][0]["price"]
    response = await client.post(f"{ORDERS}/{order['orderId']}/changes", json=change_body(order))
    body = check_response("POST /api/oms/pvt/orders/{orderId}/changes", response)
    change = order["changesAttachment"]["changesData"][-1]
    assert change["receipt"] == body and change["discountValue"] == discount
    assert change["itemsRemoved"][0]["name"] == order["items"][0]["name"]
    totals = {t["id"]: t["value"] for t in order["totals"]}
    assert totals["Change"] == -discount
    assert order["value"] == before - discount == sum(totals.values())


async def test_register_changes_dedupes_on_request_id(client, sb):
    order = pick(sb, "handling", whole=lambda o: not is_partially_invoiced(o))
    first = (await client.post(f"{ORDERS}/{order['orderId']}/changes", json=change_body(order))).json()
    value = order["value"]
    again = await client.post(f"{ORDERS}/{order['orderId']}/changes", json=change_body(order, discount=1))
    assert again.status_code == 200 and again.json() == first
    assert order["value"] == value and len(order["changesAttachment"]["changesData"]) == 1


@pytest.mark.parametrize("status", ["ready-for-handling", "invoiced", "canceled", "payment-pending"])
async def test_register_changes_refused_outside_allowed_statuses(client, sb, status):
    order = pick(sb, status)
    response = await client.post(f"{ORDERS}/{order['orderId']}/changes", json=change_body(order))
    assert response.status_code == 409
    assert response.json() == envelope(
        "OMS003",
        "Order status should be handling, waiting-for-fulfillment or ready-for-invoicing to register "
        f"changes (it is {status})",
    )


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b.pop("requestId"), "The field 'requestId' is required"),
        (lambda b: b.pop("reason"), "The field 'reason' is required"),
        (lambda b: b.update(discountValue="10.00"), "The field 'discountValue' must be an integer"),
        (lambda b: b.update(incrementValue=None), "The field 'incrementValue' must not be null"),
        (
            lambda b: b.update(discountValue=-5),
            "discountValue and incrementValue are amounts in cents and must not be negative",
        ),
        (
            lambda b: b.update(itemsRemoved=[{"id": "1", "price": 1}]),
            "The field 'itemsRemoved[0].quantity' is required",
        ),
        (
            lambda b: b.update(itemsRemoved=[{"id": "999999", "price": 1, "quantity": 1}]),
            "itemsRemoved[0].id: SKU 999999",
        ),
        (lambda b: b.update(itemsRemoved="all"), "The field 'itemsRemoved' must be an array"),
    ],
)
async def test_register_changes_refuses_invalid_bodies(client, sb, mutate, message):
    order = pick(sb, "handling")
    body = change_body(order)
    mutate(body)
    response = await client.post(f"{ORDERS}/{order['orderId']}/changes", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "1" and error["message"].startswith(message)


async def test_register_changes_refuses_discount_beyond_total(client, sb):
    order = pick(sb, "handling", whole=lambda o: not is_partially_invoiced(o))
    body = change_body(order, discount=order_total(order) + 1)
    response = await client.post(f"{ORDERS}/{order['orderId']}/changes", json=body)
    assert response.status_code == 400 and "exceeds the order total" in response.json()["error"]["message"]


async def test_register_changes_refuses_non_json(client, sb):
    order = pick(sb, "handling")
    response = await client.post(
        f"{ORDERS}/{order['orderId']}/changes", content=b"requestId=1", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]


# -- interactions --------------------------------------------------------------------------------
async def test_interactions_append_to_the_order_log(client, sb):
    order = pick(sb, "handling")
    last_change = order["lastChange"]
    response = await client.post(
        f"{ORDERS}/{order['orderId']}/interactions", json={"source": "Postman", "message": "Cliente pediu presente"}
    )
    check_response("POST /api/oms/pvt/orders/{orderId}/interactions", response)
    log = sb.store.meta[order["orderId"]]["interactions"]
    assert log[-1] == {"source": "Postman", "message": "Cliente pediu presente", "date": sb.store.iso()}
    assert order["lastChange"] == last_change  # the log is not part of the order document
    admin = await client.get(f"/_sandbox/orders/{order['orderId']}/interactions")
    assert admin.json() == log


@pytest.mark.parametrize(
    "body, message",
    [
        ({"source": "x"}, "The field 'message' is required"),
        ({"source": 1, "message": "m"}, "The field 'source' must be a string"),
        ([], "The body must be a JSON object"),
    ],
)
async def test_interactions_refuse_invalid_bodies(client, sb, body, message):
    order = pick(sb, "handling")
    response = await client.post(f"{ORDERS}/{order['orderId']}/interactions", json=body)
    assert response.status_code == 400 and response.json() == envelope("1", message)


# -- payment notification ------------------------------------------------------------------------
def first_payment(order):
    return order["paymentData"]["transactions"][0]["payments"][0]["id"]


async def test_payment_notification_approves_pending_payment(client, sb):
    order = pick(sb, "payment-pending", complete=lambda o: o["isCompleted"])
    response = await client.post(f"{ORDERS}/{order['orderId']}/payments/{first_payment(order)}/payment-notification")
    check_response("POST /api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification", response)
    assert order["status"] == "payment-approved" and order["authorizedDate"] == sb.store.iso()


async def test_payment_notification_unknown_payment_is_404_text(client, sb):
    order = pick(sb, "payment-pending")
    response = await client.post(f"{ORDERS}/{order['orderId']}/payments/DEADBEEF/payment-notification")
    assert response.status_code == 404 and response.text == "Value not found."
    assert order["status"] == "payment-pending"


async def test_payment_notification_is_a_no_op_after_approval(client, sb):
    order = pick(sb, "handling")
    response = await client.post(f"{ORDERS}/{order['orderId']}/payments/{first_payment(order)}/payment-notification")
    assert response.status_code == 200 and order["status"] == "handling"


async def test_payment_notification_refused_on_canceled_and_incomplete(client, sb):
    canceled = pick(sb, "canceled")
    response = await client.post(
        f"{ORDERS}/{canceled['orderId']}/payments/{first_payment(canceled)}/payment-notification"
    )
    assert response.status_code == 400  # VTEX lists 200/400/403/404/429 for this route, no 409
    assert response.json() == envelope("1", "Order is canceled: a payment notification can no longer be applied")
    incomplete = pick(sb, None, incomplete=lambda o: not o["isCompleted"])
    response = await client.post(
        f"{ORDERS}/{incomplete['orderId']}/payments/{first_payment(incomplete)}/payment-notification"
    )
    assert response.status_code == 400
    assert response.json() == envelope("1", "Incomplete orders do not accept payment notifications")


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "", None),
        ("POST", "/start-handling", None),
        ("POST", "/cancel", {}),
        ("POST", "/changes", {"requestId": "r", "reason": "r", "discountValue": 0, "incrementValue": 0}),
        ("POST", "/interactions", {"source": "s", "message": "m"}),
        (
            "POST",
            "/invoice",
            {
                "type": "Output",
                "issuanceDate": "2025-01-01",
                "invoiceNumber": "1",
                "invoiceValue": "100",
                "items": [{"id": "1", "price": 100, "quantity": 1}],
            },
        ),
        ("PATCH", "/invoice/1", {"trackingNumber": "T", "trackingUrl": None, "dispatchedDate": None, "courier": None}),
        ("PUT", "/invoice/1/tracking", {"isDelivered": False, "deliveredDate": None, "events": []}),
        ("GET", "/conversation-message", None),
        ("GET", "/payment-transaction", None),
        ("POST", "/payments/ABC/payment-notification", None),
    ],
)
async def test_every_order_route_answers_404_for_an_unknown_order(client, sb, method, suffix, body):
    response = await client.request(method, f"{ORDERS}/9999999999999-01{suffix}", json=body)
    assert response.status_code == 404
    if suffix in ("/cancel", "/payments/ABC/payment-notification"):
        assert response.text == "Value not found."  # the 404 VTEX documents for these two routes
    else:
        assert response.json() == envelope("1", "Order 9999999999999-01 not found")
    assert sb.requests[-1].status == 404
