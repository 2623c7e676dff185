"""Regressions from a review of the sandbox: malformed input answered 400 (never 500), feed identity
following the credential that authenticated, no negative order values through modifications, the
"invoiced once invoices cover the total" rule after every total change, and f_salesChannel by name.
"""

from __future__ import annotations

import httpx2
import pytest
from sandbox_support import AUTH, BASE_URL, NOW

from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, Sandbox
from vtex_orders_mcp.sandbox.feed import COOKIE_KEY

pytestmark = pytest.mark.anyio

ORDERS = "/api/oms/pvt/orders"
MODS = "/api/order-system/orders"
COOKIE = "COOKIE-OF-A-USER"
QUEUE = {"visibilityTimeoutInSeconds": 250, "MessageRetentionPeriodInSeconds": 345600}


@pytest.fixture
def sandbox():
    return Sandbox(orders=100, now=NOW, auth_cookie=COOKIE)


def _client(sandbox, headers=None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=sandbox.app, raise_app_exceptions=False)
    return httpx2.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)


@pytest.fixture
async def client(sandbox):
    async with _client(sandbox, AUTH) as c:
        yield c


def _first(sandbox, status, check=lambda o: True):
    for order in sorted(sandbox.store.orders.values(), key=lambda o: o["orderId"]):
        if order["status"] == status and order["orderId"] != "v502556llux-01" and check(order):
            return order
    raise LookupError(status)


def _uninvoiced(order) -> bool:
    return not (order.get("packageAttachment") or {}).get("packages")


def _total(order) -> int:
    return sum(t["value"] for t in order["totals"])


def _invoice(number: str, value: int, sku: str) -> dict:
    return {
        "type": "Output",
        "issuanceDate": "2025-06-02T10:00:00Z",
        "invoiceNumber": number,
        "invoiceValue": str(value),
        "items": [{"id": sku, "price": value, "quantity": 1}],
    }


def _error(response) -> dict:
    return response.json()["error"]


# -- 1. malformed input --------------------------------------------------------------------------


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


async def test_deeply_nested_bodies_are_400_not_500(sandbox, client):
    order = _first(sandbox, "handling")
    for depth in (100, 20000, 200000):
        r = await client.post(
            f"{ORDERS}/{order['orderId']}/changes", content=_nested(depth), headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, (depth, r.text)
        assert _error(r)["code"] == "1" and "not valid JSON" in _error(r)["message"]
        r = await client.post("/api/orders/feed/config", content=_nested(depth))
        assert r.status_code == 400 and _error(r)["code"] == "FEED001"
        r = await client.post(
            "/api/orders/expressions/jsonata", json={"Expression": "status = 'x'", "Document": _nested(depth).decode()}
        )
        assert r.status_code == 400, r.text
    async with _client(sandbox) as anon:
        r = await anon.post(f"{ORDERS}/{order['orderId']}/cancel", content=_nested(200000))
        assert r.status_code == 401
    assert all(entry.status != 500 for entry in sandbox.requests)


async def test_non_ascii_digits_refused(sandbox, client):
    for query in ("per_page=%C2%B2", "page=%C2%B9", "per_page=%D9%A3", "per_page=" + "9" * 5000):
        r = await client.get(f"{ORDERS}?{query}")
        assert r.status_code == 400, (query, r.text)
    r = await client.get("/api/oms/user/orders?clientEmail=a@b.c&page=%C2%B9")
    assert r.status_code == 400 and "page" in _error(r)["message"]
    order = _first(sandbox, "handling", _uninvoiced)
    sku = order["items"][0]["id"]
    for value in ("\u00b2", "\u0663", "9" * 5000):
        body = _invoice("Q1", 1, sku) | {"invoiceValue": value}
        r = await client.post(f"{ORDERS}/{order['orderId']}/invoice", json=body)
        assert r.status_code == 400 and "invoiceValue" in _error(r)["message"], (value, r.text)
    assert _uninvoiced(order)
    for path in ("/api/orders/feed?maxlot=", "/api/oms/pvt/feed/orders/status?maxLot="):
        for lot in ("%D9%A3", "%203", "3%20"):  # '٣', ' 3', '3 ': int() takes them, VTEX's parser would not
            r = await client.get(path + lot)
            assert r.status_code == 400 and "maxl" in _error(r)["message"].lower(), (path, lot, r.text)


async def test_shipping_estimate_out_of_range_refused(client):
    for raw in ("3000000.days", "99999999999.days", "-3000000.days"):
        r = await client.get(ORDERS, params={"f_shippingEstimate": raw})
        assert r.status_code == 400 and "f_shippingEstimate" in _error(r)["message"], (raw, r.text)
    assert (await client.get(ORDERS, params={"f_shippingEstimate": "7.days"})).status_code == 200


# -- 2. feed identity ----------------------------------------------------------------------------


async def test_cookie_caller_cannot_use_another_keys_feed(sandbox, client):
    r = await client.post(
        "/api/orders/feed/config", json={"filter": {"type": "FromWorkflow", "status": ["handling"]}, "queue": QUEUE}
    )
    assert r.status_code == 200
    ready = _first(sandbox, "ready-for-handling")
    assert (await client.post(f"{ORDERS}/{ready['orderId']}/start-handling")).status_code == 204
    spoof_headers = {"VtexIdclientAutCookie": COOKIE, "X-VTEX-API-AppKey": SANDBOX_APP_KEY}
    async with _client(sandbox, spoof_headers) as spoof:
        assert (await spoof.get("/api/orders/feed/config")).status_code == 404
        assert (await spoof.get("/api/orders/feed?maxlot=10")).status_code == 404
        assert (await spoof.delete("/api/orders/feed/config")).status_code in (200, 404)
        r = await spoof.post(
            "/api/orders/feed/config", json={"filter": {"type": "FromWorkflow", "status": ["invoiced"]}, "queue": QUEUE}
        )
        assert r.status_code == 200
    assert set(sandbox.feed.feeds) == {SANDBOX_APP_KEY, COOKIE_KEY}
    owner = (await client.get("/api/orders/feed/config")).json()
    assert owner["filter"]["status"] == ["handling"] and owner["quantity"] == 1
    # A lone AppKey (no token, no cookie) is not authentication at all.
    async with _client(sandbox, {"X-VTEX-API-AppKey": SANDBOX_APP_KEY}) as lone:
        assert (await lone.get("/api/orders/feed/config")).status_code == 401


# -- 3. no negative order value through modifications --------------------------------------------


async def test_modification_cannot_make_order_value_negative(sandbox, client):
    order = _first(sandbox, "handling", _uninvoiced)
    oid, before = order["orderId"], _total(order)
    for method, url, param in (
        ("PATCH", f"{MODS}/{oid}/changes", "accountName"),
        ("POST", f"{MODS}/{oid}/changes/preview", "an"),
    ):
        r = await client.request(
            method, url, params={param: "sandbox"}, json={"reason": "r", "replace": [], "manualDiscountValue": 10**9}
        )
        assert r.status_code == 400, r.text
        assert _error(r)["code"] == "ORDMOD002" and "negative" in _error(r)["message"]
    sandbox.clock.advance(6)
    assert _total(order) == before and order["value"] == before
    # A discount of the whole total is allowed (value 0, not below).
    r = await client.patch(
        f"{MODS}/{oid}/changes", params={"accountName": "sandbox"}, json={"reason": "r", "manualDiscountValue": before}
    )
    assert r.status_code == 202, r.text


async def test_modification_stops_on_error_when_order_shrank_meanwhile(sandbox, client):
    order = _first(sandbox, "handling", _uninvoiced)
    oid, total = order["orderId"], _total(order)
    r = await client.patch(
        f"{MODS}/{oid}/changes",
        params={"accountName": "sandbox"},
        json={"reason": "r", "manualDiscountValue": total - 10},
    )
    assert r.status_code == 202
    request_id = r.json()["requestId"]
    r = await client.post(
        f"{ORDERS}/{oid}/changes", json={"requestId": "x1", "reason": "x", "discountValue": 100, "incrementValue": 0}
    )
    assert r.status_code == 200
    sandbox.clock.advance(6)
    detail = (await client.get(f"{MODS}/{oid}/changes/{request_id}", params={"an": "sandbox"})).json()
    assert detail["status"] != "done" and detail["error"]["code"] == "ORDMOD103"
    assert _total(order) == total - 100


# -- 4. invoiced once the invoices cover the total -----------------------------------------------


async def test_register_changes_down_to_invoiced_sum_completes_invoicing(sandbox, client):
    order = _first(sandbox, "handling", _uninvoiced)
    oid, total, sku = order["orderId"], _total(order), order["items"][0]["id"]
    assert (await client.post(f"{ORDERS}/{oid}/invoice", json=_invoice("INV1", 1000, sku))).status_code == 200
    assert order["status"] == "handling"
    r = await client.post(
        f"{ORDERS}/{oid}/changes",
        json={"requestId": "r1", "reason": "x", "discountValue": total - 1000, "incrementValue": 0},
    )
    assert r.status_code == 200
    assert order["status"] == "invoiced" and order["isCompleted"] and order["invoicedDate"]
    r = await client.post(f"{ORDERS}/{oid}/invoice", json=_invoice("INV2", 1, sku))
    assert r.status_code == 409


async def test_modification_down_to_invoiced_sum_completes_invoicing(sandbox, client):
    order = _first(sandbox, "handling", _uninvoiced)
    oid, total, sku = order["orderId"], _total(order), order["items"][0]["id"]
    assert (await client.post(f"{ORDERS}/{oid}/invoice", json=_invoice("INV1", 1000, sku))).status_code == 200
    r = await client.patch(
        f"{MODS}/{oid}/changes",
        params={"accountName": "sandbox"},
        json={"reason": "r", "manualDiscountValue": total - 1000},
    )
    assert r.status_code == 202, r.text
    sandbox.clock.advance(6)
    assert (await client.get(f"{ORDERS}/{oid}")).json()["status"] == "invoiced"


async def test_output_invoice_capped_at_amount_left(sandbox, client):
    order = _first(sandbox, "handling", _uninvoiced)
    oid, total, first = order["orderId"], _total(order), order["items"][0]
    one_unit = _invoice("INV1", first["sellingPrice"], first["id"])
    assert (await client.post(f"{ORDERS}/{oid}/invoice", json=one_unit)).status_code == 200
    left = total - first["sellingPrice"]
    # The rest: every unit not invoiced yet (invoiced quantities add up, so not the first one again).
    rest = [
        {"id": i["id"], "price": i["sellingPrice"], "quantity": i["quantity"] - (n == 0)}
        for n, i in enumerate(order["items"])
        if i["quantity"] - (n == 0)
    ]
    r = await client.post(f"{ORDERS}/{oid}/invoice", json=dict(_invoice("INV2", left + 1, ""), items=rest))
    assert r.status_code == 400
    message = _error(r)["message"]
    assert str(left + 1) in message and str(left) in message and str(total) in message
    assert order["status"] == "handling"
    r = await client.post(f"{ORDERS}/{oid}/invoice", json=dict(_invoice("INV2", left, ""), items=rest))
    assert r.status_code == 200 and order["status"] == "invoiced"


# -- 5. f_salesChannel filters by name -----------------------------------------------------------


async def test_sales_channel_name_and_id_filters(sandbox, client):
    main = sum(1 for o in sandbox.store.orders.values() if o["salesChannel"] == "1")
    other = sum(1 for o in sandbox.store.orders.values() if o["salesChannel"] == "2")
    assert main and other

    async def count(**params):
        r = await client.get(ORDERS, params=params)
        assert r.status_code == 200
        return r.json()["paging"]["total"]

    assert await count(f_salesChannel="Main") == main
    assert await count(f_salesChannel="1") == 0
    assert await count(salesChannelId="1") == main
    assert await count(f_salesChannel="Main,Mercado Livre") == main + other
