"""The README's tool table, generated from the registry (tests/test_docs.py keeps it in sync).

``python -m vtex_orders_mcp.docs README.md`` rewrites the table between the markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .registry import CARD_TOOL, CHECK_TOOL, CONFIRM_TOOL, REGISTRY, TOOLSETS, Registry

__all__ = ["tool_table", "update_readme"]

START, END = "<!-- tools:start -->", "<!-- tools:end -->"
_KIND = {"read": "read", "write": "write (guarded)", "destructive": "**destructive** (guarded)"}


def tool_table(registry: Registry = REGISTRY) -> str:
    rows = ["| tool | VTEX operation | kind | toolset | what it is for |", "|---|---|---|---|---|"]
    for op in registry:
        rows.append(f"| `{op.name}` | `{op.method} {op.path}` | {_KIND[op.kind]} | {op.group} | {op.description} |")
    rows += [
        f"| `{CHECK_TOOL}` | (the guard's own) | read | (with any write) | Where a write waiting for the user's "
        "approval stands, and VTEX's answer once it ran. |",
        f"| `{CARD_TOOL}` | (the guard's own) | **destructive**, app-only | (with any write) | The approval card's "
        "buttons; listed only to MCP Apps hosts, never offered to the model. |",
        f"| `{CONFIRM_TOOL}` | (the guard's own) | **destructive** | (with any write, `--guard token` only) | Second "
        "step of the two-step token the operator may choose for clients without elicitation. |",
    ]
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
