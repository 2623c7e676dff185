"""Running the registry's examples (``Operation.example``) through an MCP client, and deriving
invalid inputs from a tool's advertised schema. Per-tool test data lives on the operations; these
helpers only interpret it, so a new operation is tested without editing a table here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mcp import Client

from vtex_orders_mcp.registry import Find, Operation, Ref


async def structured(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, f"{tool}: {result.content[0].text}"
    assert result.structured_content is not None
    return result.structured_content


def follow(value: Any, path: str) -> Any:
    """``path`` in ``value``: dot-separated keys and list indexes, ``*`` for every element of a
    list, ``[key~regex]`` for the first element whose ``key`` matches."""
    if not path:
        return value
    step, _, rest = path.partition(".")
    if step == "*":
        return [follow(item, rest) for item in value]
    picked = re.fullmatch(r"\[(\w+)~(.+)\]", step)
    if picked:
        key, pattern = picked.groups()
        match = next((item for item in value if re.search(pattern, str(item.get(key, "")))), None)
        assert match is not None, f"no element with {key} matching {pattern!r} in {value!r}"[:500]
        return follow(match, rest)
    if isinstance(value, list):
        return follow(value[int(step)], rest)
    return follow(value[step], rest)


async def resolve(value: Any, client: Client, steps: list[dict[str, Any]]) -> Any:
    if isinstance(value, Find):
        args = await resolve(dict(value.args), client, steps)
        return follow(await structured(client, value.tool, args), value.path)
    if isinstance(value, Ref):
        return follow(steps[value.step], value.path)
    if isinstance(value, dict):
        return {k: await resolve(v, client, steps) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [await resolve(v, client, steps) for v in value]
    return value


async def example_arguments(op: Operation, client: Client, sandbox: Any) -> dict[str, Any]:
    """Run the example's ``before`` steps (approved by the client), move the sandbox clock, and
    return the call's arguments with every ``Find`` and ``Ref`` filled in."""
    steps: list[dict[str, Any]] = []
    for call in op.example.before:
        steps.append(await structured(client, call.tool, await resolve(dict(call.args), client, steps)))
    if op.example.wait:
        sandbox.clock.advance(op.example.wait)
    args = await resolve(dict(op.example.args), client, steps)
    assert isinstance(args, dict)
    return args


# --- invalid inputs from the advertised schema ----------------------------------------------------

_WRONG_TYPE = {"string": 12345, "integer": "twelve", "number": "twelve", "boolean": "maybe", "array": "x",
               "object": "x"}  # fmt: skip


def invalid_inputs(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(case, arguments, the field the refusal must name): an unknown field; each required field
    missing; each property of the wrong type, outside its enum or below its minimum."""
    props: dict[str, Any] = schema.get("properties") or {}
    yield "unknown field", {"not_a_field": True}, "not_a_field: unknown field"
    for name in schema.get("required") or []:
        yield f"{name} missing", {}, f"{name}: required"
    for name, prop in props.items():
        kind = prop.get("type")
        if kind in _WRONG_TYPE:
            yield f"{name} of the wrong type", {name: _WRONG_TYPE[kind]}, name
        if "enum" in prop:
            yield f"{name} outside its enum", {name: "no-such-value"}, name
        if isinstance(prop.get("minimum"), int):
            yield f"{name} below its minimum", {name: prop["minimum"] - 1}, name
