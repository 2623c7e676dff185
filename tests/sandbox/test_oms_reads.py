"""Read routes: order, order group, list (filters, paging limits, stats), conversation, payment
transaction, and the customer's order views. Every success is validated against VTEX's schema."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sandbox_support import check_response, pick

from vtex_orders_mcp.sandbox.seed import EXAMPLE_ORDER_ID

pytestmark = pytest.mark.anyio
ORDERS = "/api/oms/pvt/orders"


async def test_get_order_returns_the_document(client, sb):
    order = pick(sb, "handling")
    body = check_response("GET /api/oms/pvt/orders/{orderId}", await client.get(f"{ORDERS}/{order['orderId']}"))
    assert body == order


async def test_get_example_order_validates(client):
    body = check_response("GET /api/oms/pvt/orders/{orderId}", await client.get(f"{ORDERS}/{EXAMPLE_ORDER_ID}"))
    assert body["value"] == 1160 and body["sequence"] == "502556"


async def test_get_order_by_sequence(client, sb):
    order = pick(sb, "invoiced")
    response = await client.get(f"{ORDERS}/seq{order['sequence']}")
    assert check_response("GET /api/oms/pvt/orders/{orderId}", response)["orderId"] == order["orderId"]


async def test_unknown_order_is_404_envelope(client):
    response = await client.get(f"{ORDERS}/0000000000000-01")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "1", "message": "Order 0000000000000-01 not found", "exception": None}}


async def test_order_group_lists_every_order_of_the_purchase(client, sb):
    groups = {}
    for o in sb.store.orders.values():
        groups.setdefault(o["orderGroup"], []).append(o["orderId"])
    group, ids = next((g, ids) for g, ids in sorted(groups.items()) if len(ids) >= 2)
    body = check_response(
        "GET /api/oms/pvt/orders/order-group/{orderGroup}", await client.get(f"{ORDERS}/order-group/{group}")
    )
    assert [o["orderId"] for o in body] == sorted(ids)
    assert all(o["orderGroup"] == group and "cancellationRequests" in o for o in body)


async def test_unknown_order_group_is_404(client):
    assert (await client.get(f"{ORDERS}/order-group/nope")).status_code == 404


async def test_list_defaults_rows_and_paging(client, sb):
    body = check_response("GET /api/oms/pvt/orders", await client.get(ORDERS))
    assert body["paging"] == {"total": 200, "pages": 14, "currentPage": 1, "perPage": 15}
    assert len(body["list"]) == 15
    dates = [row["creationDate"] for row in body["list"]]
    assert dates == sorted(dates, reverse=True)  # default orderBy creationDate,desc
    assert all(row["items"] is None for row in body["list"])
    row = body["list"][0]
    order = sb.store.orders[row["orderId"]]
    assert row["totalValue"] == order["value"]
    assert row["clientName"] == f"{order['clientProfileData']['firstName']} {order['clientProfileData']['lastName']}"
    assert row["totalItems"] == sum(i["quantity"] for i in order["items"])
    stats = body["stats"]["stats"]
    assert stats["totalValue"]["Count"] == 200
    assert stats["totalValue"]["Sum"] == sum(o["value"] for o in sb.store.orders.values())
    origin = stats["totalValue"]["Facets"]["origin"]
    assert origin["Fulfillment"]["Count"] + origin["Marketplace"]["Count"] == 200


async def test_list_rows_have_exactly_the_spec_fields(client):
    from sandbox_support import _schemas

    row_schema = _schemas()["GET /api/oms/pvt/orders"]["200"]["properties"]["list"]["items"]
    body = (await client.get(ORDERS, params={"per_page": 100})).json()
    assert all(set(row) == set(row_schema["properties"]) for row in body["list"])


async def test_list_status_filter_and_paging(client, sb):
    expected = sorted(o["orderId"] for o in sb.store.orders.values() if o["status"] in ("handling", "invoiced"))
    seen = []
    page = 1
    while True:
        body = check_response(
            "GET /api/oms/pvt/orders",
            await client.get(ORDERS, params={"f_status": "handling,invoiced", "per_page": 10, "page": page}),
        )
        seen += [row["orderId"] for row in body["list"]]
        if page >= body["paging"]["pages"]:
            break
        page += 1
    assert sorted(seen) == expected
    assert body["paging"]["total"] == len(expected)


async def test_list_creation_date_range(client, sb):
    low, high = "2025-05-30T00:00:00.000Z", "2025-06-01T23:59:59.999Z"
    body = check_response(
        "GET /api/oms/pvt/orders",
        await client.get(ORDERS, params={"f_creationDate": f"creationDate:[{low} TO {high}]", "per_page": 100}),
    )
    expected = {
        o["orderId"] for o in sb.store.orders.values() if "2025-05-30" <= o["creationDate"][:10] <= "2025-06-01"
    }
    assert {row["orderId"] for row in body["list"]} == expected and expected


async def test_list_creation_bounds_hold_to_the_millisecond(client, sb):
    """VTEX writes creation dates with 7 fraction digits; the index keeps milliseconds, so an
    order created at 43.8999580 lies within [... TO ...43.899Z] and [...43.899Z TO ...]; a
    range that ends one millisecond before it, or starts one after, leaves it out."""
    order = next(o for o in sb.store.orders.values() if o["creationDate"][23:26] != "000")
    ms = order["creationDate"][:23] + "Z"  # 2026-...T10:11:12.345
    before, after = (datetime.fromisoformat(ms) + timedelta(milliseconds=d) for d in (-1, 1))

    async def ids(low: str, high: str) -> set[str]:
        params = {"f_creationDate": f"creationDate:[{low} TO {high}]", "per_page": 100}
        return {row["orderId"] for row in (await client.get(ORDERS, params=params)).json()["list"]}

    def iso(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    assert order["orderId"] in await ids(ms, ms)
    assert order["orderId"] in await ids(iso(before), ms) & await ids(ms, iso(after))
    assert order["orderId"] not in await ids(iso(before), iso(before)) | await ids(iso(after), iso(after))


async def test_list_fulltext_on_email_document_name_and_id(client, sb):
    order = pick(sb, "invoiced")
    profile = order["clientProfileData"]
    for q in (profile["email"], profile["document"], profile["lastName"], order["orderId"]):
        rows = (await client.get(ORDERS, params={"q": q, "per_page": 100})).json()["list"]
        assert order["orderId"] in {r["orderId"] for r in rows}, q


async def test_list_order_by_total_value_asc(client):
    rows = (await client.get(ORDERS, params={"orderBy": "totalValue,asc", "per_page": 50})).json()["list"]
    values = [r["totalValue"] for r in rows]
    assert values == sorted(values)


async def test_list_other_filters(client, sb):
    rows = (await client.get(ORDERS, params={"f_affiliateId": "MLB", "per_page": 100})).json()["list"]
    assert rows and all(r["affiliateId"] == "MLB" for r in rows)
    rows = (await client.get(ORDERS, params={"incompleteOrders": "true", "per_page": 100})).json()["list"]
    assert rows and all(not r["orderIsComplete"] for r in rows)
    rows = (await client.get(ORDERS, params={"f_paymentNames": "Pix", "per_page": 100})).json()["list"]
    assert rows and all("Pix" in r["paymentNames"] for r in rows)
    rows = (await client.get(ORDERS, params={"f_hasInputInvoice": "true", "per_page": 100})).json()["list"]
    returned = {
        o["orderId"]
        for o in sb.store.orders.values()
        if any(p["type"] == "Input" for p in (o["packageAttachment"] or {}).get("packages", []))
    }
    assert {r["orderId"] for r in rows} == returned


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"per_page": "101"}, "per_page must be at most 100"),
        ({"page": "31"}, "page must be at most 30"),
        ({"page": "0"}, "page must be a positive integer"),
        ({"per_page": "ten"}, "per_page must be a positive integer"),
        ({"orderBy": "price,desc"}, "orderBy field must be one of"),
        ({"orderBy": "creationDate,up"}, "orderBy direction must be asc or desc"),
        ({"q": "ana+silva"}, "The + character is not allowed"),
        ({"f_creationDate": "2025-01-01 TO 2025-02-01"}, "f_creationDate must look like"),
        ({"f_creationDate": "creationDate:[yesterday TO *]"}, "is not an ISO 8601 date"),
    ],
)
async def test_list_refuses_out_of_range_or_malformed_params(client, params, fragment):
    response = await client.get(ORDERS, params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "1" and fragment in error["message"]


async def test_conversation_messages(client, sb):
    order_id = next(oid for oid in sorted(sb.store.meta) if sb.store.meta[oid].get("conversation"))
    body = check_response(
        "GET /api/oms/pvt/orders/{orderId}/conversation-message",
        await client.get(f"{ORDERS}/{order_id}/conversation-message"),
    )
    assert body and body == sb.store.meta[order_id]["conversation"]
    assert all(order_id in m["subject"] for m in body)


async def test_conversation_empty_and_unknown(client, sb):
    order = pick(sb, None, quiet=lambda o: not sb.store.meta.get(o["orderId"], {}).get("conversation"))
    assert (
        check_response(
            "GET /api/oms/pvt/orders/{orderId}/conversation-message",
            await client.get(f"{ORDERS}/{order['orderId']}/conversation-message"),
        )
        == []
    )
    assert (await client.get(f"{ORDERS}/nope-01/conversation-message")).status_code == 404


@pytest.mark.parametrize(
    "status, expected",
    [("invoiced", "Finished"), ("handling", "Approved"), ("canceled", "Cancelled"), ("payment-pending", "Authorizing")],
)
async def test_payment_transaction(client, sb, status, expected):
    order = pick(sb, status, own=lambda o: o["origin"] == "Marketplace")
    body = check_response(
        "GET /api/oms/pvt/orders/{orderId}/payment-transaction",
        await client.get(f"{ORDERS}/{order['orderId']}/payment-transaction"),
    )
    transaction = order["paymentData"]["transactions"][0]
    assert body["status"] == expected
    assert body["transactionId"] == transaction["transactionId"]
    assert [p["id"] for p in body["payments"]] == [p["id"] for p in transaction["payments"]]


async def test_payment_transaction_refuses_fulfillment_orders(client, sb):
    order = pick(sb, None, ffm=lambda o: o["origin"] == "Fulfillment")
    response = await client.get(f"{ORDERS}/{order['orderId']}/payment-transaction")
    assert response.status_code == 400
    assert "does not support Fulfillment" in response.json()["error"]["message"]


async def test_user_orders_only_those_of_the_client_email(client, sb):
    emails = [o["clientProfileData"]["email"] for o in sb.store.orders.values()]
    email = max(set(emails), key=emails.count)
    body = check_response(
        "GET /api/oms/user/orders",
        await client.get("/api/oms/user/orders", params={"clientEmail": email, "per_page": "100"}),
    )
    expected = {o["orderId"] for o in sb.store.orders.values() if o["clientProfileData"]["email"] == email}
    assert {r["orderId"] for r in body["list"]} == expected and len(expected) >= 2
    assert body["paging"]["total"] == len(expected)
    status = body["list"][0]["status"]
    filtered = (await client.get("/api/oms/user/orders", params={"clientEmail": email, "status": status})).json()
    assert filtered["list"] and all(r["status"] == status for r in filtered["list"])


async def test_user_order_detail_matches_email_or_404(client, sb):
    order = pick(sb, "handling")
    email = order["clientProfileData"]["email"]
    body = check_response(
        "GET /api/oms/user/orders/{orderId}",
        await client.get(f"/api/oms/user/orders/{order['orderId']}", params={"clientEmail": email}),
    )
    assert body["orderId"] == order["orderId"]
    other = await client.get(f"/api/oms/user/orders/{order['orderId']}", params={"clientEmail": "someone@else.com"})
    assert other.status_code == 404
    assert other.json()["error"]["message"] == f"Order {order['orderId']} not found"


async def test_user_order_detail_of_the_example_fills_the_spec_keys(client):
    body = check_response(
        "GET /api/oms/user/orders/{orderId}",
        await client.get(
            f"/api/oms/user/orders/{EXAMPLE_ORDER_ID}", params={"clientEmail": "rodrigo.cunha@vtex.com.br"}
        ),
    )
    assert body["cancellationData"] is None and body["clientPreferencesData"]["locale"] == "pt-BR"
