"""MCP tools built from the registry: no per-operation code lives here.

For each offered ``Operation`` this module makes one tool whose input schema is the operation's
pydantic model (unknown fields refused), whose annotations and ``_meta.vtex`` come from the
entry, and whose handler is one of two closures: a read (fetch, then project with the
operation's view) or a guarded write (the guard's resolver fills a hidden ``approval``
parameter and the guard's ``write`` acts on it). When any write is offered, the guard's own
tools are listed too (``_guard_tools``).

Results are ``CallToolResult``s carrying ``structuredContent`` (matching the advertised
``outputSchema``) and the same data as compact JSON text. Failures are ``isError`` results that
say what failed, VTEX's message, and what to do next (results.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations

from .client import VtexClient
from .config import Settings
from .errors import VtexError, first_failure
from .guard import APPROVAL_CARD, Guard
from .models import CheckApproval, ConfirmWrite, DecideApproval
from .paging import fetch
from .redaction import redact
from .registry import CARD_TOOL, CHECK_TOOL, CONFIRM_TOOL, Operation, Registry
from .results import contract_check, explain_validation, ok, vtex_error
from .schemas import advertised_schema
from .sdk import ModelTool, model_tool
from .storage import Store
from .views.fields import obj

__all__ = ["APPROVAL_OUTPUT", "WRITE_OUTPUT", "Runtime", "build_tools"]

# Writes answer {status, summary} plus `result` (VTEX's receipt) when done, or `confirmation` and
# `expiresIn` when approval is pending; only the discriminating field is spelled out.
WRITE_OUTPUT = {
    "type": "object",
    "properties": {"status": {"enum": ["done", "approval_required", "declined", "dismissed"]}},
    "required": ["status"],
}
# check_approval and the card's buttons answer where an approval stands.
APPROVAL_OUTPUT = {
    "type": "object",
    "properties": {
        "status": {"enum": ["pending", "approved", "declined", "done", "failed", "unknown", "expired"]},
        "approvalId": {"type": "string"},
    },
    "required": ["status", "approvalId"],
}


STORE_FORMATS_KEPT = 4096


@dataclass
class Runtime:
    """What tool, resource and prompt handlers share: settings, registry, client, guard, store."""

    settings: Settings
    registry: Registry
    client: VtexClient
    guard: Guard
    store: Store
    # Each order's storePreferencesData, as read for a view with store_format: VTEX sets it when
    # the order is placed and never changes it, so a second payment read of an order costs one
    # request, not two. Bounded: the oldest entry goes first.
    store_formats: dict[str, dict[str, Any]] = field(default_factory=dict)

    def offered(self) -> tuple[Operation, ...]:
        return self.registry.offered(read_only=self.settings.read_only, toolsets=self.settings.toolsets)


async def read(rt: Runtime, op: Operation, args: Any, progress: Any = None) -> dict[str, Any]:
    """A read's structured result, for its tool and its resource alike. Raises VtexError.

    A view with ``store_format`` (a document without a currency) gets the order's
    ``storePreferencesData``, read at the same time; if that read fails, the view still shows
    the document, with plain numbers."""
    order_id = getattr(args, "order_id", None)
    store = rt.store_formats.get(order_id) if op.view.store_format and order_id else None
    if store is not None or not (op.view.store_format and order_id):
        data = await fetch(rt.client, op, args, progress)
    else:
        found: dict[str, Any] = {}

        async def store_of() -> None:
            order_read = rt.registry.order_read
            with suppress(VtexError):
                order = await rt.client.call(order_read, order_read.args.validated(order_id=order_id))
                found["store"] = obj(order).get("storePreferencesData")

        with first_failure():
            async with anyio.create_task_group() as tg:
                tg.start_soon(store_of)
                data = await fetch(rt.client, op, args, progress)
        store = found.get("store") if isinstance(found.get("store"), dict) else None
        if store is not None:
            if len(rt.store_formats) >= STORE_FORMATS_KEPT:
                del rt.store_formats[next(iter(rt.store_formats))]
            rt.store_formats[order_id] = store
    if op.view.redact:
        data = redact(data, rt.settings.secret_values())
    return op.view.render(data, full=op.full_view(args), store=store)


def _read_handler(rt: Runtime, op: Operation) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(ctx: Context, **kwargs: Any) -> CallToolResult:
        args = op.args.validated(**kwargs)
        try:
            return ok(await read(rt, op, args, ctx.report_progress))
        except VtexError as exc:
            return vtex_error(op, exc)

    return handler


def _write_handler(rt: Runtime, op: Operation) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(ctx: Context, approval: Any, **kwargs: Any) -> CallToolResult:
        return await rt.guard.write(ctx, op, op.args.validated(**kwargs), approval)

    return handler


def _confirm_handler(rt: Runtime, listed: set[str]) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(ctx: Context, tool: str, arguments: dict[str, Any], token: str) -> CallToolResult:
        return await rt.guard.confirm(ctx, tool, arguments, token, listed)

    return handler


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


def _model_tool(**spec: Any) -> ModelTool:
    """A tool whose arguments are checked against the schema it advertises (its model's, see
    schemas.py), then by its model."""
    args = spec["args"]
    return model_tool(
        **spec, parameters=advertised_schema(args), explain=explain_validation, check=contract_check(args)
    )


def _tool(rt: Runtime, op: Operation) -> ModelTool:
    if op.read_only:
        handler, resolver, output = _read_handler(rt, op), None, op.view.output_schema
    else:
        handler, resolver, output = _write_handler(rt, op), rt.guard.resolver(op), WRITE_OUTPUT
    return _model_tool(
        name=op.name,
        title=op.title,
        description=op.description,
        args=op.args,
        handler=handler,
        annotations=_annotations(op),
        meta=_meta(op),
        output_schema=output,
        resolver=resolver,
    )


def _check_handler(rt: Runtime) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(ctx: Context, approval_id: str) -> CallToolResult:
        return await rt.guard.status(approval_id)

    return handler


def _card_handler(rt: Runtime) -> Callable[..., Awaitable[CallToolResult]]:
    async def handler(ctx: Context, approval_id: str, approve: bool) -> CallToolResult:
        return await rt.guard.decide_on_card(ctx, approval_id, approve)

    return handler


def _guard_tools(rt: Runtime, writes: set[str]) -> list[ModelTool]:
    """The guard's own tools, when a write is offered: the model's step (``confirm_write`` for the
    operator-chosen two-step token, else ``check_approval``), and the approval card's buttons
    (app-only: the server lists it only to sessions that declared MCP Apps, see server.py)."""
    if rt.settings.guard == "token":
        step = _model_tool(
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
    else:
        step = _model_tool(
            name=CHECK_TOOL,
            title="Check an approval",
            description="Where a write waiting for the user's approval stands (pending, done, declined, expired) "
            "and VTEX's answer once it ran. Executes nothing.",
            args=CheckApproval,
            handler=_check_handler(rt),
            annotations=ToolAnnotations(
                read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
            ),
            meta=None,
            output_schema=APPROVAL_OUTPUT,
        )
    card = _model_tool(
        name=CARD_TOOL,
        title="Decide an approval (approval card)",
        description="The approval card's Approve and Decline buttons. Only the card calls it.",
        args=DecideApproval,
        handler=_card_handler(rt),
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
        ),
        meta={"ui": {"resourceUri": APPROVAL_CARD, "visibility": ["app"]}},
        output_schema=APPROVAL_OUTPUT,
    )
    return [step, card]


def build_tools(rt: Runtime) -> list[ModelTool]:
    ops = rt.offered()
    tools = [_tool(rt, op) for op in ops]
    writes = {op.name for op in ops if not op.read_only}
    if writes:
        tools += _guard_tools(rt, writes)
    return tools
