"""Feed v3, JSONata test, order hook and Feed v2 in the sandbox (#14-#22, #26), through the HTTP layer.

Order changes are produced through the OMS routes (start-handling, cancel) so the feed hears them the
way it would in use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sandbox_support import check_ext_schema, http

from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, Sandbox
from vtex_orders_mcp.sandbox.feed import MAX_RECEIVES, jsonata_truthy

pytestmark = pytest.mark.anyio

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def sandbox():
    return Sandbox(orders=120, now=NOW)


@pytest.fixture
async def client(sandbox):
    async with http(sandbox) as c:
        yield c


def ready_orders(sandbox, n: int) -> list[str]:
    ids = sorted(oid for oid, o in sandbox.store.orders.items() if o["status"] == "ready-for-handling")
    assert len(ids) >= n
    return ids[:n]


WORKFLOW = {
    "filter": {"type": "FromWorkflow", "status": ["handling"]},
    "queue": {"visibilityTimeoutInSeconds": 250, "MessageRetentionPeriodInSeconds": 345600},
}


async def configure(client, body=WORKFLOW):
    r = await client.post("/api/orders/feed/config", json=body)
    assert r.status_code == 200, r.text
    assert r.content == b""


async def start_handling(client, order_id: str) -> None:
    r = await client.post(f"/api/oms/pvt/orders/{order_id}/start-handling")
    assert r.status_code == 204, r.text


# ------------------------------------------------------------------------------------------------
# configuration (#15-#17)


async def test_no_configuration_is_404(client):
    for method, url in (
        ("GET", "/api/orders/feed/config"),
        ("GET", "/api/orders/feed?maxlot=5"),
        ("DELETE", "/api/orders/feed/config"),
    ):
        r = await client.request(method, url)
        assert r.status_code == 404
        assert r.text == "Value not found."


async def test_configuration_roundtrip_and_delete(client):
    await configure(client)
    r = await client.get("/api/orders/feed/config")
    assert r.status_code == 200
    body = r.json()
    check_ext_schema("GET /api/orders/feed/config", "200", body)
    assert body["filter"] == {"type": "FromWorkflow", "status": ["handling"]}
    assert body["queue"] == {"visibilityTimeoutInSeconds": 250, "MessageRetentionPeriodInSeconds": 345600}
    assert body["quantity"] == 0 and body["approximateAgeOfOldestMessageInSeconds"] == 0
    r = await client.delete("/api/orders/feed/config")
    assert r.status_code == 200
    assert (await client.get("/api/orders/feed/config")).status_code == 404


async def test_configuration_is_per_app_key(client, sandbox):
    await configure(client)
    other = {"X-VTEX-API-AppKey": "vtexappkey-other", "X-VTEX-API-AppToken": "x"}
    # the sandbox's credentials only know one key pair, so another key is refused before the feed
    r = await client.get("/api/orders/feed/config", headers=other)
    assert r.status_code == 403
    assert sandbox.services["feed"].feeds.keys() == {SANDBOX_APP_KEY}


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"queue": WORKFLOW["queue"]}, "filter is required"),
        ({"filter": {"type": "FromSomewhere"}, "queue": WORKFLOW["queue"]}, "filter.type"),
        ({"filter": {"type": "FromWorkflow", "status": []}, "queue": WORKFLOW["queue"]}, "at least one"),
        ({"filter": {"type": "FromOrders", "expression": "value >"}, "queue": WORKFLOW["queue"]}, "Invalid JSONata"),
        ({"filter": {"type": "FromOrders"}, "queue": WORKFLOW["queue"]}, "filter.expression is required"),
        ({"filter": WORKFLOW["filter"]}, "queue is required"),
        (
            {"filter": WORKFLOW["filter"], "queue": {"visibilityTimeoutInSeconds": 250}},
            "MessageRetentionPeriodInSeconds",
        ),
        (
            {
                "filter": WORKFLOW["filter"],
                "queue": {"visibilityTimeoutInSeconds": 250, "MessageRetentionPeriodInSeconds": 1209601},
            },
            "1209600",
        ),
        (
            {
                "filter": WORKFLOW["filter"],
                "queue": {"visibilityTimeoutInSeconds": "250", "MessageRetentionPeriodInSeconds": 3600},
            },
            "visibilityTimeoutInSeconds",
        ),
    ],
)
async def test_configuration_refusals(client, body, fragment):
    r = await client.post("/api/orders/feed/config", json=body)
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]
    assert (await client.get("/api/orders/feed/config")).status_code == 404


# ------------------------------------------------------------------------------------------------
# queue (#18, #19)


async def test_workflow_events_visibility_timeout_and_commit(client, sandbox):
    await configure(client)
    ids = ready_orders(sandbox, 3)
    for oid in ids:
        await start_handling(client, oid)
    # a non-status change and a status not in the filter do not enqueue anything
    r = await client.post(f"/api/oms/pvt/orders/{ids[0]}/interactions", json={"source": "t", "message": "m"})
    assert r.status_code == 200

    r = await client.get("/api/orders/feed", params={"maxlot": "2"})
    assert r.status_code == 200
    first = r.json()
    check_ext_schema("GET /api/orders/feed", "200", first)
    assert [i["orderId"] for i in first] == ids[:2]
    assert all(
        i["state"] == "handling" and i["lastState"] == "ready-for-handling" and i["domain"] == "Fulfillment"
        for i in first
    )
    assert first[0]["currentChange"] == sandbox.store.orders[ids[0]]["lastChange"]

    # retrieved items are hidden: the next lot only has the third one
    r = await client.get("/api/orders/feed", params={"maxlot": "10"})
    assert [i["orderId"] for i in r.json()] == [ids[2]]
    config = (await client.get("/api/orders/feed/config")).json()
    assert config["quantity"] == 3  # invisible items still count

    # commit the first; after the visibility timeout the uncommitted second comes back with a new handle
    r = await client.post("/api/orders/feed", json={"handles": [first[0]["handle"]]})
    assert r.status_code == 200 and r.content == b""
    sandbox.clock.advance(249)
    assert (await client.get("/api/orders/feed", params={"maxlot": "10"})).json() == []
    sandbox.clock.advance(1)
    again = (await client.get("/api/orders/feed", params={"maxlot": "10"})).json()
    assert [i["orderId"] for i in again] == ids[1:]
    assert again[0]["eventId"] == first[1]["eventId"] and again[0]["handle"] != first[1]["handle"]
    # a superseded handle commits nothing; the current one does
    await client.post("/api/orders/feed", json={"handles": [first[1]["handle"]]})
    assert (await client.get("/api/orders/feed/config")).json()["quantity"] == 2
    await client.post("/api/orders/feed", json={"handles": [i["handle"] for i in again]})
    config = (await client.get("/api/orders/feed/config")).json()
    assert config["quantity"] == 0


async def test_retention_period_and_age(client, sandbox):
    await configure(
        client,
        {
            "filter": WORKFLOW["filter"],
            "queue": {"visibilityTimeoutInSeconds": 30, "MessageRetentionPeriodInSeconds": 600},
        },
    )
    oid = ready_orders(sandbox, 1)[0]
    await start_handling(client, oid)
    sandbox.clock.advance(78.5)
    config = (await client.get("/api/orders/feed/config")).json()
    assert config["quantity"] == 1 and config["approximateAgeOfOldestMessageInSeconds"] == 78.5
    sandbox.clock.advance(600 - 78.5)
    assert (await client.get("/api/orders/feed/config")).json()["quantity"] == 0
    assert (await client.get("/api/orders/feed", params={"maxlot": "1"})).json() == []


async def test_items_dropped_after_too_many_receives(client, sandbox):
    await configure(
        client,
        {
            "filter": WORKFLOW["filter"],
            "queue": {"visibilityTimeoutInSeconds": 0, "MessageRetentionPeriodInSeconds": 3600},
        },
    )
    await start_handling(client, ready_orders(sandbox, 1)[0])
    for _ in range(MAX_RECEIVES):
        assert len((await client.get("/api/orders/feed", params={"maxlot": "1"})).json()) == 1
    assert (await client.get("/api/orders/feed", params={"maxlot": "1"})).json() == []


@pytest.mark.parametrize("maxlot", [None, "0", "11", "ten"])
async def test_maxlot_is_required_between_1_and_10(client, maxlot):
    await configure(client)
    r = await client.get("/api/orders/feed", params={} if maxlot is None else {"maxlot": maxlot})
    assert r.status_code == 400
    assert "maxlot" in r.json()["error"]["message"]


async def test_commit_requires_handles(client):
    await configure(client)
    r = await client.post("/api/orders/feed", json={"handle": "x"})
    assert r.status_code == 400
    assert "handles" in r.json()["error"]["message"]


async def test_from_orders_jsonata_filter_and_single_fire(client, sandbox):
    ids = ready_orders(sandbox, 2)
    await configure(
        client,
        {
            "filter": {"type": "FromOrders", "expression": f'orderId = "{ids[0]}"', "disableSingleFire": False},
            "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
        },
    )
    await start_handling(client, ids[1])  # does not match the expression
    await start_handling(client, ids[0])
    # a later non-status change of the same order (Store.touch is what every such route calls)
    sandbox.store.touch(sandbox.store.orders[ids[0]])
    items = (await client.get("/api/orders/feed", params={"maxlot": "10"})).json()
    assert [i["orderId"] for i in items] == [ids[0]]  # single fire: the later change is not re-sent

    # disableSingleFire=true: every matching change is an event, non-status changes included
    await configure(
        client,
        {
            "filter": {"type": "FromOrders", "expression": f'orderId = "{ids[0]}"', "disableSingleFire": True},
            "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
        },
    )
    sandbox.store.touch(sandbox.store.orders[ids[0]])
    sandbox.store.touch(sandbox.store.orders[ids[0]])
    sandbox.clock.advance(60)
    items = (await client.get("/api/orders/feed", params={"maxlot": "10"})).json()
    assert [i["orderId"] for i in items] == [ids[0]] * 3  # the first event, invisible until now, + 2 new
    assert items[-1]["state"] == items[-1]["lastState"] == "handling"


async def test_from_orders_expression_over_the_whole_document(client, sandbox):
    ids = ready_orders(sandbox, 4)
    big = [oid for oid in ids if sandbox.store.orders[oid]["value"] > 50000]
    await configure(
        client,
        {
            "filter": {
                "type": "FromOrders",
                "expression": 'value > 50000 and status = "handling"',
                "disableSingleFire": False,
            },
            "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
        },
    )
    for oid in ids:
        await start_handling(client, oid)
    items = (await client.get("/api/orders/feed", params={"maxlot": "10"})).json()
    assert [i["orderId"] for i in items] == big


# ------------------------------------------------------------------------------------------------
# JSONata test (#26)


@pytest.mark.parametrize(
    "expression, document, expected",
    [
        ('status = "canceled"', {"status": "canceled"}, True),
        ('status = "canceled"', {"status": "invoiced"}, False),
        ("value > 100", {"value": 50}, False),
        ("items[quantity > 1]", {"items": [{"quantity": 3}]}, True),
        ("missing.field", {"value": 1}, False),
    ],
)
async def test_jsonata_expression(client, expression, document, expected):
    r = await client.post(
        "/api/orders/expressions/jsonata", json={"Expression": expression, "Document": json.dumps(document)}
    )
    assert r.status_code == 200
    check_ext_schema("POST /api/orders/expressions/jsonata", "200", r.json())
    assert r.json() is expected


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"Expression": "status = ", "Document": "{}"}, "Expression"),
        ({"Expression": "status", "Document": "{not json"}, "Document"),
        ({"Expression": "status", "Document": {"status": "x"}}, "Document"),
        ({"Document": "{}"}, "Expression"),
    ],
)
async def test_jsonata_refusals_name_the_field(client, body, fragment):
    r = await client.post("/api/orders/expressions/jsonata", json=body)
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]


def test_jsonata_boolean_casting():
    assert [jsonata_truthy(v) for v in (None, 0, "", [], {}, [0, ""], "a", 1, [0, 2], {"a": 1})] == [
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        True,
        True,
    ]


# ------------------------------------------------------------------------------------------------
# hook (#20-#22)

HOOK = {
    "filter": {"type": "FromWorkflow", "status": ["handling", "canceled"]},
    "hook": {"url": "https://erp.example.com/vtex/orders", "headers": {"X-Erp-Token": "abc"}},
}


async def test_hook_configuration_and_deliveries(client, sandbox):
    r = await client.post("/api/orders/hook/config", json=HOOK)
    assert r.status_code == 200
    sample = r.json()
    check_ext_schema("POST /api/orders/hook/config", "200", sample)
    assert sample["Origin"] == {"Account": sandbox.store.account, "Key": SANDBOX_APP_KEY}
    assert sandbox.store.orders[sample["OrderId"]]["status"] in HOOK["filter"]["status"]

    r = await client.get("/api/orders/hook/config", params={"page": "1", "per_page": "15"})
    assert r.status_code == 200
    assert r.json() == {"filter": HOOK["filter"], "hook": HOOK["hook"]}

    oid = ready_orders(sandbox, 1)[0]
    await start_handling(client, oid)
    deliveries = sandbox.services["feed"].deliveries
    assert len(deliveries) == 1
    sent = deliveries[0]
    assert sent["url"] == HOOK["hook"]["url"] and sent["headers"] == {"X-Erp-Token": "abc"}
    check_ext_schema("POST /api/orders/hook/config", "200", sent["payload"])
    assert (sent["payload"]["OrderId"], sent["payload"]["State"], sent["payload"]["LastState"]) == (
        oid,
        "handling",
        "ready-for-handling",
    )

    r = await client.delete("/api/orders/hook/config")
    assert r.status_code == 200
    assert (await client.get("/api/orders/hook/config")).status_code == 404
    assert (await client.delete("/api/orders/hook/config")).status_code == 404
    await start_handling(client, ready_orders(sandbox, 1)[0])
    assert len(deliveries) == 1  # no hook, no delivery


async def test_hook_refuses_http_scheme(client):
    r = await client.post(
        "/api/orders/hook/config", json={**HOOK, "hook": {"url": "http://erp.example.com/x", "headers": {}}}
    )
    assert r.status_code == 400
    assert r.text == "Only https scheme is accepted."
    assert (await client.get("/api/orders/hook/config")).status_code == 404


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"filter": {"type": "FromWorkflow"}, "hook": HOOK["hook"]}, "at least one"),
        ({"filter": {"type": "FromOrders", "expression": "value > 1"}, "hook": HOOK["hook"]}, "disableSingleFire"),
        ({"filter": {"type": "FromOrders", "disableSingleFire": False}, "hook": HOOK["hook"]}, "expression"),
        ({"filter": HOOK["filter"], "hook": {"url": "https://x.example.com"}}, "headers"),
        ({"filter": HOOK["filter"], "hook": {"url": "https://x.example.com", "headers": {"a": 1}}}, "headers"),
        ({"filter": HOOK["filter"]}, "hook.url"),
    ],
)
async def test_hook_validation(client, body, fragment):
    r = await client.post("/api/orders/hook/config", json=body)
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]


async def test_hook_from_orders_filter(client, sandbox):
    ids = ready_orders(sandbox, 2)
    r = await client.post(
        "/api/orders/hook/config",
        json={
            "filter": {"type": "FromOrders", "expression": f'orderId = "{ids[1]}"', "disableSingleFire": False},
            "hook": {"url": "https://erp.example.com/hook", "headers": {"key": "value"}},
        },
    )
    assert r.status_code == 200
    assert r.json()["OrderId"] == ids[1]
    await start_handling(client, ids[0])
    await start_handling(client, ids[1])
    assert [d["payload"]["OrderId"] for d in sandbox.services["feed"].deliveries] == [ids[1]]


# ------------------------------------------------------------------------------------------------
# feed v2 (#14)


async def test_feed_v2_lists_recent_status_changes(client, sandbox):
    ids = ready_orders(sandbox, 3)
    for oid in ids:
        sandbox.clock.advance(1)
        await start_handling(client, oid)
    r = await client.get("/api/oms/pvt/feed/orders/status", params={"maxLot": "2"})
    assert r.status_code == 200
    items = r.json()
    assert [i["orderId"] for i in items] == ids[1:]
    assert all(i["status"] == "handling" and i["commitToken"] for i in items)
    assert items[-1]["dateTime"] == sandbox.store.orders[ids[2]]["lastChange"]
    r = await client.get("/api/oms/pvt/feed/orders/status")
    assert r.status_code == 400 and "maxLot" in r.json()["error"]["message"]


async def test_reset_clears_feeds_and_hooks(client, sandbox):
    await configure(client)
    await client.post("/api/orders/hook/config", json=HOOK)
    await start_handling(client, ready_orders(sandbox, 1)[0])
    sandbox.reset()
    feed = sandbox.services["feed"]
    assert feed.feeds == {} and feed.hooks == {} and feed.deliveries == [] and list(feed.status_log) == []
