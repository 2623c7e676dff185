"""Money and time read the same wherever a value is shown, through the SDK client and the sandbox.

Money: VTEX's payment transaction carries no currency, so its values take the order's store
format (read beside it): the same ``R$ 99,80`` as the order view, in the tool result and in the
resource's text. Time: every instant a compact view or its text shows carries its zone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.sandbox import Fault
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(Z|[+-]\d\d:\d\d)?")


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
async def env(tmp_path_factory):
    app = build_server(Settings.from_env({}, state_dir=tmp_path_factory.mktemp("state"), sandbox_orders=40))
    async with Client(app.server) as client:
        yield app, client


def paid(app, n: int = 5) -> list[str]:
    """Orders whose payment transaction VTEX serves (not Fulfillment orders), several payment kinds."""
    return [oid for oid, o in app.sandbox.store.orders.items() if o.get("origin") != "Fulfillment"][:n]


async def structured(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def test_payment_transaction_money_reads_as_in_the_order(env):
    app, client = env
    for oid in paid(app):
        order = (await structured(client, "get_order", {"order_id": oid}))["order"]
        tx = (await structured(client, "get_payment_transaction", {"order_id": oid}))["transaction"]
        shown = sorted(p["value"] for p in order["payments"])
        assert sorted(p["value"] for p in tx["payments"]) == shown, oid
        assert all(v.startswith("R$ ") and "," in v for v in shown), shown
        text = (await client.read_resource(f"vtex://orders/{oid}/payment-transaction.txt")).contents[0].text
        assert all(f"· {v} ·" in text or text.endswith(v) or f"· {v}\n" in text for v in shown), text


async def test_payment_transaction_without_its_order_still_answers(env):
    app, client = env
    oid = paid(app, 6)[5]  # an order not read yet (an order's format, once read, is kept)
    fault = app.sandbox.faults.add(Fault(kind="status", status=403, method="GET", path=re.escape(oid) + "$"))
    try:
        tx = (await structured(client, "get_payment_transaction", {"order_id": oid}))["transaction"]
    finally:
        app.sandbox.faults.faults.remove(fault)
    assert tx["payments"] and all(re.fullmatch(r"-?[\d,]+\.\d\d", p["value"]) for p in tx["payments"])


def stamps(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in stamps(v)]
    if isinstance(value, list):
        return [s for v in value for s in stamps(v)]
    return [m.group(0) for m in STAMP.finditer(value)] if isinstance(value, str) else []


async def test_compact_views_show_every_instant_with_its_zone(env):
    app, client = env
    talked = next(oid for oid, meta in app.sandbox.store.meta.items() if meta.get("conversation"))
    shown: list[str] = []
    shown += stamps(await structured(client, "list_orders", {"per_page": 20}))
    for oid in [*paid(app, 3), talked]:
        shown += stamps(await structured(client, "get_order", {"order_id": oid}))
        shown += stamps((await client.read_resource(f"vtex://orders/{oid}.txt")).contents[0].text)
    shown += stamps(await structured(client, "get_order_conversation", {"order_id": talked}))
    shown += stamps((await client.read_resource(f"vtex://orders/{talked}/conversation.txt")).contents[0].text)
    assert len(shown) > 20
    assert [s for s in shown if not STAMP.fullmatch(s).group(1)] == []


async def test_an_orders_store_format_is_read_once(env):
    # storePreferencesData never changes once an order is placed: a second payment read of the
    # same order asks VTEX for the payment transaction only.
    app, client = env
    oid = paid(app, 7)[6]
    app.sandbox.clear_log()
    first = await structured(client, "get_payment_transaction", {"order_id": oid})
    second = await structured(client, "get_payment_transaction", {"order_id": oid})
    assert first == second and all(p["value"].startswith("R$ ") for p in first["transaction"]["payments"])
    paths = [r.path for r in app.sandbox.requests]
    assert sum(p.endswith(f"/orders/{oid}") for p in paths) == 1
    assert sum("payment-transaction" in p for p in paths) == 2
