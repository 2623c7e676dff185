"""The README's tool table, generated from the registry (tests/test_docs.py keeps it in sync).

``python -m vtex_orders_mcp.docs README.md`` rewrites the table between the markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .registry import CONFIRM_TOOL, REGISTRY, TOOLSETS, Registry

__all__ = ["tool_table", "update_readme"]

START, END = "<!-- tools:start -->", "<!-- tools:end -->"
_KIND = {"read": "read", "write": "write (guarded)", "destructive": "**destructive** (guarded)"}


def tool_table(registry: Registry = REGISTRY) -> str:
    rows = ["| tool | VTEX operation | kind | toolset | what it is for |", "|---|---|---|---|---|"]
    for op in registry:
        rows.append(f"| `{op.name}` | `{op.method} {op.path}` | {_KIND[op.kind]} | {op.group} | {op.description} |")
    rows.append(
        f"| `{CONFIRM_TOOL}` | (runs the approved write) | **destructive** | (with any write) | Second step of "
        "the two-step approval, for clients without elicitation. |"
    )
    rows += ["", "Toolsets, chosen with `VTEX_MCP_TOOLSETS` or `--toolsets` (all by default):", ""]
    rows += [f"- `{name}`: {what}." for name, what in TOOLSETS.items()]
    return "\n".join(rows)


def update_readme(text: str, registry: Registry = REGISTRY) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{tool_table(registry)}\n{END}{tail}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(update_readme(path.read_text()))
