"""JSON Schemas as advertised, and the checked-in snapshots in ``tool_schemas/``.

pydantic puts a ``title`` on every property; the field name already says it, so they are
dropped (they cost tokens in every tools/list). ``snapshot`` is the exact content of
``tool_schemas/<tool>.json``; ``vtex-orders-mcp schemas --write`` rewrites the folder and
tests/test_schemas.py fails when a file drifts from what the server advertises.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["clean_schema", "snapshot", "write_snapshots", "SCHEMA_DIALECT"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    def walk(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "title" and not in_properties and isinstance(value, str):
                    continue
                out[key] = walk(value, in_properties=key in ("properties", "$defs"))
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


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
