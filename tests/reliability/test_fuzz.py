"""Property-based tests: arguments generated from every advertised tool input schema.

One app (guard on, no elicitation, so writes take the two-step token channel) serves all examples
through a single in-memory MCP session, kept on a blocking portal so hypothesis's synchronous
`@given` tests can drive it cheaply.

* **valid** arguments (hypothesis-jsonschema draws them from the advertised schema; the schema
  validates every example it draws): the call never crashes; the result is
  data, an `approval_required` confirmation, or a clear error (VTEX's 404 for a random id, ...);
  and no write ever reaches the sandbox, since nothing was approved.
* **invalid** arguments (a valid example with one field made wrong: dropped when required, given a
  value the schema refuses, or an unknown field added; the schema itself confirms the mutation is
  invalid): an `isError` result that names the field, and no upstream request at all.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import anyio.from_thread
import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mcp import Client
from schema_strategies import valid as from_schema

from vtex_orders_mcp.arguments import formats
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import OPERATIONS
from vtex_orders_mcp.server import build_server

EXAMPLES = 12
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
# Routes of write operations (some reads are POSTs too: previews, JSONata tests).
WRITE_ROUTES = {f"{op.method} {op.path}" for op in OPERATIONS if not op.read_only}
CLEAR_ERROR_PREFIXES = ("failed to ", "Invalid arguments for ", "Not executed", "Outcome unknown")
# Values no field of these schemas accepts as they are (filtered per field through the schema).
WRONG_VALUES = st.sampled_from([None, {"__bogus__": [1]}, [[]], 1.5, -1, "", "\u0000zz not valid"])


class Session:
    """The app, its sandbox and an MCP client session living on a portal's event loop."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.app = build_server(Settings.from_env({}, state_dir=Path(self._tmp.name), sandbox_orders=40))
        self.sandbox = self.app.sandbox
        self._portal_cm = anyio.from_thread.start_blocking_portal("asyncio")
        self.portal = self._portal_cm.__enter__()
        self._client_cm = self.portal.wrap_async_context_manager(Client(self.app.server))
        self.client = self._client_cm.__enter__()
        self.tools = {t.name: t for t in self.portal.call(self.client.list_tools).tools}

    def call(self, name: str, args: dict):
        return self.portal.call(self.client.call_tool, name, args)

    def close(self) -> None:
        self._client_cm.__exit__(None, None, None)
        self.portal.call(self.app.aclose)
        self._portal_cm.__exit__(None, None, None)
        self._tmp.cleanup()


@pytest.fixture(scope="module")
def session():
    s = Session()
    yield s
    s.close()


def _tool_names() -> list[str]:
    """Every tool a model can be offered (app-only tools are listed to MCP Apps hosts only)."""
    snapshots = (Path(__file__).parents[2] / "tool_schemas").glob("*.json")
    return sorted(
        p.stem
        for p in snapshots
        if "app" not in (json.loads(p.read_text()).get("_meta") or {}).get("ui", {}).get("visibility", [])
    )


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def test_every_advertised_tool_is_fuzzed(session):
    assert set(session.tools) == set(_tool_names())
    # The write-route check below must be able to match the sandbox's route templates.
    sandbox_routes = {f"{m} {r.path}" for r in session.sandbox.routes for m in r.methods}
    assert sandbox_routes >= WRITE_ROUTES, WRITE_ROUTES - sandbox_routes


@pytest.mark.parametrize("name", _tool_names())
def test_valid_arguments_never_crash(session, name):
    schema = session.tools[name].input_schema
    validator = jsonschema.Draft202012Validator(schema, format_checker=formats())

    @FUZZ_SETTINGS
    @given(args=from_schema(schema))
    def run(args):
        validator.validate(args)
        result = session.call(name, args)
        text = _text(result)
        if result.is_error:
            assert text.startswith(CLEAR_ERROR_PREFIXES), text
            assert "Traceback" not in text
        elif session.tools[name].annotations is None or not session.tools[name].annotations.read_only_hint:
            assert result.structured_content["status"] == "approval_required", text
        writes = [r.route for r in session.sandbox.requests if r.route in WRITE_ROUTES]
        assert writes == [], "a write reached VTEX without approval"

    run()


@st.composite
def _invalid(draw, schema: dict):
    args = draw(from_schema(schema))
    props = schema.get("properties", {})
    required = list(schema.get("required", []))
    choices = ["unknown"] + (["missing"] if required else []) + (["wrong"] if props else [])
    how = draw(st.sampled_from(choices))
    bad = copy.deepcopy(args)
    if how == "unknown":
        field = draw(st.sampled_from(["bogusField", "order_id", "approval", "dryRun"]).filter(lambda f: f not in props))
        bad[field] = draw(st.sampled_from([True, "x", 1]))
    elif how == "missing":
        field = draw(st.sampled_from(required))
        bad.pop(field, None)
    else:
        field = draw(st.sampled_from(sorted(props)))
        bad[field] = draw(WRONG_VALUES)
    return how, field, bad


@pytest.mark.parametrize("name", _tool_names())
def test_invalid_arguments_name_the_field_and_send_nothing(session, name):
    schema = session.tools[name].input_schema
    validator = jsonschema.Draft202012Validator(schema, format_checker=formats())

    @FUZZ_SETTINGS
    @given(case=_invalid(schema))
    def run(case):
        how, field, bad = case
        assume(not validator.is_valid(bad))
        before = len(session.sandbox.requests)
        result = session.call(name, bad)
        text = _text(result)
        assert result.is_error, f"{how} {field}: accepted {bad!r}: {text}"
        assert field in text, f"{how} {field}: error does not name the field: {text}"
        if how == "missing":
            assert f"{field}: required" in text
        if how == "unknown":
            assert f"{field}: unknown field" in text
        assert len(session.sandbox.requests) == before, "an invalid call reached VTEX"

    run()
