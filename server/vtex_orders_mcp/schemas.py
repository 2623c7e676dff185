"""JSON Schemas as advertised, and the checked-in snapshots in ``tool_schemas/``.

pydantic puts a ``title`` on every property; the field name already says it, so they are
dropped (they cost tokens in every tools/list). What is advertised is what the server enforces:
arguments.py checks every call against exactly these schemas. ``snapshot`` is the exact content of
``tool_schemas/<tool>.json``; ``vtex-orders-mcp schemas --write`` rewrites the folder and
tests/test_schemas.py fails when a file drifts from what the server advertises.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

__all__ = ["SCHEMA_DIALECT", "advertised_schema", "clean_schema", "snapshot", "write_snapshots"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


# Keywords pydantic writes that say nothing to a JSON Schema validator: titles (the field name
# says it) and OpenAPI's ``discriminator`` (the ``const`` of each ``oneOf`` branch already tells
# them apart); ``type`` beside an ``enum`` or ``const`` and a boolean's ``"default": false``
# (below: what leaving a flag out means to any reader). The schema is the contract
# (arguments.py), so nothing that changes what validates is ever dropped.
_DROPPED = ("title", "discriminator")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _ref_uses(node: Any, uses: dict[str, int]) -> dict[str, int]:
    """How often each ``$defs`` entry is referenced."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            uses[_ref_name(ref)] = uses.get(_ref_name(ref), 0) + 1
        for v in node.values():
            _ref_uses(v, uses)
    elif isinstance(node, list):
        for v in node:
            _ref_uses(v, uses)
    return uses


def _without_null(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf [X, null]`` as X: null means "not given" for every field (models.Args)."""
    options = node.get("anyOf")
    if not (isinstance(options, list) and len(options) == 2 and {"type": "null"} in options):
        return node
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    merged = {**next(o for o in options if o != {"type": "null"}), **rest}
    if "default" in merged and merged["default"] is None:
        del merged["default"]
    return merged


class _Cleaner:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self.uses = _ref_uses(schema, {})

    def walk(self, node: Any, key: str = "") -> Any:
        if isinstance(node, list):
            return [self.walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        if key == "properties":  # keys here are field names, not keywords
            return {name: self.walk(v) for name, v in node.items()}
        node = _without_null(node)
        ref = node.get("$ref")
        if isinstance(ref, str) and self.uses.get(_ref_name(ref)) == 1:
            node = {**self.defs[_ref_name(ref)], **{k: v for k, v in node.items() if k != "$ref"}}
        out = {}
        # An enum or const already fixes the type: the "type" beside it says nothing more to a
        # validator and costs tokens in every tools/list. Defaults are annotations, never checked.
        fixed = "enum" in node or "const" in node
        for k, v in node.items():
            if (fixed and k == "type") or (k == "default" and v is False and node.get("type") == "boolean"):
                continue
            if k == "$defs":
                kept = {n: self.walk(d) for n, d in v.items() if self.uses.get(n, 0) > 1}
                if kept:
                    out[k] = kept
            elif self._kept(k, v):
                out[k] = self.walk(v, k)
        return out

    @staticmethod
    def _kept(key: str, value: Any) -> bool:
        return not (key in _DROPPED and isinstance(value, str | dict))


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The advertised form of a pydantic schema: no titles, optional fields without the
    ``anyOf [X, null]`` wrapper (null is refused like any value of the wrong type),
    single-use ``$defs`` inlined."""
    cleaned: dict[str, Any] = _Cleaner(schema).walk(schema)
    return cleaned


@cache
def advertised_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The input schema a tool with this argument model advertises (computed once per model)."""
    return clean_schema(model.model_json_schema(by_alias=True))


def snapshot(tool: Any) -> dict[str, Any]:
    """One tool as listed (wire names), with the dialect the schemas follow."""
    wire = tool.model_dump(by_alias=True, mode="json", exclude_none=True)
    return {
        "$schema": SCHEMA_DIALECT,
        "name": wire["name"],
        "title": wire.get("title"),
        "annotations": wire.get("annotations"),
        "_meta": wire.get("_meta"),
        "inputSchema": wire["inputSchema"],
        "outputSchema": wire.get("outputSchema"),
    }


def render(tool: Any) -> str:
    return json.dumps(snapshot(tool), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_snapshots(tools: list[Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    names = set()
    for tool in tools:
        path = folder / f"{tool.name}.json"
        path.write_text(render(tool))
        written.append(path)
        names.add(path.name)
    for stale in folder.glob("*.json"):
        if stale.name not in names:
            stale.unlink()
    return written
