"""The state.py contract other modules code against: Clock, Store lookups, notifications,
totals, reset and the VTEX timestamp format; and the standalone HTTP server."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import httpx2
import pytest
from sandbox_support import AUTH, NOW

from vtex_orders_mcp.sandbox import SandboxError
from vtex_orders_mcp.sandbox.seed import EXAMPLE_ORDER_ID, example_order
from vtex_orders_mcp.sandbox.standalone import make_server
from vtex_orders_mcp.sandbox.state import Clock, Store


def test_frozen_clock_set_and_advance():
    clock = Clock(datetime(2025, 1, 1, 12, 0))  # naive means UTC
    assert clock.now() == datetime(2025, 1, 1, 12, 0, tzinfo=UTC) and clock.frozen
    clock.advance(90.5)
    assert clock.now() == datetime(2025, 1, 1, 12, 1, 30, 500000, tzinfo=UTC)
    clock.set(datetime(2026, 2, 3, tzinfo=timezone(timedelta(hours=-3))))
    assert clock.now() == datetime(2026, 2, 3, 3, 0, tzinfo=UTC)
    clock.restore()
    assert clock.now() == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_wall_clock_moves_and_can_be_advanced():
    clock = Clock()
    assert not clock.frozen
    before = clock.now()
    clock.advance(3600)
    assert clock.now() - before >= timedelta(seconds=3600)
    assert clock.now().tzinfo is not None


def test_iso_is_vtex_style():
    store = Store(orders=5, clock=Clock(NOW))
    assert store.iso() == "2025-06-02T15:00:00.0000000+00:00"
    assert store.iso(datetime(2019, 1, 28, 20, 9, 43, 899958, tzinfo=UTC)) == "2019-01-28T20:09:43.8999580+00:00"


def test_order_lookup_by_id_and_sequence_and_404():
    store = Store(orders=20, clock=Clock(NOW))
    assert store.order(EXAMPLE_ORDER_ID)["sequence"] == "502556"
    assert store.order("seq502556")["orderId"] == EXAMPLE_ORDER_ID
    with pytest.raises(SandboxError) as caught:
        store.order("missing-01")
    assert caught.value.status == 404 and caught.value.envelope()["error"]["message"] == "Order missing-01 not found"


def test_set_status_and_touch_notify_listeners():
    store = Store(orders=20, clock=Clock(NOW))
    heard = []
    store.add_listener(lambda order, previous: heard.append((order["orderId"], order["status"], previous)))
    order = store.order(EXAMPLE_ORDER_ID)
    store.clock.advance(10)
    store.set_status(order, "invoiced")
    assert order["statusDescription"] == "Faturado" and order["lastChange"] == store.iso()
    store.touch(order)
    assert heard == [(EXAMPLE_ORDER_ID, "invoiced", "handling"), (EXAMPLE_ORDER_ID, "invoiced", None)]


def test_recompute_totals_reproduces_the_example():
    store = Store(orders=2, clock=Clock(NOW))
    order = store.order(EXAMPLE_ORDER_ID)
    store.recompute_totals(order)
    assert order == example_order()


def test_recompute_totals_after_item_changes():
    store = Store(orders=2, clock=Clock(NOW))
    order = store.order(EXAMPLE_ORDER_ID)
    order["items"][0]["quantity"] = 2
    order["items"][0]["sellingPrice"] = 3000
    store.recompute_totals(order)
    totals = {t["id"]: t["value"] for t in order["totals"]}
    assert totals == {"Items": 6580, "Discounts": -580, "Shipping": 1160, "Tax": 0, "Change": -3290}
    assert order["value"] == 3870


def test_reset_reseeds_restores_clock_and_resets_services():
    store = Store(seed=4, orders=30, clock=Clock(NOW))

    class Service:
        resets = 0

        def reset(self):
            self.resets += 1

    service = Service()
    store.register_service(service)
    store.register_service(service)  # idempotent
    first_receipt = store.new_uuid()
    store.set_status(store.order(EXAMPLE_ORDER_ID), "canceled")
    store.clock.advance(100)
    store.reset()
    assert store.order(EXAMPLE_ORDER_ID)["status"] == "handling"
    assert store.clock.now() == NOW and service.resets == 1
    assert store.new_uuid() == first_receipt  # the rng is restored too


def test_standalone_server_over_http():
    server, sandbox = make_server(port=0, log_level="critical", orders=30, now=NOW)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=5) as c:
            assert c.get(f"/api/oms/pvt/orders/{EXAMPLE_ORDER_ID}").json()["orderId"] == EXAMPLE_ORDER_ID
            assert c.post("/_sandbox/faults", json={"kind": "reset", "times": 1}).status_code == 201
            with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
                c.get(f"/api/oms/pvt/orders/{EXAMPLE_ORDER_ID}")
            assert c.get("/_sandbox/requests").json()[-1]["fault"] == "reset"
            assert c.get("/api/oms/pvt/orders", params={"per_page": 5}).status_code == 200
        assert [r.status for r in sandbox.requests] == [200, 0, 200]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
