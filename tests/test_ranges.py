"""list_orders past VTEX's 30-page window, through the SDK's in-memory client.

``all_pages`` says when the window cut it short (``truncated``, with the call that reads it all);
``whole_range`` walks a creation range of any size (ranges.py): 5,000 sandbox orders counted and
read to the end by following ``truncated.next``, each order exactly once, in creation order, every
answer within a token budget. The walk's edges (orders sharing a millisecond at a cut, a failed
piece, a millisecond holding more than the window) are shown on small sandboxes or on a minimal
VTEX behind the HTTP transport.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import anyio
import httpx2
import jsonschema
import pytest
from bpe_openai import get_encoding
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.models import ListOrders
from vtex_orders_mcp.schemas import advertised_schema
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

ENC = get_encoding("o200k_base")
# A whole_range answer: 100 compact rows (~70 tokens each), the counts by status and `next`.
ANSWER_BUDGET = 8_000


def tokens(data) -> int:
    return len(ENC.encode(json.dumps(data, ensure_ascii=False, separators=(",", ":"))))


def created(order: dict) -> datetime:
    return datetime.fromisoformat(order["creationDate"])


def in_order(orders, *, descending: bool) -> list[str]:
    """Order ids by creation instant, then orderId: the order the walk promises."""
    ranked = sorted(orders, key=lambda o: (created(o), o["orderId"]), reverse=descending)
    return [o["orderId"] for o in ranked]


async def structured(client: Client, args: dict, **kw) -> dict:
    result = await client.call_tool("list_orders", args, **kw)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def follow(client: Client, first: dict) -> tuple[list[str], int]:
    """Every row of ``first`` and of the answers its ``truncated.next`` leads to; the calls made."""
    seen = [row["orderId"] for row in first["orders"]]
    calls, answer = 1, first
    while "next" in answer.get("truncated", {}):
        answer = await structured(client, answer["truncated"]["next"])
        calls += 1
        assert tokens(answer) <= ANSWER_BUDGET
        seen += [row["orderId"] for row in answer["orders"]]
    return seen, calls


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """5,000 orders (built once: generating them is the expensive part)."""
    return build_server(Settings.from_env({}, state_dir=tmp_path_factory.mktemp("state"), sandbox_orders=5000))


@pytest.fixture
async def small(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=500))
    async with Client(app.server) as client:
        yield app, client


async def test_5000_orders_counted_and_read_to_the_end_through_next(big):
    app = big
    orders = list(app.sandbox.store.orders.values())
    assert len(orders) == 5000
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done, total, message):
        progress.append((done, total))

    async with Client(app.server) as client:
        app.sandbox.clear_log()
        first = await structured(client, {"whole_range": "counts", "per_page": 100}, progress_callback=on_progress)
        walk = list(app.sandbox.requests)
        # Counted past the window (3,000 orders at 100 a page), by status, in a bounded answer.
        assert first["paging"]["total"] == 5000
        assert first["byStatus"] == dict(Counter(o["status"] for o in orders))
        assert len(first["orders"]) == 100 and tokens(first) <= ANSWER_BUDGET
        assert first["truncated"]["shown"] == 100 and first["truncated"]["total"] == 5000
        assert first["truncated"]["next"]["whole_range"] == "rows"
        # Split into ranges that fit the window, read concurrently, never past page 30.
        assert all(r.status == 200 for r in walk) and max(int(r.query.get("page", ["1"])[0]) for r in walk) <= 30
        assert len({r.query["f_creationDate"][0] for r in walk if "f_creationDate" in r.query}) > 2
        assert len(walk) <= 5000 / 100 + 20  # each page once, plus a few halvings
        # Progress counts orders against the range's count, up to all of them.
        assert progress and progress[-1] == (5000, 5000)
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)

        app.sandbox.clear_log()
        seen, calls = await follow(client, first)
        # Every order exactly once, newest first, in a pass whose cost grows with the orders
        # shown: one request per further answer (its rows), not another walk of the rest.
        assert len(seen) == len(set(seen)) == 5000
        assert seen == in_order(orders, descending=True)
        assert len(app.sandbox.requests) <= 2 * (calls - 1)


async def test_all_pages_says_when_the_window_cut_it_short(small):
    _app, client = small
    whole = await structured(client, {"all_pages": True, "per_page": 100})
    assert len(whole["orders"]) == 500 and "truncated" not in whole  # 5 pages: within the window
    cut = await structured(client, {"all_pages": True, "order_by": "totalValue,desc"})
    # 500 orders at the default 15 a page: 34 pages, of which VTEX lists 30.
    assert len(cut["orders"]) == 450 and cut["paging"]["pagesFetched"] == 30
    truncated = cut["truncated"]
    assert truncated["shown"] == 450 and truncated["total"] == 500
    assert "at most 30 pages" in truncated["reason"] and "whole_range" in truncated["reason"]
    # What to do: the range walk, in creation order (the walk reads no other order).
    assert truncated["next"] == {"whole_range": "counts", "order_by": "creationDate,desc"}
    rest = await structured(client, truncated["next"])
    assert rest["paging"]["total"] == 500 and sum(rest["byStatus"].values()) == 500


def few_groups(orders: list[dict]) -> tuple[str, str]:
    """A short creation range that starts and ends at order groups (orders sharing their creation
    instant) and holds a third one."""
    instants = Counter(o["creationDate"] for o in orders)
    shared = sorted((i for i, n in instants.items() if n > 1), key=lambda i: created({"creationDate": i}))
    for first, last in zip(shared, shared[2:], strict=False):
        low, high = created({"creationDate": first}), created({"creationDate": last})
        if sum(low <= created(o) <= high for o in orders) <= 30:
            return first, last
    raise AssertionError("the seed makes order groups")


@pytest.mark.parametrize("order_by", ["creationDate,desc", "creationDate,asc"])
async def test_orders_sharing_a_millisecond_are_never_split_between_answers(small, order_by):
    """A cut that would fall inside an order group moves to its edge (or, when the group alone
    is more than a page, takes the group whole), so following next reads every order once."""
    app, client = small
    orders = list(app.sandbox.store.orders.values())
    first, last = few_groups(orders)
    low, high = created({"creationDate": first}), created({"creationDate": last})
    in_range = [o for o in orders if low <= created(o) <= high]
    expected = in_order(in_range, descending=order_by.endswith("desc"))
    instants = Counter(o["creationDate"] for o in in_range)
    for per_page in (1, 3):
        args = {"whole_range": "counts", "created_from": first, "created_to": last, "order_by": order_by}
        answers = [await structured(client, {**args, "per_page": per_page})]
        while "next" in answers[-1].get("truncated", {}):
            answers.append(await structured(client, answers[-1]["truncated"]["next"]))
        seen = [row["orderId"] for answer in answers for row in answer["orders"]]
        assert seen == expected, per_page
        for answer in answers:
            shown = Counter(app.sandbox.store.orders[row["orderId"]]["creationDate"] for row in answer["orders"])
            assert all(instants[instant] == n for instant, n in shown.items()), "a group split between answers"
            assert len(answer["orders"]) <= max(per_page, *shown.values())
        assert any(len(answer["orders"]) > per_page for answer in answers) == (per_page == 1)


async def test_whole_range_needs_creation_order(small):
    app, client = small
    schema = advertised_schema(ListOrders)
    wrong = {"whole_range": "counts", "order_by": "totalValue,desc"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema)
    jsonschema.validate({"whole_range": "counts", "order_by": "creationDate,asc"}, schema)
    jsonschema.validate({"order_by": "totalValue,desc"}, schema)
    app.sandbox.clear_log()
    result = await client.call_tool("list_orders", wrong)
    text = result.content[0].text
    assert (
        result.is_error
        and 'order_by: must match ^creationDate, (got "totalValue,desc"), with whole_range given' in text
    )
    assert app.sandbox.requests == []


# --- a minimal VTEX behind the HTTP transport, for what the seed never holds --------------------

RANGE = re.compile(r"creationDate:\[(\S+) TO (\S+)\]")


def minimal_vtex(orders: list[tuple[str, str]], fail_narrower: bool = False):
    """VTEX's list over (orderId, creationDate) pairs: the creation filter (to the millisecond,
    inclusive), creation order, pages of per_page, refused past page 30."""

    @functools.cache
    def ms(value: str) -> datetime:
        when = datetime.fromisoformat(value)
        return when.replace(microsecond=when.microsecond // 1000 * 1000)

    orders = sorted(orders, key=lambda r: (ms(r[1]), r[1], r[0]))

    def handler(request: httpx2.Request) -> httpx2.Response:
        params = request.url.params
        page, per_page = int(params.get("page", "1")), int(params.get("per_page", "15"))
        if page > 30:
            return httpx2.Response(400, json={"error": {"code": "1", "message": "page must be at most 30"}})
        rows = orders
        match = RANGE.fullmatch(params.get("f_creationDate", "creationDate:[* TO *]"))
        low, high = match.groups() if match else ("*", "*")
        if fail_narrower and (low, high) != ("*", "*") and params.get("per_page") != "1":
            return httpx2.Response(403, json={"error": {"code": "1", "message": "Access denied"}})
        rows = [r for r in rows if (low == "*" or ms(r[1]) >= ms(low)) and (high == "*" or ms(r[1]) <= ms(high))]
        if params.get("orderBy", "").endswith("desc"):
            rows = rows[::-1]
        part = rows[(page - 1) * per_page : page * per_page]
        listed = [{"orderId": oid, "creationDate": when, "status": "handling", "totalValue": 100,
                   "currencyCode": "BRL"} for oid, when in part]  # fmt: skip
        paging = {"total": len(rows), "pages": -(-len(rows) // per_page), "currentPage": page, "perPage": per_page}
        return httpx2.Response(200, json={"list": listed, "paging": paging})

    return httpx2.MockTransport(handler)


def live(tmp_path, transport) -> Client:
    settings = Settings.from_env({"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"},
                                 state_dir=tmp_path)  # fmt: skip
    return Client(build_server(settings, transport=transport).server)


def stamps(start: datetime, count: int, step: timedelta) -> list[str]:
    return [(start + n * step).isoformat() for n in range(count)]


async def test_a_millisecond_holding_more_than_the_window_is_reported(tmp_path):
    """3,050 orders created in one millisecond (VTEX writes 7 fraction digits): VTEX lists 3,000
    of them and one answer holds 100. The walk counts them all, says which instant it cannot show
    whole, shows a page of it and goes on past it; every answer stays bounded."""
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    crowded = [(f"c{n:05d}-01", (start + timedelta(microseconds=n % 900)).isoformat()) for n in range(3050)]
    hourly = timedelta(hours=1)
    around = [(f"a{n:03d}-01", when) for n, when in enumerate(stamps(start - timedelta(days=1), 20, hourly))]
    later = [(f"z{n:03d}-01", when) for n, when in enumerate(stamps(start + timedelta(days=1), 5, hourly))]
    async with live(tmp_path, minimal_vtex(crowded + around + later)) as client:
        answer = await structured(client, {"whole_range": "counts", "order_by": "creationDate,asc", "per_page": 50})
        assert answer["paging"]["total"] == 3075 and answer["byStatus"] == {"handling": 3025}
        note = "not every order created at 2026-03-01T12:00:00.000Z can be shown"
        assert note in answer["truncated"]["reason"]
        assert [row["orderId"] for row in answer["orders"]] == [o for o, _ in around]  # cut before it
        crowd = await structured(client, answer["truncated"]["next"])
        assert len(crowd["orders"]) == 50 and note in crowd["truncated"]["reason"]
        seen, _calls = await follow(client, crowd)
    assert seen[50:] == [o for o, _ in later] and len(set(seen)) == 55


async def test_a_failed_piece_fails_the_walk_cleanly(tmp_path):
    rows = [(f"o{n:05d}-01", when) for n, when in enumerate(stamps(datetime(2026, 1, 1, tzinfo=UTC), 3200,
                                                                     timedelta(minutes=7)))]  # fmt: skip
    async with live(tmp_path, minimal_vtex(rows, fail_narrower=True)) as client:
        result = await client.call_tool("list_orders", {"whole_range": "counts"})
    assert result.is_error
    assert result.content[0].text.startswith("failed to list orders: VTEX answered 403"), result.content[0].text


class Counting(httpx2.AsyncBaseTransport):
    """The HTTP seam, counting how many requests are in flight at once (each held 10 ms)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner, self.now, self.most = inner, 0, 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await anyio.sleep(0.01)
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_a_range_walk_keeps_to_the_configured_concurrency(tmp_path):
    """Pieces and pages are read concurrently, never more at once than VTEX_MAX_CONCURRENCY."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    seam = Counting(
        minimal_vtex([(f"o{n}-01", when) for n, when in enumerate(stamps(start, 3_500, timedelta(minutes=1)))])
    )
    settings = Settings.from_env({"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t",
                                  "VTEX_MAX_CONCURRENCY": "3"}, state_dir=tmp_path)  # fmt: skip
    async with Client(build_server(settings, transport=seam).server) as client:
        answer = await structured(client, {"whole_range": "counts", "created_from": start.isoformat(),
                                           "created_to": (start + timedelta(days=30)).isoformat()})  # fmt: skip
    assert answer["paging"]["total"] == 3_500
    assert 1 < seam.most <= 3, seam.most
