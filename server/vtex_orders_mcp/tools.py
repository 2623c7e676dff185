"""MCP tools built from the registry: no per-operation code lives here.

For each ``Operation`` this module makes one SDK ``Tool`` whose input schema is the operation's
pydantic model (unknown fields refused), whose annotations and ``_meta.vtex`` come from the
entry, and whose handler is one of two closures: a read (fetch, then project with ``views``) or
a guarded write (the guard's resolver fills a hidden ``approval`` parameter; see guard.py).
``confirm_write`` is the two-step channel's second step.

Results are ``CallToolResult``s carrying ``structuredContent`` (matching the advertised
``outputSchema``) and the same data as compact JSON text. Failures are ``isError`` results that
say what failed, VTEX's message, and what to do next.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.resolve import AcceptedElicitation, build_resolver_plans
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ValidationError

from . import views
from .audit import AuditLog, redact
from .client import VtexClient
from .config import Settings
from .errors import VtexConflict, VtexError, VtexHTTPError, VtexNotFound, VtexOutcomeUnknown
from .guard import Approval, Bypass, Guard, NeedsToken, Refused, Review, TokenError, principal_of
from .models import Args, ConfirmWrite, GetOrder, as_given
from .registry import BY_NAME, Operation, offered
from .schemas import clean_schema

__all__ = ["Runtime", "build_tools", "CONFIRM_TOOL", "render", "fetch", "explain_validation"]

log = logging.getLogger("vtex_orders_mcp.tools")

CONFIRM_TOOL = "confirm_write"
MAX_PAGES = 30  # VTEX serves at most 30 pages of list results

_OBJ: dict[str, Any] = {"type": "object"}
_ARR: dict[str, Any] = {"type": "array", "items": _OBJ}


def _out(**props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props)}


OUTPUT_SCHEMAS: dict[str, dict[str, Any]] = {
    "order": _out(order=_OBJ),
    "order_group": _out(orders=_ARR),
    "orders": _out(orders=_ARR, paging=_OBJ),
    "conversation": _out(messages=_ARR),
    "payment": _out(transaction=_OBJ),
    "raw": _out(result={}),
}
# Writes answer {status, summary} plus `result` (VTEX's receipt) when done, or `confirmation` and
# `expiresIn` when approval is pending; only the discriminating field is spelled out.
WRITE_OUTPUT = {
    "type": "object",
    "properties": {"status": {"enum": ["done", "approval_required", "declined", "canceled"]}},
    "required": ["status"],
}

# What to do next when VTEX refuses a write because of the order's state (the model's next step).
CONFLICT_HINTS = {
    "cancel_order": "Invoiced or partially invoiced orders cannot be canceled: register a return with "
    "invoice_order (type Input) instead.",
    "start_handling": "Only ready-for-handling orders can start handling: read the order's status.",
    "create_order_modification": "Orders can only be modified in handling, waiting-for-fulfillment or "
    "ready-for-invoicing, before the payment is settled.",
}


@dataclass
class Runtime:
    """What tool handlers need: the client, the guard and the audit log."""

    settings: Settings
    client: VtexClient
    guard: Guard
    audit: AuditLog

    def principal(self, ctx: Context) -> str:
        return principal_of(ctx)


class VtexTool(Tool):
    """A Tool whose argument errors read as guidance: the field, the problem, the allowed values."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        try:
            self.fn_metadata.arg_model.model_validate(self.fn_metadata.pre_parse_json(arguments))
        except ValidationError as exc:
            return error(explain_validation(self.name, exc, self.fn_metadata.arg_model))
        return await super().run(arguments, context, convert_result=convert_result)


def explain_validation(tool: str, exc: ValidationError, model: type[Args]) -> str:
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
    return f"Invalid arguments for {tool}; nothing was sent to VTEX. " + "; ".join(problems)


def _text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def ok(structured: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=_text(structured))], structured_content=structured)


def error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def _vtex_error(op: Operation, exc: VtexError) -> CallToolResult:
    text = str(exc)
    if isinstance(exc, VtexConflict) and op.name in CONFLICT_HINTS:
        text = f"{exc.message} {CONFLICT_HINTS[op.name]}"
    elif isinstance(exc, VtexNotFound) and "{" not in op.path:
        # No id in the path: a 404 here means there is nothing configured yet (feed, hook).
        text = f"{exc.message} Nothing is configured yet."
    return error(text)


# --- reads --------------------------------------------------------------------------------------


async def fetch(rt: Runtime, op: Operation, args: Args, ctx: Context | None = None) -> Any:
    if op.name == "list_orders" and getattr(args, "all_pages", False):
        return await _all_pages(rt, op, args, ctx)
    return await rt.client.call(op, args)


async def _all_pages(rt: Runtime, op: Operation, args: Any, ctx: Context | None) -> dict[str, Any]:
    """Page 1 tells how many pages there are; the rest are fetched concurrently, as many at once
    as the client allows (``VTEX_MAX_CONCURRENCY``), reporting progress as pages arrive."""
    first = await rt.client.call(op, args.model_copy(update={"page": 1}))
    pages = min(int((first.get("paging") or {}).get("pages") or 1), MAX_PAGES)
    results: dict[int, dict[str, Any]] = {1: first}
    done = 1

    async def get(page: int) -> None:
        nonlocal done
        results[page] = await rt.client.call(op, args.model_copy(update={"page": page}))
        done += 1
        if ctx is not None:
            await ctx.report_progress(done, pages, f"fetched page {done}/{pages}")

    if ctx is not None:
        await ctx.report_progress(1, pages, f"fetched page 1/{pages}")
    try:
        async with anyio.create_task_group() as tg:
            for page in range(2, pages + 1):
                tg.start_soon(get, page)
    except BaseExceptionGroup as group:
        # One failed page fails the call with that page's error (the others are cancelled), told
        # the way any failed read is, instead of escaping as an ExceptionGroup.
        failed = group.subgroup(VtexError)
        if failed is None:
            raise
        while isinstance(failed, BaseExceptionGroup):
            failed = failed.exceptions[0]
        raise failed from None
    rows = [row for p in sorted(results) for row in results[p].get("list") or []]
    paging = dict(first.get("paging") or {})
    paging.update(currentPage=None, pagesFetched=pages)
    return {**first, "list": rows, "paging": paging}


def render(op: Operation, args: Args, data: Any) -> dict[str, Any]:
    full = getattr(args, "view", "compact") == "full"
    if op.view == "order":
        return {"order": data if full else views.compact_order(data or {})}
    if op.view == "order_group":
        return {"orders": data if full else [views.compact_order(o) for o in data or []]}
    if op.view == "orders":
        data = data or {}
        paging = views.prune(data.get("paging") or {})
        return {"orders": [views.compact_order_row(r) for r in data.get("list") or []], "paging": paging}
    if op.view == "conversation":
        return {"messages": views.compact_conversation(data)}
    if op.view == "payment":
        return {"transaction": views.compact_payment(data)}
    return {"result": data}


def _read_handler(rt: Runtime, op: Operation) -> Callable[..., Awaitable[CallToolResult]]:
    secrets = rt.settings.secret_values()

    async def handler(ctx: Context, **kwargs: Any) -> CallToolResult:
        args = op.args.model_construct(**kwargs)
        try:
            data = await fetch(rt, op, args, ctx)
        except VtexError as exc:
            return _vtex_error(op, exc)
        # Configuration documents can carry credentials (hook headers, the app key VTEX echoes):
        # the model needs neither.
        return ok(render(op, args, redact(data, secrets) if op.view == "raw" else data))

    return handler


# --- writes -------------------------------------------------------------------------------------


async def execute(
    rt: Runtime, op: Operation, args: Args, *, call_id: str, channel: str, principal: str, summary: str
) -> CallToolResult:
    """Send an approved write exactly once, auditing before and after."""
    arguments = args.model_dump(mode="json", by_alias=True)
    rt.audit.record(call_id=call_id, tool=op.name, event="executing", channel=channel, principal=principal,
                    arguments=arguments, summary=summary)  # fmt: skip
    try:
        result = await rt.client.call(op, args)
    except VtexOutcomeUnknown as exc:
        state = await _current_state(rt, op, args)
        rt.audit.record(call_id=call_id, tool=op.name, event="outcome_unknown", channel=channel,
                        principal=principal, detail=exc.message)  # fmt: skip
        return error(
            f"Outcome unknown: {exc.message} Nothing was resubmitted. {state} "
            "Check whether the change is there before trying again."
        )
    except VtexError as exc:
        status = exc.status if isinstance(exc, VtexHTTPError) else None
        rt.audit.record(call_id=call_id, tool=op.name, event="failed", channel=channel, principal=principal,
                        upstream_status=status, detail=exc.message)  # fmt: skip
        return _vtex_error(op, exc)
    result = redact(result, rt.settings.secret_values())
    receipt = result.get("receipt") if isinstance(result, dict) else None
    rt.audit.record(call_id=call_id, tool=op.name, event="executed", channel=channel, principal=principal,
                    upstream_status=200, receipt=str(receipt) if receipt else None)  # fmt: skip
    return ok({"status": "done", "summary": summary, "result": result})


async def _current_state(rt: Runtime, op: Operation, args: Args) -> str:
    if not op.order_arg:
        return ""
    order_id = getattr(args, op.order_arg)
    try:
        order = await rt.client.call(BY_NAME["get_order"], GetOrder(orderId=order_id))
    except VtexError as exc:
        return f"Re-reading order {order_id} failed too ({exc.message})."
    return f"Order {order_id} is now '{order.get('status')}' (last change {order.get('lastChange')})."


def _write_handler(rt: Runtime, op: Operation) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(ctx: Context, approval: Any, **kwargs: Any) -> CallToolResult:
        args = op.args.model_construct(**kwargs)
        principal = rt.principal(ctx)
        call_id = uuid.uuid4().hex
        arguments = args.model_dump(mode="json", by_alias=True)
        outcome = approval.data if isinstance(approval, AcceptedElicitation) else None
        record = dict(call_id=call_id, tool=op.name, principal=principal, arguments=arguments)

        if isinstance(outcome, Refused):
            rt.audit.record(**record, event="refused", summary=outcome.summary or None, detail=outcome.reason)
            return error(f"Not executed: {outcome.reason}.")
        if isinstance(outcome, Bypass):
            rt.audit.record(**record, event="bypassed", channel=outcome.channel, summary=outcome.summary)
            return await execute(rt, op, args, call_id=call_id, channel=outcome.channel, principal=principal,
                                 summary=outcome.summary)  # fmt: skip
        if isinstance(outcome, NeedsToken):
            token, expires = rt.guard.mint(op, args, principal, outcome.state)
            rt.audit.record(**record, event="token_issued", channel="token", summary=outcome.summary)
            confirmation = {"tool": op.name, "arguments": as_given(args), "token": token}
            return CallToolResult(
                content=[TextContent(text=(
                    f"Approval required; nothing was sent to VTEX. {outcome.summary}. Show this to the user; "
                    f"only if they approve, call {CONFIRM_TOOL} with tool, arguments and token exactly as in "
                    f"this confirmation (single use, expires in {int(rt.settings.token_ttl)} s): "
                    + _text(confirmation)
                ))],
                structured_content={"status": "approval_required", "summary": outcome.summary,
                                    "confirmation": confirmation, "expiresIn": int(rt.settings.token_ttl)},
            )  # fmt: skip
        kept = rt.guard.pop_review(ctx, op, args)
        summary = (kept or Review(op.title)).summary
        if isinstance(outcome, Approval):
            refusal = await _answer_refused(rt, ctx, op, args, kept)
            if refusal:
                detail, message = refusal
                rt.audit.record(**record, event="refused", channel="elicitation", summary=summary, detail=detail)
                return error(f"Not executed: {message}")
            rt.audit.record(**record, event="approved", channel="elicitation", summary=summary,
                            detail=outcome.note)  # fmt: skip
            return await execute(rt, op, args, call_id=call_id, channel="elicitation", principal=principal,
                                 summary=summary)  # fmt: skip
        action = getattr(approval, "action", "cancel")
        event = "declined" if action == "decline" else "canceled"
        rt.audit.record(**record, event=event, channel="elicitation", summary=summary)
        return ok({"status": event, "summary": f"Not executed: the user {event} it. {summary}"})

    return handler


async def _answer_refused(
    rt: Runtime, ctx: Context, op: Operation, args: Args, kept: Review | None
) -> tuple[str, str] | None:
    """Why an accepted answer does not count, as (audit detail, message), or None when it does.

    - The question it answers is no longer known (pushed out of the bounded store by other
      callers' unanswered questions): there is nothing to check it against.
    - It was already used (``Guard.spend_approval``): one "yes", one execution.
    - Under 2025-11-25 the question is answered inside the call, after a human's pause: the order
      is read again and must still be in the state the question showed. (Under 2026-07-28 the
      question was just rebuilt from live state for this very round, and the SDK does not accept
      an answer to a question that changed.)
    """
    if kept is None:
        return ("question no longer known", "the question this answer approves is no longer known to the "
                "server; call the tool again to ask the user anew.")  # fmt: skip
    if not rt.guard.spend_approval(ctx):
        return ("approval replayed", "this approval was already used for one execution; call the tool again "
                "to ask the user anew.")  # fmt: skip
    if kept.state is None or getattr(ctx, "request_state", None) is not None:
        return None
    if (await _safe_review(rt, op, args)).state != kept.state:
        stale = "the order changed while the user was deciding (or could not be read to check)"
        return stale, f"{stale}. Call the tool again so the user approves the order as it is now."
    return None


def _confirm_handler(rt: Runtime, listed: set[str]) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(ctx: Context, tool: str, arguments: dict[str, Any], token: str) -> CallToolResult:
        op = BY_NAME.get(tool)
        principal = rt.principal(ctx)
        call_id = uuid.uuid4().hex
        if op is None or op.read_only or tool not in listed:
            return error(f"Not executed: {tool!r} is not a write tool of this server.")
        try:
            args = op.args.model_validate(arguments)
        except ValidationError as exc:
            return error(explain_validation(tool, exc, op.args))
        try:
            rt.guard.check(token, op, args, principal)  # a forged or expired token costs no request
            review = await _safe_review(rt, op, args)
            rt.guard.redeem(token, op, args, principal, review.state)
        except TokenError as exc:
            rt.audit.record(call_id=call_id, tool=tool, event="token_rejected", channel="token",
                            principal=principal, arguments=arguments, detail=str(exc))  # fmt: skip
            return error(f"Not executed: {exc}.")
        summary = review.summary
        rt.audit.record(call_id=call_id, tool=tool, event="approved", channel="token", principal=principal,
                        arguments=args.model_dump(mode="json", by_alias=True), summary=summary)  # fmt: skip
        return await execute(rt, op, args, call_id=call_id, channel="token", principal=principal, summary=summary)

    return handler


async def _safe_review(rt: Runtime, op: Operation, args: Args) -> Review:
    try:
        return await rt.guard.review(op, args)
    except VtexError:
        return Review(op.title)  # no state: a token bound to the order's state is refused


# --- assembly -----------------------------------------------------------------------------------


def _annotations(op: Operation) -> ToolAnnotations:
    """All four hints, stated explicitly on every tool (clients differ in how they apply MCP's
    defaults, and an unstated readOnlyHint makes agents ask for approval on safe reads)."""
    return ToolAnnotations(
        read_only_hint=op.read_only,
        destructive_hint=op.destructive,
        idempotent_hint=op.read_only or op.idempotent,
        open_world_hint=True,
    )


def _meta(op: Operation) -> dict[str, Any]:
    vtex: dict[str, Any] = {"method": op.method, "path": op.path}
    if op.deprecated_by:
        vtex["deprecatedBy"] = op.deprecated_by
    return {"vtex": vtex}


def make_tool(
    *,
    name: str,
    title: str,
    description: str,
    args: type[Args],
    handler: Callable[..., Any],
    annotations: ToolAnnotations,
    meta: dict[str, Any] | None,
    output_schema: dict[str, Any],
    resolver: Callable[..., Any] | None = None,
) -> VtexTool:
    resolved = {"approval": (Resolve(resolver), True)} if resolver else {}
    return VtexTool(
        fn=handler,
        name=name,
        title=title,
        description=description,
        parameters=clean_schema(args.model_json_schema(by_alias=True)),
        fn_metadata=FuncMetadata(arg_model=args, output_schema=output_schema),
        is_async=True,
        context_kwarg="ctx",
        resolved_params=resolved,
        resolver_plans=build_resolver_plans(resolved, set(args.model_fields)) if resolved else {},
        annotations=annotations,
        meta=meta,
    )


def build_tools(rt: Runtime) -> list[VtexTool]:
    ops = offered(read_only=rt.settings.read_only, toolsets=rt.settings.toolsets)
    tools = []
    for op in ops:
        if op.read_only:
            handler, resolver, out = _read_handler(rt, op), None, OUTPUT_SCHEMAS[op.view]
        else:
            handler, resolver, out = _write_handler(rt, op), rt.guard.resolver(op), WRITE_OUTPUT
        tools.append(
            make_tool(
                name=op.name, title=op.title, description=op.description, args=op.args, handler=handler,
                annotations=_annotations(op), meta=_meta(op), output_schema=out, resolver=resolver,
            )  # fmt: skip
        )
    writes = {op.name for op in ops if not op.read_only}
    if writes:
        tools.append(
            make_tool(
                name=CONFIRM_TOOL,
                title="Confirm a write",
                description="Run a write the user approved, with the confirmation a write tool returned. "
                "Never call it without the user's explicit approval.",
                args=ConfirmWrite,
                handler=_confirm_handler(rt, writes),
                annotations=ToolAnnotations(
                    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
                ),
                meta=None,
                output_schema=WRITE_OUTPUT,
            )
        )
    return tools

