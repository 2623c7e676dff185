"""What a tool advertises is exactly what it enforces.

Every call's arguments are checked against the tool's advertised input schema (as a client sees
it in tools/list) before the input model parses them. A property test draws arguments from each
schema, valid and almost valid, and compares the server's verdict with the schema's, read as JSON
Schema means it (Draft 2020-12, ECMA-262 patterns); the cases the issue reported are pinned
through an MCP client, each with nothing sent to VTEX.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import regress
from hypothesis import HealthCheck, given, settings
from mcp import Client
from schema_strategies import near

from vtex_orders_mcp.arguments import MAX_ERROR, Contract, formats, parse_date_time
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.server import build_server
from vtex_orders_mcp.tools import build_tools

SEED = "v502556llux-01"
SCHEMAS = {
    p.stem: json.loads(p.read_text())["inputSchema"]
    for p in sorted((Path(__file__).parents[1] / "tool_schemas").glob("*.json"))
}


def _ecma_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and regress.Regex(pattern).find(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# JSON Schema as the spec reads it: Draft 2020-12, patterns in ECMA-262 (regress), RFC 3339.
Spec = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    app = build_server(Settings.from_env({}, state_dir=tmp_path_factory.mktemp("state"), sandbox_orders=10))
    return {t.name: t for t in build_tools(app.runtime)}


def test_the_snapshots_are_the_schemas_the_tools_check(tools):
    assert set(SCHEMAS) == set(tools)
    for name, tool in tools.items():
        assert tool.parameters == SCHEMAS[name], name


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_server_accepts_exactly_what_the_schema_accepts(tools, name):
    schema = SCHEMAS[name]
    spec = Spec(schema, format_checker=formats())
    tool = tools[name]

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(arguments=near(schema))
    def agree(arguments):
        refused = tool.refusal(arguments)
        assert (refused is None) == spec.is_valid(arguments), (arguments, refused and refused.content[0].text)
        if refused is not None:
            assert len(refused.content[0].text) <= MAX_ERROR

    agree()


def test_patterns_use_explicit_ascii_classes():
    """\\d, \\w and \\s mean ASCII in ECMA-262 and Unicode in Python's re and pydantic's regex:
    written as explicit classes, every validator reads a pattern alike."""
    for name, schema in SCHEMAS.items():
        for pattern in re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', json.dumps(schema)):
            assert not re.search(r"\\\\[dwsDWS]", pattern), (name, pattern)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-11-23T10:00:00-03:00", True),
        ("2026-11-23t10:00:00.123456z", True),
        ("2016-12-31T23:59:60Z", True),  # a real leap second
        ("2016-12-31T20:59:60-03:00", True),  # the same instant at -03:00
        ("2016-12-31T22:59:60Z", False),  # second 60 elsewhere
        ("2026-11-23T10:00:00", False),  # naive
        ("2026-02-30T10:00:00Z", False),
        ("2026-11-23T10:00:00+24:00", False),
        ("20261123T100000Z", False),  # ISO 8601 basic is not RFC 3339
    ],
)
def test_date_times_are_rfc_3339_with_a_zone(text, ok):
    if ok:
        parsed = parse_date_time(text)
        assert parsed.tzinfo is not None
    else:
        with pytest.raises(ValueError):
            parse_date_time(text)


def test_a_leap_second_keeps_its_place_in_a_range():
    leap = parse_date_time("2016-12-31T23:59:60Z")
    assert parse_date_time("2016-12-31T23:59:59.5Z") < leap < parse_date_time("2017-01-01T00:00:00Z")


# --- the reported cases, through an MCP client -----------------------------------------------


@pytest.fixture
async def env(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=10))
    async with Client(app.server) as client:
        yield app, client


pytestmark = pytest.mark.anyio

REFUSED = [
    ("get_order", {"order_id": "v502556llux-\u0660\u0661"}, "order_id"),  # Arabic-Indic digits
    ("get_order", {"order_id": "\uff56502556llux-01"}, "order_id"),  # fullwidth v
    ("get_order", {"order_id": SEED + "\n"}, "order_id"),  # $ is the end, not before a newline
    ("list_orders", {"per_page": True}, "per_page"),
    ("list_orders", {"per_page": "2"}, "per_page"),
    ("list_orders", {"created_from": "2020-01-01T00:00:00"}, "created_from"),
    ("list_orders", {"created_from": "2020-01-01 10:00:00Z"}, "created_from"),  # RFC 3339 date-time needs T
    ("get_order", {"order_id": SEED, "extra": None}, "extra"),
    ("get_order", {"order_id": SEED, "view": None}, "view"),
]


@pytest.mark.parametrize(("tool", "arguments", "field"), REFUSED, ids=[f"{t} {a}" for t, a, _ in REFUSED])
async def test_what_the_schema_refuses_is_refused_and_nothing_is_sent(env, tool, arguments, field):
    app, client = env
    app.sandbox.clear_log()
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text
    assert result.is_error and text.startswith(f"Invalid arguments for {tool}; nothing was sent to VTEX."), text
    assert f"{field}:" in text, text
    assert app.sandbox.requests == []


async def test_a_leap_second_is_a_valid_bound(env):
    app, client = env
    result = await client.call_tool(
        "list_orders", {"created_from": "2016-12-31T23:59:60Z", "created_to": "2030-06-30T23:59:60Z"}
    )
    assert not result.is_error, result.content[0].text
    assert result.structured_content["orders"]
    (request,) = app.sandbox.requests
    assert "2016-12-31T23:59:59.999Z" in str(request.query) and "2030-06-30T23:59:59.999Z" in str(request.query)


async def test_errors_quote_a_short_excerpt_of_a_huge_value(env):
    app, client = env
    result = await client.call_tool("list_orders", {"q": "A" * 200_000 + "+"})
    text = result.content[0].text
    assert result.is_error and len(text) <= MAX_ERROR, len(text)
    assert "q: must match" in text and "200,001 characters" in text
    assert "A" * 81 not in text
    assert app.sandbox.requests == []


async def test_arguments_above_the_size_limit_are_refused_whole(env):
    app, client = env
    result = await client.call_tool(
        "test_jsonata_expression", {"expression": "x", "document": "[" + "1," * 200_000 + "1]"}
    )
    text = result.content[0].text
    assert result.is_error and "at most 262,144 per call" in text and len(text) <= MAX_ERROR, text
    assert app.sandbox.requests == []


def test_many_problems_are_counted_not_listed():
    contract = Contract(SCHEMAS["invoice_order"])
    problems = contract.problems({"order_id": 1, "type": 2, "invoice_number": 3, "invoice_value": "x", "items": 5})
    assert len(problems) >= 5


@pytest.mark.parametrize(
    ("bound", "value"),
    [("created_from", "9999-12-31T23:59:59-01:00"), ("created_to", "0001-01-01T00:30:00+01:00")],
)
async def test_date_times_at_the_calendar_edges_are_answered_not_crashed(env, bound, value):
    """Valid RFC 3339 whose UTC instant no datetime holds: past every order, so no rows."""
    _app, client = env
    result = await client.call_tool("list_orders", {bound: value})
    assert not result.is_error, result.content[0].text
    assert result.structured_content["orders"] == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("list_orders", {"q": "x" * 100_000}), ("list_user_orders", {"client_email": "a@b.c" + "x" * 70_000})],
)
async def test_a_query_longer_than_a_url_may_be_is_refused_before_sending(env, tool, arguments):
    app, client = env
    app.sandbox.clear_log()
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text
    assert result.is_error and "longer than a URL may be" in text and "Nothing was sent" in text, text
    assert len(text) <= MAX_ERROR and "xxxxxxxxxx" not in text
    assert app.sandbox.requests == []
