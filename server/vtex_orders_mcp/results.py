"""Tool results as the model reads them: a structured result with the same data as compact JSON
text, or an error that says what failed and what to do next."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

from .arguments import MAX_ERROR, contract, excerpt, refusal_text
from .errors import VtexConflict, VtexError, VtexNotFound
from .registry import Operation

__all__ = ["contract_check", "error", "explain_validation", "ok", "sentence", "text", "vtex_error"]


def text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def sentence(words: str) -> str:
    """``words`` ended as a sentence: a period unless it already ends with one (a summary can end
    with the model's own reason, "customer asked."), so joined texts never read "asked.."."""
    words = words.rstrip()
    return words if words.endswith((".", "!", "?", "…")) else words + "."


def ok(structured: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=text(structured))], structured_content=structured)


def error(message: str) -> CallToolResult:
    """A tool error. Every error is short (``MAX_ERROR`` characters): what failed, why, what next;
    whatever it quotes (arguments, VTEX's words) is an excerpt."""
    if len(message) > MAX_ERROR:
        message = message[: MAX_ERROR - 1] + "…"
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def contract_check(model: type[BaseModel]) -> Callable[[str, dict[str, Any]], CallToolResult | None]:
    """The refusal of arguments that break the advertised input schema of ``model``, or None."""
    checked = contract(model)

    def check(tool: str, arguments: dict[str, Any]) -> CallToolResult | None:
        problems = checked.problems(arguments)
        return error(refusal_text(tool, problems)) if problems else None

    return check


def explain_validation(tool: str, exc: ValidationError, model: type[BaseModel]) -> CallToolResult:
    """A refusal by the input model of arguments the schema accepted: each field and what is
    wrong, bounded like every argument error (the schema check usually answers first)."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        if err["type"] == "missing":
            problems.append(f"{loc}: required")
        else:
            got = f" (got {excerpt(err.get('input'))})" if not isinstance(err.get("input"), dict | list) else ""
            problems.append(f"{loc}: {err['msg']}{got}")
    return error(refusal_text(tool, problems))


def _names_an_order(op: Operation) -> bool:
    return op.order_arg is not None or any(f in op.args.model_fields for f in ("order_id", "order_group"))


def vtex_error(op: Operation, exc: VtexError) -> CallToolResult:
    """A failed VTEX call as the model reads it: what failed, VTEX's message, what to do next."""
    message = str(exc)
    if isinstance(exc, VtexConflict) and op.hint:
        message = f"{exc.message} {op.hint}"
    elif isinstance(exc, VtexConflict) and not _names_an_order(op):
        # The generic hint points at "the order's status"; a JSONata test or a feed setting has none.
        message = f"{exc.message} VTEX refused it as sent: read its message and fix the arguments."
    elif isinstance(exc, VtexNotFound) and "{" not in op.path:
        # No id in the path: a 404 here means there is nothing configured yet (feed, hook).
        message = f"{exc.message} Nothing is configured yet."
    return error(message)
