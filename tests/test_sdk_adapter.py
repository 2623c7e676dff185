"""The non-public SDK API the server relies on (sdk.py) still has the shape it is used with.

Each test names one use. When an SDK release changes one of them, this file fails with the name
of the thing that moved, before the guard silently loses a protection (for example: if the SDK
stopped unsealing request state through the codec it is given, in the tool's context, replayed
2026-07-28 answers would no longer be noticed).
"""

from __future__ import annotations

import hashlib
import inspect
from importlib.metadata import version
from typing import ClassVar

import pytest
from mcp import Client, types
from mcp.server.mcpserver import Context, Elicit, MCPServer, RequestStateSecurity, Resolve
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from pydantic import BaseModel, model_validator

from vtex_orders_mcp import sdk
from vtex_orders_mcp.models import Args
from vtex_orders_mcp.results import explain_validation


def test_the_pinned_sdk_is_the_one_installed():
    assert version("mcp").startswith("2.3."), "sdk.py was checked against mcp 2.3: re-check it, then the pin"


def test_tool_takes_its_parts_directly():
    fields = sdk.ModelTool.model_fields
    for name in ("fn", "name", "title", "description", "parameters", "fn_metadata", "is_async", "context_kwarg",
                 "resolved_params", "resolver_plans", "annotations", "meta"):  # fmt: skip
        assert name in fields, f"Tool.{name} is gone"
    assert "explain" in fields


def test_func_metadata_validates_with_our_model():
    class Model(Args):
        order_id: str

    meta = FuncMetadata(arg_model=Model, output_schema={"type": "object"})
    assert meta.output_schema == {"type": "object"}
    assert callable(meta.pre_parse_json) and callable(meta.validate_arguments) and callable(meta.call_fn)
    assert Model(order_id="v1-01").model_dump_one_level() == {"order_id": "v1-01"}  # what call_fn passes


def test_resolver_plans_are_built_from_names():
    params = inspect.signature(sdk.build_resolver_plans).parameters
    assert list(params)[:2] == ["resolved_params", "tool_arg_names"]


def test_context_exposes_what_the_guard_reads():
    for name in ("request_state", "input_responses", "client_capabilities", "request_id", "session"):
        assert isinstance(inspect.getattr_static(Context, name), property), f"Context.{name} is not a property"


def test_the_codec_seals_and_notes_what_it_opened():
    codec = sdk.RoundNotingCodec([b"k" * 32])
    sealed = codec.seal(b"payload")
    assert codec.unseal(sealed) == b"payload"
    assert sdk.sealed_state() is not None and len(sdk.sealed_state()) == 64


def test_principal_outside_a_request_is_local():
    assert sdk.principal() == "local"


class Yes(BaseModel):
    ok: bool = True


@pytest.mark.anyio
async def test_the_tool_runs_in_the_context_that_unsealed_the_answer():
    """Under 2026-07-28 the answer comes back with sealed state; the tool body must see which."""
    seen: list[str | None] = []
    opened: list[str] = []

    class Recording(sdk.RoundNotingCodec):
        def unseal(self, token: str) -> bytes:
            opened.append(hashlib.sha256(token.encode()).hexdigest())
            return super().unseal(token)

    codec = Recording([b"s" * 32])

    async def ask(ctx: Context, **kwargs: object) -> Elicit[Yes]:
        return Elicit("sure?", Yes)

    async def body(ctx: Context, approval: object) -> types.CallToolResult:
        if ctx.request_state is not None:  # the round that carries the answer
            seen.append(sdk.sealed_state())
        return types.CallToolResult(content=[], structured_content={})

    tool = sdk.model_tool(
        name="probe", title="Probe", description="probe", args=_NoArgs, parameters={"type": "object"},
        handler=body, annotations=types.ToolAnnotations(), meta=None, output_schema={"type": "object"},
        explain=explain_validation, resolver=sdk.with_parameters(ask, [], "ask_probe"),
    )  # fmt: skip
    server = MCPServer("probe", tools=[tool], request_state_security=RequestStateSecurity(codec=codec))

    async def accept(ctx, params):
        return types.ElicitResult(action="accept", content={"ok": True})

    async with Client(server, elicitation_callback=accept) as client:
        result = await client.call_tool("probe", {})
    assert not result.is_error, result.content
    assert seen and opened, "the answer did not come back with sealed request state (is 2026-07-28 negotiated?)"
    assert seen == [opened[-1]], "the sealed state the answer came back with was not noted in the tool's context"


class _NoArgs(Args):
    pass


def test_resolve_is_public():
    assert Resolve is sdk.Resolve


class _Counted(Args):
    """Counts how often it validates (a real model, a class attribute as the counter)."""

    calls: ClassVar[list[int]] = []
    n: int = 1

    @model_validator(mode="before")
    @classmethod
    def _count(cls, data: object) -> object:
        cls.calls.append(1)
        return data


@pytest.mark.anyio
async def test_a_call_validates_its_arguments_once():
    """ModelTool.run validates (to refuse with guidance) and hands the SDK that validation: the
    SDK's own step does not validate the same arguments again; a refusal stops before it."""
    got: list[int] = []

    async def body(ctx: Context, n: int) -> types.CallToolResult:
        got.append(n)
        return types.CallToolResult(content=[], structured_content={})

    tool = sdk.model_tool(
        name="counted", title="Counted", description="counted", args=_Counted,
        parameters=_Counted.model_json_schema(), handler=body, annotations=types.ToolAnnotations(), meta=None,
        output_schema={"type": "object"}, explain=explain_validation,
    )  # fmt: skip
    async with Client(MCPServer("counted", tools=[tool])) as client:
        _Counted.calls.clear()
        result = await client.call_tool("counted", {"n": 7})
        assert not result.is_error and got == [7]
        assert len(_Counted.calls) == 1
        _Counted.calls.clear()
        refused = await client.call_tool("counted", {"n": "seven"})
        assert refused.is_error and got == [7] and len(_Counted.calls) == 1
    # Anything else the SDK validates (no ModelTool.run before it) is still validated.
    assert tool.fn_metadata.validate_arguments({"n": 3}) == {"n": 3}
