"""Order modifications in the sandbox (#23, #29-#36), through the HTTP layer.

Every success response is validated against VTEX's response schema (tests/data/
vtex_orders_responses_ext.json); every refusal is checked for status and body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sandbox_support import check_ext_schema, http

from vtex_orders_mcp.sandbox import Sandbox, Store
from vtex_orders_mcp.sandbox.modifications import ACK_AFTER, DONE_AFTER, ModificationsService

pytestmark = pytest.mark.anyio

BASE = "/api/order-system/orders"
ACCOUNT = "sandbox"


@pytest.fixture
def sandbox():
    return Sandbox(orders=150, now=datetime(2025, 6, 2, 15, 0, tzinfo=UTC), account=ACCOUNT)


@pytest.fixture
def store(sandbox):
    return sandbox.store


@pytest.fixture
def service(sandbox):
    return sandbox.services["modifications"]


@pytest.fixture
async def client(sandbox):
    async with http(sandbox) as c:
        yield c


def pick(store: Store, *, status: str = "handling", group: str | None = "creditCard") -> dict:
    for oid in sorted(store.orders):
        order = store.orders[oid]
        groups = {p["group"] for t in order["paymentData"]["transactions"] for p in t["payments"]}
        if (
            order["status"] == status
            and (group is None or groups == {group})
            and not order["packageAttachment"]["packages"]
        ):
            return order
    raise AssertionError(f"no seeded {status} order paid by {group}")


def catalog_sku_not_in(service: ModificationsService, order: dict) -> str:
    have = {i["id"] for i in order["items"]}
    return next(sku for sku in sorted(service.catalog()) if sku not in have)


def remove_one(order: dict) -> dict:
    item = order["items"][0]
    return {"reason": "Customer gave up one unit", "remove": {"items": [{"id": item["id"], "quantity": 1}]}}


async def patch(client, order_id: str, body, account: str | None = ACCOUNT):
    params = {"accountName": account} if account else {}
    return await client.patch(f"{BASE}/{order_id}/changes", params=params, json=body)


async def detail(client, order_id: str, request_id: str):
    return await client.get(f"{BASE}/{order_id}/changes/{request_id}", params={"an": ACCOUNT})


def advance_to_done(store: Store) -> None:
    store.clock.advance(DONE_AFTER)


# ------------------------------------------------------------------------------------------------
# settings (#35, #36)


async def test_settings_default_and_update(client):
    r = await client.get(f"{BASE}/changes/settings", params={"an": ACCOUNT})
    assert r.status_code == 200
    check_ext_schema("GET /api/order-system/orders/changes/settings", "200", r.json())
    assert r.json()["rolloutConfiguration"]["enableApi"] is True
    # The seeded account saved its settings (enableApi on): they are not VTEX's defaults.
    assert r.json()["rolloutConfiguration"]["usingDefaultBehavior"] is False

    r = await client.put(
        f"{BASE}/changes/settings",
        params={"an": ACCOUNT},
        json={
            "paymentConfiguration": {"customPaymentSystemsAllowed": ["6"]},
            "pipelineConfiguration": {"compensateShippingChanges": True},
        },
    )
    assert r.status_code == 200
    check_ext_schema("PUT /api/order-system/orders/changes/settings", "200", r.json())
    body = r.json()
    assert body["paymentConfiguration"]["customPaymentSystemsAllowed"] == ["6"]
    assert body["pipelineConfiguration"]["compensateShippingChanges"] is True
    assert body["pipelineConfiguration"]["enableTaxHubRecalculation"] is False  # untouched keys kept
    assert body["rolloutConfiguration"]["usingDefaultBehavior"] is False
    again = (await client.get(f"{BASE}/changes/settings", params={"an": ACCOUNT})).json()
    assert again == body


async def test_settings_refuse_wrong_types(client):
    r = await client.put(
        f"{BASE}/changes/settings", params={"an": ACCOUNT}, json={"rolloutConfiguration": {"enableApi": "yes"}}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ORDMOD002"
    assert "enableApi" in r.json()["error"]["message"]


@pytest.mark.parametrize("params", [{}, {"an": "otherstore"}])
async def test_account_query_param_is_required_and_checked(client, store, params):
    order = pick(store)
    r = await client.get(f"{BASE}/{order['orderId']}/changes", params=params)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ORDMOD001"
    r = await client.patch(
        f"{BASE}/{order['orderId']}/changes",
        params={"accountName": params["an"]} if params else {},
        json=remove_one(order),
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ORDMOD001"


async def test_patch_uses_accountName_not_an(client, store):
    order = pick(store)
    r = await client.patch(f"{BASE}/{order['orderId']}/changes", params={"an": ACCOUNT}, json=remove_one(order))
    assert r.status_code == 400
    assert "accountName" in r.json()["error"]["message"]


# ------------------------------------------------------------------------------------------------
# create -> workflow -> done (#29, #30, #31, #23)


async def test_create_progresses_to_done_and_changes_the_order(client, store):
    order = pick(store)
    oid = order["orderId"]
    item = dict(order["items"][0])
    value_before, qty_before = order["value"], item["quantity"]
    # make sure there is a unit to remove without dropping the line
    item_qty = max(qty_before, 2)
    order["items"][0]["quantity"] = item_qty
    store.recompute_totals(order)
    value_before = order["value"]

    r = await patch(
        client,
        oid,
        {
            "reason": "Customer asked for one unit less",
            "replace": [
                {
                    "from": {"items": [{"id": item["id"], "quantity": item_qty}]},
                    "to": {"items": [{"id": item["id"], "quantity": item_qty - 1}]},
                }
            ],
        },
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    check_ext_schema(f"PATCH {BASE}/{{changeOrderId}}/changes", "202", accepted)
    assert accepted["reason"] == "Customer asked for one unit less"
    assert accepted["origin"] == {"account": ACCOUNT, "orderId": oid, "component": accepted["origin"]["component"]}
    assert accepted["totalChangeValue"] == -item["sellingPrice"]
    rid = accepted["requestId"]

    r = await detail(client, oid, rid)
    check_ext_schema(f"GET {BASE}/{{changeOrderId}}/changes/{{changeRequestId}}", "200", r.json())
    assert (r.json()["status"], r.json()["inProgress"]) == ("waiting-acknowledgement", True)
    assert order["value"] == value_before  # nothing applied yet

    store.clock.advance(ACK_AFTER)
    r = await detail(client, oid, rid)
    assert (r.json()["status"], r.json()["inProgress"]) == ("waiting-confirmation", True)
    assert order["value"] == value_before

    store.clock.advance(DONE_AFTER - ACK_AFTER)
    r = await detail(client, oid, rid)
    done = r.json()
    check_ext_schema(f"GET {BASE}/{{changeOrderId}}/changes/{{changeRequestId}}", "200", done)
    assert (done["status"], done["inProgress"]) == ("done", False)
    assert {t["id"]: t["value"] for t in done["totals"]}["Items"] == -item["price"]
    assert [m["status"] for m in done["logs"]] == ["waiting-acknowledgement", "waiting-confirmation", "done"]

    assert order["items"][0]["quantity"] == item_qty - 1
    assert order["value"] == value_before - item["sellingPrice"]
    assert sum(t["value"] for t in order["totals"]) == order["value"]
    assert order["lastChange"] == store.iso()

    r = await client.get(f"{BASE}/{oid}/changes", params={"an": ACCOUNT})
    assert r.status_code == 200
    check_ext_schema(f"GET {BASE}/{{changeOrderId}}/changes", "200", r.json())
    assert [q["requestId"] for q in r.json()["requests"]] == [rid]
    assert [a["action"] for a in r.json()["actions"]] == ["waiting-acknowledgement", "waiting-confirmation", "done"]

    r = await client.get(f"/api/orders/pvt/document/{oid}/change-summary")
    assert r.status_code == 200
    summary = r.json()
    check_ext_schema("GET /api/orders/pvt/document/{orderId}/change-summary", "200", summary)
    assert summary["original"][0]["quantity"] == item_qty
    assert summary["replaced"][0]["replaceType"] == "QuantityChange"
    assert summary["replaced"][0]["to"]["items"][0]["quantity"] == item_qty - 1
    assert summary["totalChangeValueAggregated"] == -item["sellingPrice"]
    assert summary["lastChange"] == order["lastChange"]


async def test_add_new_sku_with_manual_discount_on_credit_card(client, store, service):
    order = pick(store)
    oid = order["orderId"]
    sku = catalog_sku_not_in(service, order)
    price = service.catalog()[sku]["sellingPrice"]
    lines_before, value_before = len(order["items"]), order["value"]
    r = await patch(
        client,
        oid,
        {
            "reason": "Gift added",
            "manualDiscountValue": 500,
            "add": {"items": [{"id": sku, "quantity": 2, "measurementUnit": "un", "unitMultiplier": 1}]},
        },
    )
    assert r.status_code == 202, r.text
    body = r.json()
    check_ext_schema(f"PATCH {BASE}/{{changeOrderId}}/changes", "202", body)
    assert body["add"] is None and body["replace"][0]["from"]["items"] == []
    assert body["replace"][0]["to"]["items"][0]["id"] == sku
    assert body["totalChangeValue"] == 2 * price - 500
    advance_to_done(store)
    done = (await detail(client, oid, body["requestId"])).json()
    assert done["status"] == "done", done
    assert len(order["items"]) == lines_before + 1
    assert order["items"][-1]["id"] == sku and order["items"][-1]["quantity"] == 2
    assert len(order["shippingData"]["logisticsInfo"]) == len(order["items"])
    assert order["value"] == value_before + 2 * price - 500
    assert order["changesAttachment"]["changesData"][-1]["discountValue"] == 500
    summary = (await client.get(f"/api/orders/pvt/document/{oid}/change-summary")).json()
    check_ext_schema("GET /api/orders/pvt/document/{orderId}/change-summary", "200", summary)
    assert [a["id"] for a in summary["added"]] == [sku]
    assert summary["manualDiscountValueAggregated"] == 500


async def test_remove_whole_line_drops_its_logistics(client, store):
    order = pick(store)
    oid = order["orderId"]
    first = order["items"][0]
    if len(order["items"]) == 1:  # give the order a second line so removal keeps a non-empty order
        second = dict(first, uniqueId="B" * 32, id=first["id"] + "9")
        order["items"].append(second)
        order["shippingData"]["logisticsInfo"].append(dict(order["shippingData"]["logisticsInfo"][0], itemIndex=1))
        store.recompute_totals(order)
    n = len(order["items"])
    r = await patch(
        client,
        oid,
        {
            "reason": "Out of stock",
            "remove": {"items": [{"id": first["id"], "uniqueId": first["uniqueId"], "quantity": first["quantity"]}]},
        },
    )
    assert r.status_code == 202, r.text
    advance_to_done(store)
    assert (await detail(client, oid, r.json()["requestId"])).json()["status"] == "done"
    assert len(order["items"]) == n - 1
    assert first["uniqueId"] not in {i["uniqueId"] for i in order["items"]}
    assert [li["itemIndex"] for li in order["shippingData"]["logisticsInfo"]] == list(range(n - 1))
    summary = (await client.get(f"/api/orders/pvt/document/{oid}/change-summary")).json()
    assert [x["uniqueId"] for x in summary["removed"]] == [first["uniqueId"]]


@pytest.mark.parametrize("status", ["waiting-for-fulfillment", "ready-for-invoicing"])
async def test_other_allowed_statuses(client, store, status):
    order = pick(store, status=status, group=None)
    r = await patch(
        client,
        order["orderId"],
        remove_one(order)
        if order["items"][0]["quantity"] > 1
        else {"reason": "Manual discount", "manualDiscountValue": 100},
    )
    assert r.status_code == 202, r.text


# ------------------------------------------------------------------------------------------------
# refusals


@pytest.mark.parametrize("status", ["invoiced", "canceled", "ready-for-handling", "payment-pending"])
async def test_refused_outside_allowed_statuses(client, store, status):
    order = (
        pick(store, status=status, group=None)
        if status != "invoiced"
        else next(o for o in store.orders.values() if o["status"] == "invoiced")
    )
    r = await patch(client, order["orderId"], {"reason": "x", "manualDiscountValue": 100})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "ORDMOD004" and status in err["message"]
    assert err["exception"] is None


async def test_refused_when_payment_transaction_finished(client, store):
    order = pick(store)
    store.order_meta(order)["transactionStatus"] = "Finished"
    r = await patch(client, order["orderId"], remove_one(order))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ORDMOD005"
    assert "Finished" in r.json()["error"]["message"]


async def test_refused_when_api_disabled_in_settings(client, store):
    order = pick(store)
    r = await client.put(
        f"{BASE}/changes/settings", params={"an": ACCOUNT}, json={"rolloutConfiguration": {"enableApi": False}}
    )
    assert r.status_code == 200
    r = await patch(client, order["orderId"], remove_one(order))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "ORDMOD003"
    assert "enableApi" in r.json()["error"]["message"]
    # VTEX: `settings` in the body "override the account's default ... settings for this request only",
    # so a request that carries enableApi=true goes through
    r = await patch(
        client, order["orderId"], dict(remove_one(order), settings={"rolloutConfiguration": {"enableApi": True}})
    )
    assert r.status_code == 202


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"remove": {"items": [{"id": "1", "quantity": 1}]}}, "reason"),
        ({"reason": "x"}, "Nothing to modify"),
        (
            {"reason": "x", "replace": [{"from": {"items": [{"id": "1", "quantity": 0}]}, "to": {"items": []}}]},
            "quantity",
        ),
        ({"reason": "x", "replace": [{"from": {"items": []}}]}, "'from' and a 'to'"),
        ({"reason": "x", "manualDiscountValue": 10.5}, "manualDiscountValue"),
        ({"reason": "x", "add": {"items": [{"id": "1", "quantity": 1, "unitMultiplier": -1}]}}, "unitMultiplier"),
    ],
)
async def test_refused_invalid_bodies(client, store, body, fragment):
    order = pick(store)
    r = await patch(client, order["orderId"], body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ORDMOD002"
    assert fragment in r.json()["error"]["message"]


async def test_refused_items_that_do_not_fit_the_order(client, store):
    order = pick(store)
    item = order["items"][0]
    r = await patch(
        client,
        order["orderId"],
        {"reason": "x", "remove": {"items": [{"id": item["id"], "quantity": item["quantity"] + 1}]}},
    )
    assert r.status_code == 400
    assert f"has {item['quantity']}" in r.json()["error"]["message"]
    r = await patch(
        client, order["orderId"], {"reason": "x", "remove": {"items": [{"id": "no-such-sku", "quantity": 1}]}}
    )
    assert r.status_code == 400
    assert "not in order" in r.json()["error"]["message"]
    r = await patch(client, order["orderId"], {"reason": "x", "add": {"items": [{"id": "no-such-sku", "quantity": 1}]}})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ORDMOD010"


async def test_refused_new_sku_on_multi_address_order(client, store, service):
    order = pick(store)
    addresses = order["shippingData"]["selectedAddresses"]
    addresses.append(dict(addresses[0], addressId="second-address"))
    r = await patch(
        client,
        order["orderId"],
        {"reason": "x", "add": {"items": [{"id": catalog_sku_not_in(service, order), "quantity": 1}]}},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ORDMOD009"


async def test_unknown_order_and_request_are_404(client, store):
    r = await patch(client, "0000000000000-01", {"reason": "x", "manualDiscountValue": 1})
    assert r.status_code == 404
    order = pick(store)
    r = await detail(client, order["orderId"], "00000000-0000-4000-a000-000000000000")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "ORDMOD006"
    r = await client.get("/api/orders/pvt/document/0000000000000-01/change-summary")
    assert r.status_code == 404


async def test_one_modification_at_a_time(client, store):
    order = pick(store)
    r = await patch(client, order["orderId"], {"reason": "first", "manualDiscountValue": 100})
    assert r.status_code == 202
    r2 = await patch(client, order["orderId"], {"reason": "second", "manualDiscountValue": 100})
    assert r2.status_code == 409
    assert r2.json()["error"]["code"] == "ORDMOD008"
    assert r.json()["requestId"] in r2.json()["error"]["message"]
    advance_to_done(store)
    r3 = await patch(client, order["orderId"], {"reason": "third", "manualDiscountValue": 100})
    assert r3.status_code == 202


# ------------------------------------------------------------------------------------------------
# stop on error, retry (#33) and cancel (#34)


async def price_increase_on_boleto(client, store, service):
    order = pick(store, group="bankInvoice")
    sku = catalog_sku_not_in(service, order)
    r = await patch(
        client,
        order["orderId"],
        {"reason": "Customer wants one more product", "add": {"items": [{"id": sku, "quantity": 1}]}},
    )
    assert r.status_code == 202, r.text
    rid = r.json()["requestId"]
    advance_to_done(store)
    return order, rid, sku


async def test_price_increase_on_boleto_stops_on_error(client, store, service):
    order, rid, _ = await price_increase_on_boleto(client, store, service)
    value_before = order["value"]
    body = (await detail(client, order["orderId"], rid)).json()
    check_ext_schema(f"GET {BASE}/{{changeOrderId}}/changes/{{changeRequestId}}", "200", body)
    assert (body["status"], body["inProgress"]) == ("waiting-confirmation", False)
    assert body["error"]["code"] == "ORDMOD101"
    assert "credit card" in body["error"]["message"]
    assert body["logs"][-1]["level"] == "error"
    store.clock.advance(60)
    assert (await detail(client, order["orderId"], rid)).json()["status"] == "waiting-confirmation"
    assert order["value"] == value_before  # nothing applied


async def test_retry_with_allowed_custom_payment_system_completes(client, store, service):
    order, rid, sku = await price_increase_on_boleto(client, store, service)
    r = await client.post(
        f"{BASE}/{order['orderId']}/changes/{rid}/retry",
        params={"an": ACCOUNT},
        json={
            "reason": "Boleto complement agreed",
            "settings": {"paymentConfiguration": {"customPaymentSystemsAllowed": ["6"]}},
        },
    )
    assert r.status_code == 204 and r.content == b""
    body = (await detail(client, order["orderId"], rid)).json()
    assert (body["status"], body["inProgress"], body["error"]) == ("waiting-acknowledgement", True, None)
    assert body["reason"] == "Boleto complement agreed"
    advance_to_done(store)
    body = (await detail(client, order["orderId"], rid)).json()
    assert body["status"] == "done"
    assert order["items"][-1]["id"] == sku
    history = (await client.get(f"{BASE}/{order['orderId']}/changes", params={"an": ACCOUNT})).json()
    assert "error" in [a["action"] for a in history["actions"]]
    assert len(history["requests"]) == 1  # the retry reused the request, no duplicate


async def test_retry_with_corrected_body_that_lowers_the_price(client, store, service):
    order, rid, _ = await price_increase_on_boleto(client, store, service)
    r = await client.post(
        f"{BASE}/{order['orderId']}/changes/{rid}/retry",
        params={"an": ACCOUNT},
        json={"reason": "Discount instead", "manualDiscountValue": 300},
    )
    assert r.status_code == 204
    advance_to_done(store)
    body = (await detail(client, order["orderId"], rid)).json()
    assert body["status"] == "done" and body["totalChangeValue"] == -300


async def test_retry_refused_while_another_modification_runs(client, store, service):
    order, stopped, _ = await price_increase_on_boleto(client, store, service)
    other = await patch(client, order["orderId"], {"reason": "discount instead", "manualDiscountValue": 100})
    assert other.status_code == 202  # the stopped request is not in progress
    url = f"{BASE}/{order['orderId']}/changes/{stopped}/retry"
    r = await client.post(url, params={"an": ACCOUNT}, json={"reason": "again"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ORDMOD008"
    assert other.json()["requestId"] in r.json()["error"]["message"]
    advance_to_done(store)
    r = await client.post(url, params={"an": ACCOUNT}, json={"reason": "again", "manualDiscountValue": 50})
    assert r.status_code == 204


async def test_retry_refused_unless_stopped_on_error(client, store):
    order = pick(store)
    rid = (await patch(client, order["orderId"], {"reason": "x", "manualDiscountValue": 100})).json()["requestId"]
    url = f"{BASE}/{order['orderId']}/changes/{rid}/retry"
    r = await client.post(url, params={"an": ACCOUNT}, json={"reason": "again"})
    assert r.status_code == 409
    assert "in progress" in r.json()["error"]["message"]
    advance_to_done(store)
    r = await client.post(url, params={"an": ACCOUNT}, json={"reason": "again"})
    assert r.status_code == 409
    assert "already done" in r.json()["error"]["message"]
    r = await client.post(url, params={"an": ACCOUNT}, json={})
    assert r.status_code == 400 and "reason" in r.json()["error"]["message"]


async def test_cancel_stopped_request_then_it_is_gone(client, store, service):
    order, rid, _ = await price_increase_on_boleto(client, store, service)
    url = f"{BASE}/{order['orderId']}/changes/{rid}"
    r = await client.post(f"{url}/cancel", params={"an": ACCOUNT}, json={})
    assert r.status_code == 400 and "reason" in r.json()["error"]["message"]
    r = await client.post(f"{url}/cancel", params={"an": ACCOUNT}, json={"reason": "Customer declined to pay"})
    assert r.status_code == 200
    assert r.json()["status"] == "canceled" and r.json()["inProgress"] is False
    assert (await client.get(url, params={"an": ACCOUNT})).status_code == 404
    assert (await client.post(f"{url}/retry", params={"an": ACCOUNT}, json={"reason": "x"})).status_code == 404
    assert (await client.post(f"{url}/cancel", params={"an": ACCOUNT}, json={"reason": "x"})).status_code == 404
    history = (await client.get(f"{BASE}/{order['orderId']}/changes", params={"an": ACCOUNT})).json()
    assert history["requests"] == []
    assert history["actions"][-1]["action"] == "canceled"
    # the order is free for a new modification
    assert (await patch(client, order["orderId"], {"reason": "y", "manualDiscountValue": 1})).status_code == 202


async def test_cancel_refused_once_done(client, store):
    order = pick(store)
    rid = (await patch(client, order["orderId"], {"reason": "x", "manualDiscountValue": 100})).json()["requestId"]
    advance_to_done(store)
    r = await client.post(
        f"{BASE}/{order['orderId']}/changes/{rid}/cancel", params={"an": ACCOUNT}, json={"reason": "too late"}
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ORDMOD007"
    assert (await detail(client, order["orderId"], rid)).json()["status"] == "done"


async def test_cancel_in_progress_request(client, store):
    order = pick(store)
    value = order["value"]
    rid = (await patch(client, order["orderId"], {"reason": "x", "manualDiscountValue": 100})).json()["requestId"]
    r = await client.post(
        f"{BASE}/{order['orderId']}/changes/{rid}/cancel", params={"an": ACCOUNT}, json={"reason": "changed my mind"}
    )
    assert r.status_code == 200
    advance_to_done(store)
    await client.get(f"{BASE}/{order['orderId']}/changes", params={"an": ACCOUNT})
    assert order["value"] == value  # never applied


# ------------------------------------------------------------------------------------------------
# preview (#32)


async def test_preview_persists_nothing(client, store, service):
    order = pick(store)
    snapshot = json.dumps(order, sort_keys=True)
    sku = catalog_sku_not_in(service, order)
    item = order["items"][0]
    r = await client.post(
        f"{BASE}/{order['orderId']}/changes/preview",
        params={"an": ACCOUNT},
        json={
            "reason": "Swap product",
            "replace": [
                {
                    "from": {"items": [{"id": item["id"], "quantity": 1}]},
                    "to": {
                        "items": [{"id": sku, "quantity": 1}],
                        "shippingData": {
                            "logisticsInfo": [
                                {
                                    "itemIndex": 0,
                                    "selectedSla": "Normal",
                                    "selectedDeliveryChannel": "delivery",
                                    "addressId": "a1",
                                    "price": 1000,
                                }
                            ]
                        },
                    },
                }
            ],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    check_ext_schema(f"POST {BASE}/{{changeOrderId}}/changes/preview", "200", body)
    assert "requestId" not in body and "workflowId" not in body
    expected = service.catalog()[sku]["sellingPrice"] - item["sellingPrice"]
    deltas = {t["id"]: t["value"] for t in body["totals"]}
    assert deltas["Shipping"] == 1000 - (
        0 if item["quantity"] > 1 else order["shippingData"]["logisticsInfo"][0]["sellingPrice"]
    )
    assert body["totalChangeValue"] == expected + deltas["Shipping"]
    assert body["replace"][0]["to"]["shippingData"]["logisticsInfo"][0]["price"] == 1000
    assert json.dumps(order, sort_keys=True) == snapshot
    history = (await client.get(f"{BASE}/{order['orderId']}/changes", params={"an": ACCOUNT})).json()
    assert history == {"requests": [], "actions": []}


async def test_preview_requires_replace_and_applies_the_same_gates(client, store):
    order = pick(store)
    r = await client.post(
        f"{BASE}/{order['orderId']}/changes/preview",
        params={"an": ACCOUNT},
        json={"reason": "x", "manualDiscountValue": 10},
    )
    assert r.status_code == 400 and "replace is required" in r.json()["error"]["message"]
    invoiced = next(o for o in store.orders.values() if o["status"] == "invoiced")
    r = await client.post(
        f"{BASE}/{invoiced['orderId']}/changes/preview",
        params={"an": ACCOUNT},
        json={"reason": "x", "replace": [], "manualDiscountValue": 10},
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ORDMOD004"


async def test_change_summary_without_modifications(client, store):
    order = pick(store)
    r = await client.get(f"/api/orders/pvt/document/{order['orderId']}/change-summary")
    assert r.status_code == 200
    body = r.json()
    check_ext_schema("GET /api/orders/pvt/document/{orderId}/change-summary", "200", body)
    assert [i["id"] for i in body["original"]] == [i["id"] for i in order["items"]]
    assert body["added"] == body["removed"] == body["replaced"] == []
    assert body["totalChangeValueAggregated"] == 0


async def test_reset_forgets_requests_and_settings(client, store, service):
    order = pick(store)
    await client.put(
        f"{BASE}/changes/settings", params={"an": ACCOUNT}, json={"rolloutConfiguration": {"enableApi": False}}
    )
    store.reset()
    assert service.requests == {} and service.settings["rolloutConfiguration"]["enableApi"] is True
    assert (await patch(client, order["orderId"], {"reason": "x", "manualDiscountValue": 1})).status_code == 202


async def test_replace_with_shipping_renders_valid_everywhere(client, store, service):
    order = pick(store)
    oid = order["orderId"]
    item = order["items"][0]
    sku = catalog_sku_not_in(service, order)
    r = await patch(
        client,
        oid,
        {
            "reason": "Swap for another product, faster delivery",
            "replace": [
                {
                    "from": {"items": [{"id": item["id"], "uniqueId": item["uniqueId"], "quantity": 1}]},
                    "to": {
                        "items": [{"id": sku, "quantity": 1, "manualDiscountValue": 200}],
                        "shippingData": {
                            "logisticsInfo": [
                                {
                                    "itemIndex": 0,
                                    "selectedSla": "Expressa",
                                    "selectedDeliveryChannel": "delivery",
                                    "addressId": "a1",
                                    "price": 1500,
                                }
                            ]
                        },
                    },
                }
            ],
        },
    )
    assert r.status_code == 202, r.text
    check_ext_schema(f"PATCH {BASE}/{{changeOrderId}}/changes", "202", r.json())
    assert r.json()["manualDiscountValue"] == 200  # item-level manual values add up to the request's
    rid = r.json()["requestId"]
    advance_to_done(store)
    body = (await detail(client, oid, rid)).json()
    check_ext_schema(f"GET {BASE}/{{changeOrderId}}/changes/{{changeRequestId}}", "200", body)
    assert body["status"] == "done", body
    history = (await client.get(f"{BASE}/{oid}/changes", params={"an": ACCOUNT})).json()
    check_ext_schema(f"GET {BASE}/{{changeOrderId}}/changes", "200", history)
    new_line = next(li for li in order["shippingData"]["logisticsInfo"] if order["items"][li["itemIndex"]]["id"] == sku)
    assert (new_line["selectedSla"], new_line["sellingPrice"]) == ("Expressa", 1500)
    summary = (await client.get(f"/api/orders/pvt/document/{oid}/change-summary")).json()
    check_ext_schema("GET /api/orders/pvt/document/{orderId}/change-summary", "200", summary)
    assert summary["replaced"][0]["replaceType"] == "ItemReplacement"


async def test_deterministic_ids_for_the_same_calls():
    async def run() -> dict:
        sb = Sandbox(orders=150, now=datetime(2025, 6, 2, 15, 0, tzinfo=UTC), account=ACCOUNT)
        async with http(sb) as c:
            order = pick(sb.store)
            r = await patch(
                c,
                order["orderId"],
                {
                    "reason": "x",
                    "add": {"items": [{"id": catalog_sku_not_in(sb.services["modifications"], order), "quantity": 1}]},
                },
            )
            return r.json()

    first, second = await run(), await run()
    assert first == second
    assert first["requestId"] != first["workflowId"]
