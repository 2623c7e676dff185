"""Every tool through the SDK client against the sandbox: its example, and invalid inputs.

The happy path of each tool is the operation's own example (``Operation.example`` in the
registry), run with a client that approves through elicitation, so each crosses the guard for
real. Invalid inputs are derived from each tool's advertised schema (tests/examples.py) and must
be refused before any request: the sandbox log stays empty.
"""

from __future__ import annotations

import re

import jsonschema
import pytest
from examples import example_arguments, invalid_inputs
from mcp import Client, types

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import OPERATIONS
from vtex_orders_mcp.schemas import advertised_schema
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

SEED = "v502556llux-01"


async def approve(ctx, params):
    return types.ElicitResult(action="accept", content={})


@pytest.fixture
async def env(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=40))
    async with Client(app.server, elicitation_callback=approve) as client:
        yield app, client


def orders(app, status):
    return [o for o in app.sandbox.store.orders.values() if o["status"] == status]


def pick(app, status, pred=lambda o: True):
    return next(o for o in orders(app, status) if pred(o))


def invoiced_with_tracking(app):
    for o in orders(app, "invoiced"):
        for p in o["packageAttachment"]["packages"]:
            if p.get("type") == "Output" and p.get("trackingNumber"):
                return o, p
    raise LookupError


async def input_schema(client, name):
    return next(t.input_schema for t in (await client.list_tools()).tools if t.name == name)


async def call(client, name, args):
    result = await client.call_tool(name, args)
    assert not result.is_error, f"{name}: {result.content[0].text}"
    return result.structured_content


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_happy_path(env, op):
    """The operation's own example (registry) runs through the guard and sends exactly itself."""
    app, client = env
    args = await example_arguments(op, client, app.sandbox)
    jsonschema.validate(args, await input_schema(client, op.name))  # a valid example for the schema
    app.sandbox.clear_log()
    out = await call(client, op.name, args)
    if op.read_only:
        # a read sends nothing but itself (preview and the JSONata test are read-only POSTs)
        assert {w.route for w in app.sandbox.writes()} <= {f"{op.method} {op.path}"}, op.name
        assert set(out) & {"order", "orders", "messages", "transaction", "result"}
    else:
        assert out["status"] == "done", out
        routes = [w.route for w in app.sandbox.writes()]
        assert routes == [f"{op.method} {op.path}"], routes


WRITES = [op for op in OPERATIONS if not op.read_only]


@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.name)
async def test_two_step_confirmation_round_trips(tmp_path, op):
    """In token mode, a client without elicitation passes the confirmation back unchanged and the
    write runs once."""
    app = build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=40, guard="token"))
    async with Client(app.server, elicitation_callback=approve) as client:
        args = await example_arguments(op, client, app.sandbox)  # set-up may use the approving client
    app.sandbox.clear_log()
    async with Client(app.server) as plain:  # no elicitation: the two-step token path
        asked = await call(plain, op.name, args)
        assert asked["status"] == "approval_required" and app.sandbox.writes() == []
        done = await call(plain, "confirm_write", asked["confirmation"])
    assert done["status"] == "done", done
    assert [w.route for w in app.sandbox.writes()] == [f"{op.method} {op.path}"]


INVALID = [
    (op, case, args, named) for op in OPERATIONS for case, args, named in invalid_inputs(advertised_schema(op.args))
]


def test_every_operation_has_invalid_cases_beyond_the_unknown_field():
    counted = {op.name: sum(1 for o, *_ in INVALID if o is op) for op in OPERATIONS}
    assert all(n >= 1 for n in counted.values())
    assert sum(counted.values()) > 3 * len(OPERATIONS)  # required, typed and bounded fields too


@pytest.mark.parametrize(
    ("op", "case", "args", "named"), INVALID, ids=[f"{op.name}: {case}" for op, case, *_ in INVALID]
)
async def test_invalid_input_is_refused_before_any_request(env, op, case, args, named):
    app, client = env
    with pytest.raises(jsonschema.ValidationError):  # the advertised schema refuses it too
        jsonschema.validate(args, await input_schema(client, op.name))
    app.sandbox.clear_log()
    result = await client.call_tool(op.name, args)
    assert result.is_error
    text = result.content[0].text
    assert named in text and "nothing was sent to VTEX" in text, text
    assert app.sandbox.requests == []


async def test_tools_list_covers_every_operation_by_meta(env):
    _app, client = env
    tools = (await client.list_tools()).tools
    metas = {(t.meta["vtex"]["method"], t.meta["vtex"]["path"]) for t in tools if t.meta}
    assert metas == {(op.method, op.path) for op in OPERATIONS}
    for tool in tools:
        assert tool.title and tool.description and tool.annotations is not None
        ann = tool.annotations
        hints = (ann.read_only_hint, ann.destructive_hint, ann.idempotent_hint, ann.open_world_hint)
        assert None not in hints, tool.name  # every hint stated explicitly
        op = next((o for o in OPERATIONS if o.name == tool.name), None)
        if op is not None:
            assert hints == (op.read_only, op.destructive, op.read_only or op.idempotent, True), tool.name
        else:
            assert tool.name == "check_approval" and ann.read_only_hint and not ann.destructive_hint
        assert tool.input_schema.get("additionalProperties") is False
        assert not {"anyOf", "oneOf", "allOf"} & set(tool.input_schema), tool.name
        assert tool.output_schema and tool.output_schema["type"] == "object"


async def test_deprecated_tools_name_their_replacement(env):
    _, client = env
    tools = {t.name: t for t in (await client.list_tools()).tools}
    for name, replacement in (
        ("register_order_changes", "create_order_modification"),
        ("get_feed_v2_status", "get_feed_items"),
    ):
        assert replacement in tools[name].description and tools[name].meta["vtex"]["deprecatedBy"] == replacement


async def test_compact_and_full_views(env):
    _app, client = env
    compact = await call(client, "get_order", {"order_id": SEED})
    full = await call(client, "get_order", {"order_id": SEED, "view": "full"})
    assert compact["order"]["customer"]["name"] == "Rodrigo Cunha"
    assert compact["order"]["statusMeaning"] and compact["order"]["total"].startswith("R$")
    assert full["order"]["clientProfileData"]["firstName"] == "Rodrigo" and "items" in full["order"]


async def test_all_pages_reports_progress_and_merges_rows(env):
    app, client = env
    progress: list[float] = []

    async def on_progress(p, total, message):
        progress.append(p)

    result = await client.call_tool("list_orders", {"per_page": 10, "all_pages": True}, progress_callback=on_progress)
    out = result.structured_content
    ids = [row["orderId"] for row in out["orders"]]
    assert len(ids) == len(set(ids)) == min(len(app.sandbox.store.orders), 300)
    assert progress and max(progress) == out["paging"]["pagesFetched"]


async def test_all_pages_fails_cleanly_when_one_page_fails(tmp_path):
    """Page 2 of 3 refused: the call fails with that page's error, as a single-page read would."""
    import httpx2

    def vtex(request):
        page = int(request.url.params.get("page", "1"))
        if page == 2:
            return httpx2.Response(403, json={"error": {"code": "1", "message": "Access denied"}})
        rows = [{"order_id": f"v{page}{i}x-01", "status": "handling", "totalValue": 1000, "currencyCode": "BRL",
                 "creationDate": "2026-01-01T00:00:00Z"} for i in range(2)]  # fmt: skip
        return httpx2.Response(200, json={"list": rows, "paging": {"total": 6, "pages": 3, "currentPage": page,
                                                                   "perPage": 2}})  # fmt: skip

    settings = Settings.from_env({"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"},
                                 state_dir=tmp_path)  # fmt: skip
    app = build_server(settings, transport=httpx2.MockTransport(vtex))
    async with Client(app.server) as client:
        result = await client.call_tool("list_orders", {"per_page": 2, "all_pages": True})
    assert result.is_error, result.content
    assert result.content[0].text.startswith("failed to list orders: VTEX answered 403"), result.content[0].text


async def test_a_refusal_says_what_to_do_next(env):
    """VTEX's rules refuse the write before anyone is asked; VTEX's own refusal, when it comes
    (the order changed in between), carries the same hint."""
    app, client = env
    invoiced = pick(app, "invoiced")["orderId"]
    result = await client.call_tool("cancel_order", {"order_id": invoiced, "reason": "late"})
    text = result.content[0].text
    assert result.is_error and "invoice_order (type Input)" in text and "nothing was asked or sent" in text, text
    assert app.sandbox.writes() == []
    from vtex_orders_mcp.sandbox import Fault

    app.sandbox.faults.add(Fault(kind="status", status=409, method="POST", path="/start-handling$"))
    ready = pick(app, "ready-for-handling")["orderId"]
    raced = await client.call_tool("start_handling", {"order_id": ready})
    assert raced.is_error and re.search(r"VTEX answered 409", raced.content[0].text), raced.content
    assert "Only ready-for-handling orders can start handling" in raced.content[0].text


async def test_null_is_refused_like_any_value_the_schema_does_not_allow(env):
    """The advertised schemas list no null: a client that fills optional fields with null is told
    to leave them out, at any depth, before any request."""
    app, client = env
    app.sandbox.clear_log()
    for tool, args, field in (
        ("get_order", {"order_id": SEED, "view": None}, "view"),
        ("list_orders", {"q": None, "per_page": None}, "per_page"),
        ("invoice_order", {"order_id": SEED, "type": "Output", "invoice_number": "NF-9", "invoice_value": 100,
                           "issuance_date": "2026-11-23T10:00:00Z",
                           "items": [{"id": "1", "quantity": 1, "price": 100, "description": None}]},
         "items[0].description"),
    ):  # fmt: skip
        result = await client.call_tool(tool, args)
        text = result.content[0].text
        assert result.is_error and f"{field}: must not be null: leave the field out instead" in text, text
    assert app.sandbox.requests == []


async def test_partial_settings_send_only_what_was_given(env):
    """Settings fields carry no defaults: enabling My Orders must not switch the API off."""
    app, client = env
    app.sandbox.clear_log()
    await call(client, "update_order_modification_settings",
               {"rollout_configuration": {"enable_my_orders": {"enabled_workspaces": ["store"]}}})  # fmt: skip
    (write,) = app.sandbox.writes()
    assert write.body == {"rolloutConfiguration": {"enableMyOrders": {"enabledWorkspaces": ["store"]}}}
    now = (await call(client, "get_order_modification_settings", {}))["result"]
    assert now["rolloutConfiguration"]["enableApi"] is True


async def test_a_refusal_of_a_call_about_no_order_does_not_point_at_an_order(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=10))
    async with Client(app.server) as client:
        result = await client.call_tool("test_jsonata_expression", {"expression": "x", "document": "not json"})
    text = result.content[0].text
    assert result.is_error and "fix the arguments" in text and "order" not in text.lower(), text
