"""A large sandbox plans most orders and builds their documents on first read (orderbook.py), and
lists from an index of list fields (listing.ListIndex): what it answers must be what building
every document and scanning them all would answer."""

from __future__ import annotations

import json
from datetime import timedelta
from collections import Counter

import pytest
from sandbox_support import NOW, http, validator

from vtex_orders_mcp.sandbox import Sandbox
from vtex_orders_mcp.sandbox import seed as seed_module
from vtex_orders_mcp.sandbox.listing import sort_orders, stats
from vtex_orders_mcp.sandbox.orderbook import LIST_FIELDS

LARGE = 1_500  # 500 built at start, 1,000 planned
ORDERS = "/api/oms/pvt/orders"


@pytest.fixture(scope="module")
def large() -> Sandbox:
    return Sandbox(orders=LARGE, now=NOW)


@pytest.mark.anyio
async def test_only_the_first_orders_are_built_at_start() -> None:
    sb = Sandbox(orders=LARGE, now=NOW)
    assert len(sb.store.orders) == LARGE
    assert sb.store.orders.planned() == LARGE - seed_module.EAGER_ORDERS
    async with http(sb) as client:
        page = (await client.get(ORDERS, params={"per_page": "15"})).json()
    # a list page builds the documents on that page, and no others
    assert LARGE - seed_module.EAGER_ORDERS - 15 <= sb.store.orders.planned() < LARGE - seed_module.EAGER_ORDERS
    assert page["paging"]["total"] == LARGE and len(page["list"]) == 15


def test_the_built_orders_are_those_of_the_default_store() -> None:
    # Evals, docs and examples name orders of the default 500: a larger store keeps them as they are.
    seed_module._CACHE.clear()
    default = Sandbox(orders=500, now=NOW)
    seed_module._CACHE.clear()
    bigger = Sandbox(orders=LARGE, now=NOW)
    for oid in default.store.orders:
        assert bigger.store.orders[oid] == default.store.orders[oid]


def test_planned_orders_are_deterministic_and_depend_on_the_seed() -> None:
    a, b = Sandbox(orders=800, now=NOW), Sandbox(orders=800, now=NOW)
    assert json.dumps(dict(a.store.orders), sort_keys=True) == json.dumps(dict(b.store.orders), sort_keys=True)
    other = Sandbox(seed=8, orders=800, now=NOW)
    assert set(other.store.orders) != set(a.store.orders)


def test_every_planned_document_matches_its_plan_and_the_published_schema(large: Sandbox) -> None:
    orders = large.store.orders
    planned = [oid for oid in orders if oid not in orders.built()]
    fields = {oid: {name: orders.field(oid, name) for name in LIST_FIELDS} for oid in planned}
    schema = validator("GET /api/oms/pvt/orders/{orderId}", "200")
    for oid in planned:
        doc = orders[oid]
        assert {name: read(doc) for name, read in LIST_FIELDS.items()} == fields[oid], oid
        errors = [e.message for e in schema.iter_errors(doc)]
        assert not errors, (oid, errors[:3])


@pytest.mark.anyio
async def test_list_answers_equal_a_scan_of_every_document() -> None:
    sb = Sandbox(orders=LARGE, now=NOW)
    async with http(sb) as client:

        async def get(**params: str) -> dict:
            response = await client.get(ORDERS, params=params)
            assert response.status_code == 200, response.text
            return response.json()

        queries = [
            {},
            {"f_status": "handling,invoiced", "per_page": "100", "page": "3"},
            {"orderBy": "totalValue,desc", "per_page": "50"},
            {"orderBy": "items,asc", "page": "2"},
            {"orderBy": "origin,desc"},
            {"f_creationDate": "creationDate:[2026-11-01T00:00:00.000Z TO 2026-11-20T00:00:00.000Z]"},
        ]
        answers = [await get(**q) for q in queries]
        everything = list(sb.store.orders.values())  # every document built
        rescan = [await get(**q) for q in queries]
    assert answers == rescan  # the index answers as it did before the documents were built
    newest = [o["orderId"] for o in sort_orders(everything, None)[:15]]  # ties: orderId, descending
    assert [row["orderId"] for row in answers[0]["list"]] == newest
    assert answers[0]["stats"] == stats(everything)
    assert answers[0]["paging"]["total"] == LARGE
    wanted = [o for o in everything if o["status"] in ("handling", "invoiced")]
    assert answers[1]["paging"]["total"] == len(wanted) and answers[1]["stats"] == stats(wanted)
    values = [row["totalValue"] for row in answers[2]["list"]]
    assert values == sorted(values, reverse=True) and values[0] == max(o["value"] for o in everything)


@pytest.mark.anyio
async def test_changed_and_replaced_orders_are_listed_as_they_are_now() -> None:
    sb = Sandbox(orders=LARGE, now=NOW)
    async with http(sb) as client:
        before = (await client.get(ORDERS, params={"f_status": "replaced"})).json()
        stats_before = before["stats"]["stats"]["totalValue"]["Sum"]
        changed, replaced = list(sb.store.orders)[:2]
        sb.store.set_status(sb.store.orders[changed], "replaced")  # as a route changes a status
        copy = dict(sb.store.orders[replaced], status="replaced", value=sb.store.orders[replaced]["value"] + 100)
        sb.store.orders[replaced] = copy  # as a test puts a document back
        after = (await client.get(ORDERS, params={"f_status": "replaced"})).json()
    assert after["paging"]["total"] == before["paging"]["total"] + 2
    assert {changed, replaced} <= {row["orderId"] for row in after["list"]}
    assert after["stats"]["stats"]["totalValue"]["Sum"] == (
        stats_before + sb.store.orders[changed]["value"] + copy["value"]
    )


def test_the_modification_catalogue_reads_only_the_seeded_orders() -> None:
    sb = Sandbox(orders=LARGE, now=NOW)
    planned = sb.store.orders.planned()
    catalogue = sb.modifications.catalog()
    assert sb.store.orders.planned() == planned  # nothing built for it
    assert {sku for sku, *_ in seed_module.CATALOG} <= set(catalogue)


def test_planned_orders_keep_the_generators_mix() -> None:
    # plans.py draws a column at a time, with weights rounded to 1/256: the statuses, channels and
    # groups must still come out in the mix the built orders are drawn with.
    sb = Sandbox(orders=20_000, now=NOW)
    orders = sb.store.orders
    planned = [oid for oid in orders if oid not in orders.seeded]
    assert len(planned) == len(set(planned)) == 20_000 - seed_module.EAGER_ORDERS
    statuses = Counter(orders.field(oid, "status") for oid in planned)
    total = sum(weight for _, weight in seed_module.STATUS_WEIGHTS)
    for status, weight in seed_module.STATUS_WEIGHTS:
        assert abs(statuses[status] / len(planned) - weight / total) < 0.015, status
    origins = Counter(orders.field(oid, "origin") for oid in planned)
    assert 0.08 < origins["Fulfillment"] / len(planned) < 0.12  # 12% of purchases, as _purchase draws
    groups = Counter(orders.field(oid, "order_group") for oid in planned)
    assert {1, 2, 3} <= set(groups.values()) <= {1, 2, 3}
    # purchases are planned in creation order: sequence numbers grow with creation dates
    by_creation = sorted(planned, key=lambda oid: (orders.field(oid, "creation_date"), oid))
    sequences = [int(orders.field(oid, "sequence")) for oid in by_creation]
    assert sequences == sorted(sequences)
    # the orders of a group are one purchase: one creation date, one status, one customer
    some = [g for g, n in groups.items() if n > 1][:50]
    for group in some:
        docs = [orders[oid] for oid in orders.in_group(group)]
        assert len({(d["creationDate"], d["status"], d["clientProfileData"]["email"]) for d in docs}) == 1


def test_the_index_lists_a_document_under_its_key():
    # The list index reads ids from the mapping, as every route finds orders: a document put in
    # under a key is listed under it (the old list_rows did so; list_columns must too).
    sb = Sandbox(orders=600, now=NOW)
    orders = sb.store.orders
    doc = dict(orders[next(iter(orders.seeded))])
    del doc["orderId"]
    orders["v1-01"] = {**doc, "orderId": "v1-01"}
    ids, _, _ = orders.list_columns(("status",))
    assert "v1-01" in ids and len(ids) == len(set(ids)) == len(orders)


@pytest.mark.anyio
async def test_customer_lists_read_the_index_and_equal_a_scan_of_every_document() -> None:
    # Without clientEmail every order is listed: only the page's documents are built, and the
    # answer is the one a scan of every document gives (newest first, stats over all of them).
    sb = Sandbox(orders=LARGE, now=NOW)
    async with http(sb) as client:
        planned = sb.store.orders.planned()
        page = (await client.get("/api/oms/user/orders", params={"per_page": "10"})).json()
        assert sb.store.orders.planned() >= planned - 10  # the page's documents, no others
        some = next(oid for oid in sb.store.orders if oid not in sb.store.orders.seeded)
        since = (NOW - timedelta(days=60)).strftime("%Y-%m-%d")
        email = sb.store.orders.field(some, "email")
        queries = [
            {"per_page": "10"},
            {"clientEmail": email.upper(), "per_page": "5", "page": "2"},
            {"status": "invoiced,canceled", "creation_date": f"creationDate:[{since}T00:00:00.000Z TO *]"},
        ]
        answers = [(await client.get("/api/oms/user/orders", params=q)).json() for q in queries]
    everything = sort_orders(list(sb.store.orders.values()), None)
    assert answers[0] == page and [r["orderId"] for r in page["list"]] == [o["orderId"] for o in everything[:10]]
    assert page["stats"] == stats(everything, integral=True, facets=False)
    mine = [o for o in everything if o["clientProfileData"]["email"].lower() == email.lower()]
    assert [r["orderId"] for r in answers[1]["list"]] == [o["orderId"] for o in mine[5:10]]
    assert answers[1]["paging"]["total"] == len(mine) and answers[1]["stats"] == stats(
        mine, integral=True, facets=False
    )
    late = [o for o in everything if o["status"] in ("invoiced", "canceled") and o["creationDate"] >= since]
    assert answers[2]["paging"]["total"] == len(late) > 0
