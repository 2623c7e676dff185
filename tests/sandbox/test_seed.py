"""The seeded orders: determinism, clock-relative dates, the example order, coverage, shape."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta

from sandbox_support import NOW, validator

from vtex_orders_mcp.sandbox import Sandbox
from vtex_orders_mcp.sandbox import seed as seed_module
from vtex_orders_mcp.sandbox.invoicing import invoiced_total, is_partially_invoiced, order_total
from vtex_orders_mcp.sandbox.samples import STATUS_ORDER
from vtex_orders_mcp.sandbox.seed import EXAMPLE_ORDER_ID, example_order


def dump(sb: Sandbox) -> str:
    return json.dumps({"orders": dict(sb.store.orders), "meta": sb.store.meta}, sort_keys=True)


def fresh(**kwargs) -> Sandbox:
    """A sandbox generated from scratch (not parsed from the generation cache)."""
    seed_module._CACHE.clear()
    return Sandbox(**kwargs)


def test_same_seed_same_clock_gives_byte_identical_data():
    assert dump(fresh(seed=7, now=NOW)) == dump(fresh(seed=7, now=NOW))


def test_generation_cache_gives_the_same_data_and_rng_state():
    generated = fresh(seed=9, orders=80, now=NOW)
    cached = Sandbox(seed=9, orders=80, now=NOW)
    assert dump(generated) == dump(cached)
    assert generated.store.rng.random() == cached.store.rng.random()


def test_different_seed_gives_different_data():
    assert dump(Sandbox(seed=7, orders=50, now=NOW)) != dump(Sandbox(seed=8, orders=50, now=NOW))


def test_dates_are_relative_to_the_frozen_clock():
    a = fresh(seed=3, orders=60, now=NOW)
    b = fresh(seed=3, orders=60, now=NOW + timedelta(days=10))
    moved = 0
    for order_id, order in a.store.orders.items():
        other = b.store.orders[order_id]
        if order_id == EXAMPLE_ORDER_ID:
            assert other == order
            continue
        assert order["creationDate"] != other["creationDate"]
        assert order["creationDate"][:10] < NOW.isoformat()[:10] or order["creationDate"][:10] == NOW.isoformat()[:10]
        moved += 1
    assert moved == 59


def test_wall_clock_sandbox_dates_are_recent():
    sb = Sandbox(seed=1, orders=30)
    created = max(o["creationDate"] for o in sb.store.orders.values())
    assert created[:4] >= "2025"


def test_generation_of_500_orders_is_fast():
    timings = []
    for _ in range(3):  # best of three, in CPU time: the machine may be busy with other work
        seed_module._CACHE.clear()
        start = time.process_time()
        sb = Sandbox(seed=11, now=NOW)
        timings.append(time.process_time() - start)
    assert min(timings) < 0.5, timings
    assert len(sb.store.orders) == 500


def test_example_order_is_present_unchanged():
    sb = Sandbox(seed=5, orders=100, now=NOW)
    assert sb.store.orders[EXAMPLE_ORDER_ID] == example_order()


def test_coverage_of_what_a_store_sees():
    orders = list(Sandbox(seed=7, now=NOW).store.orders.values())
    statuses = Counter(o["status"] for o in orders)
    # Every status `sandbox --list` knows is seeded, but the first: no seeded order is still being created.
    assert STATUS_ORDER[0] == "order-created"
    for status in STATUS_ORDER[1:]:
        assert statuses[status] > 0, status
    assert {o["origin"] for o in orders} == {"Marketplace", "Fulfillment"}
    assert {o["affiliateId"] for o in orders} >= {"", "MLB", "AMZ", "MGZ"}
    assert len({o["salesChannel"] for o in orders}) >= 3
    systems = {p["paymentSystemName"] for o in orders for t in o["paymentData"]["transactions"] for p in t["payments"]}
    assert systems >= {"Visa", "Mastercard", "Boleto Bancário", "Vale", "Pix"}
    assert any(len(o["items"]) >= 3 for o in orders)
    groups = Counter(o["orderGroup"] for o in orders)
    assert any(n >= 2 for n in groups.values()) and any(n == 3 for n in groups.values())
    multi = [o for o in orders if groups[o["orderGroup"]] >= 2]
    assert {o["orderId"][-3:] for o in multi} >= {"-01", "-02", "-03"}
    assert len({o["sellers"][0]["id"] for o in multi}) >= 3
    assert any(is_partially_invoiced(o) for o in orders)
    assert any(
        p["type"] == "Input" and p["restitutions"]["Refund"]["value"] > 0
        for o in orders
        for p in (o["packageAttachment"] or {}).get("packages", [])
    )
    assert any(not o["isCompleted"] for o in orders)
    assert any(o.get("cancellationData") for o in orders if o["status"] == "canceled")


def test_conversations_are_seeded():
    sb = Sandbox(seed=7, orders=100, now=NOW)
    conversations = [m.get("conversation") for m in sb.store.meta.values() if m.get("conversation")]
    assert len(conversations) > 20
    assert all(msg["from"]["conversationRelatedTo"] for c in conversations for msg in c)


def test_money_adds_up():
    for order in Sandbox(seed=7, now=NOW).store.orders.values():
        totals = {t["id"]: t["value"] for t in order["totals"]}
        assert all(isinstance(v, int) for v in totals.values())
        if order["orderId"] == EXAMPLE_ORDER_ID:
            continue
        assert totals["Items"] == sum(i["price"] * i["quantity"] for i in order["items"])
        paid = sum(p["value"] for t in order["paymentData"]["transactions"] for p in t["payments"])
        assert paid == order_total(order)
        if order["status"] == "invoiced" or is_partially_invoiced(order):
            assert order["value"] == invoiced_total(order)
        else:
            assert order["value"] == order_total(order)


def test_every_seeded_order_has_the_example_shape_and_fits_the_get_order_schema():
    check = validator("GET /api/oms/pvt/orders/{orderId}", "200")
    example = example_order()
    for order in Sandbox(seed=7, orders=150, now=NOW).store.orders.values():
        assert set(example) <= set(order)
        for key, value in example.items():
            if value is not None and order[key] is not None:
                assert type(order[key]) is type(value), key
        errors = list(check.iter_errors(order))
        assert not errors, (order["orderId"], [f"{list(e.absolute_path)} {e.message[:120]}" for e in errors[:5]])
