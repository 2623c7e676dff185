"""Rules that span services: OMS reads see finished order modifications, and the payment
transaction's status agrees with the rule that refuses modifications once payment is settled."""

from __future__ import annotations

import pytest
from sandbox_support import NOW, http

from vtex_orders_mcp.sandbox import Sandbox
from vtex_orders_mcp.sandbox.modifications import payment_finished

pytestmark = pytest.mark.anyio


@pytest.fixture
async def env():
    sb = Sandbox(seed=7, orders=120, now=NOW)
    async with http(sb) as c:
        yield sb, c


def card_paid_handling(sb):
    for order in sorted(sb.store.orders.values(), key=lambda o: o["orderId"]):
        payments = [p for t in order["paymentData"]["transactions"] for p in t["payments"]]
        if (
            order["status"] == "handling"
            and payments
            and all(p.get("group") == "creditCard" for p in payments)
            and not payment_finished(order, sb.store.meta.get(order["orderId"], {}))
        ):
            return order
    raise LookupError("no card-paid order in handling")


async def test_order_read_sees_a_finished_modification_without_touching_modification_routes(env):
    sb, c = env
    order = card_paid_handling(sb)
    oid, sku = order["orderId"], order["items"][0]["id"]
    before = sum(i["quantity"] for i in order["items"])
    created = await c.patch(
        f"/api/order-system/orders/{oid}/changes",
        params={"accountName": "sandbox"},
        json={"reason": "one more", "add": {"items": [{"id": sku, "quantity": 1}]}},
    )
    assert created.status_code == 202, created.text
    sb.clock.advance(60)
    read = (await c.get(f"/api/oms/pvt/orders/{oid}")).json()  # the first request after the clock moved
    assert sum(i["quantity"] for i in read["items"]) == before + 1


async def test_transaction_status_follows_the_settlement_rule(env):
    sb, c = env
    for order in list(sb.store.orders.values())[:60]:
        oid = order["orderId"]
        if order.get("origin") != "Marketplace" or order["status"] == "canceled":
            continue
        tx = await c.get(f"/api/oms/pvt/orders/{oid}/payment-transaction")
        if tx.status_code != 200:
            continue
        finished = payment_finished(order, sb.store.meta.get(oid, {}))
        assert (tx.json()["status"] == "Finished") == finished, oid


async def test_request_log_keeps_the_newest_entries_within_its_limit():
    sb = Sandbox(seed=7, orders=20, now=NOW, request_log_limit=50)
    async with http(sb) as c:
        for i in range(120):
            await c.get(f"/api/oms/pvt/orders/v{i}-01")
    assert 50 <= len(sb.requests) <= 55
    assert sb.requests[-1].path == "/api/oms/pvt/orders/v119-01"
    assert Sandbox(seed=7, orders=20, request_log_limit=None).request_log_limit is None
