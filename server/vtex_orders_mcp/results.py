"""Tool results as the model reads them: a structured result with the same data as compact JSON
text, or an error that says what failed and what to do next."""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

from .errors import VtexConflict, VtexError, VtexNotFound
from .registry import Operation

__all__ = ["error", "explain_validation", "ok", "text", "vtex_error"]


def text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def ok(structured: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=text(structured))], structured_content=structured)


def error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def explain_validation(tool: str, exc: ValidationError, model: type[BaseModel]) -> CallToolResult:
    """A refusal of a call's arguments, field by field: what is wrong and what is allowed."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(model.model_fields) if len(err["loc"]) == 1 else "see the schema"
            problems.append(f"{loc}: unknown field (allowed: {allowed})")
        elif err["type"] == "literal_error":
            problems.append(f"{loc}: must be one of {err['ctx']['expected']} (got {err['input']!r})")
        elif err["type"] == "missing":
            problems.append(f"{loc}: required")
        else:
            got = f" (got {err['input']!r})" if not isinstance(err.get("input"), dict | list) else ""
            problems.append(f"{loc}: {err['msg']}{got}")
    return error(f"Invalid arguments for {tool}; nothing was sent to VTEX. " + "; ".join(problems))


def vtex_error(op: Operation, exc: VtexError) -> CallToolResult:
    """A failed VTEX call as the model reads it: what failed, VTEX's message, what to do next."""
    message = str(exc)
    if isinstance(exc, VtexConflict) and op.hint:
        message = f"{exc.message} {op.hint}"
    elif isinstance(exc, VtexNotFound) and "{" not in op.path:
        # No id in the path: a 404 here means there is nothing configured yet (feed, hook).
        message = f"{exc.message} Nothing is configured yet."
    return error(message)
