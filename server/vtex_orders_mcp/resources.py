"""MCP resources: an order, its conversation and its payment, the status reference, the audit log.

Every read returns JSON and a readable text rendering: the JSON content first, then the same data
as ``text/plain``, rendered from the same projection (no second VTEX call, no re-parsing). Each
form also has a URI of its own:

    vtex://orders/{order_id}                          application/json  the compact order view
    vtex://orders/{order_id}/conversation             application/json  messages, newest first
    vtex://orders/{order_id}/payment-transaction      application/json  transaction and payments
    vtex://reference/order-statuses                  application/json  what each status allows
    vtex://audit/recent                              application/json  the last 50 audit events
    ... each of them again with a ``.txt`` suffix    text/plain        the same data, for reading

The order resources come from the registry: each read operation with a ``resource`` is mirrored,
and its JSON is byte for byte the tool's ``structuredContent`` (same operation, same client, same
view). An orderId VTEX does not know, or one that cannot be an orderId, is
``ResourceNotFoundError`` (the client sees JSON-RPC error -32602), never an empty document; a read
VTEX refuses for a reason it gives (400/409/422: the payment transaction of a non-marketplace
order) is -32602 too, quoting that reason; any other VTEX failure (credentials, outage) is a
``ResourceError`` (-32603) carrying the tool's message.

Why two paths: the SDK's function resources yield exactly one content with the resource's one
``mimeType``. Every resource is registered with the SDK (listing, templates, the ``.txt`` forms),
and the JSON forms are read through ``Readable``s (server.py) that return both contents.
Template order matters for the SDK: a simple ``{order_id}`` expression stops only at ``/``, so
``vtex://orders/{order_id}`` would also match ``vtex://orders/v1-01.txt``; the ``.txt`` twins are
registered first (the SDK tries templates in registration order).

Completions: one handler completes ``order_id`` (resource templates and prompts alike) from a
single order search, newest first, keeping ids that start with what was typed, and ``status``
(prompt arguments) from the statuses the search accepts. A completion that fails upstream
answers an empty list: it is a convenience, not a place to surface VTEX errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)
from pydantic import ValidationError

from .errors import VtexConflict, VtexError, VtexNotFound
from .models import ORDER_STATUSES
from .redaction import redact
from .registry import Operation, OrderResource
from .tools import Runtime, read
from .arguments import excerpt
from .views import audit_text, status_reference, status_reference_text

if TYPE_CHECKING:
    from .server import App

__all__ = [
    "AUDIT_LIMIT",
    "AUDIT_URI",
    "STATUS_REFERENCE_URI",
    "Readable",
    "complete_order_ids",
    "register_resources",
]

JSON = "application/json"
TEXT = "text/plain"
TXT = ".txt"
STATUS_REFERENCE_URI = "vtex://reference/order-statuses"
AUDIT_URI = "vtex://audit/recent"
AUDIT_LIMIT = 50
COMPLETION_ROWS = 20  # one search page per keystroke: keep it small


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


@dataclass(frozen=True)
class Readable:
    """A resource whose JSON read also carries its text: ``read(params)`` gives (data, text) for
    the URI's template variables."""

    pattern: re.Pattern[str]
    read: Callable[[dict[str, str]], Awaitable[tuple[Any, str]]]


# --- orders ------------------------------------------------------------------------------------


async def read_order_resource(rt: Runtime, op: Operation, order_id: str) -> dict[str, Any]:
    """The read tool's structured result for ``order_id``; unknown orders are ResourceNotFoundError."""
    try:
        args = op.args.model_validate({"order_id": order_id})
    except ValidationError:
        # Nothing with this shape can exist at VTEX: not found, without a request.
        raise ResourceNotFoundError(
            f"Unknown order {order_id!r}: an orderId looks like v502556llux-01 or 1172452900788-01."
        ) from None
    try:
        return await read(rt, op, args)
    except VtexNotFound as exc:
        raise ResourceNotFoundError(str(exc)) from None
    except VtexConflict as exc:
        # VTEX refused this read of this order for a reason it states (its payment transaction
        # route serves marketplace orders only): the request's fault, not the server's, so
        # invalid params with VTEX's words (already cut to an excerpt), never "Internal error".
        raise MCPError(
            code=INVALID_PARAMS,
            message=f"{exc.message} VTEX refuses this resource for this order; the reason above is VTEX's.",
            data={"status": exc.status, "vtexCode": exc.code},
        ) from None
    except VtexError as exc:
        raise ResourceError(str(exc)) from None


def _order_text(op: Operation, order_id: str, result: dict[str, Any]) -> str:
    assert op.view.text is not None  # a mirrored read has a text rendering (checked at registration)
    return op.view.text(result, order_id)


def _register_order_resource(app: App, op: Operation, spec: OrderResource) -> None:
    server, rt = app.server, app.runtime
    if op.view.text is None:
        raise ValueError(f"{op.name}: a resource needs a view with a text rendering")

    # The parameter must be called order_id: the SDK binds template variables by name.
    async def read_text(order_id: str) -> str:
        return _order_text(op, order_id, await read_order_resource(rt, op, order_id))

    async def read_json(order_id: str) -> str:
        return as_json(await read_order_resource(rt, op, order_id))

    async def read_both(params: dict[str, str]) -> tuple[Any, str]:
        result = await read_order_resource(rt, op, params["order_id"])
        return result, _order_text(op, params["order_id"], result)

    server.resource(
        spec.uri + TXT,
        name=spec.name + "-text",
        title=spec.title + " (text)",
        mime_type=TEXT,
        description=spec.description,
    )(read_text)
    server.resource(spec.uri, name=spec.name, title=spec.title, mime_type=JSON, description=spec.description)(read_json)
    # (?!.*\.txt$): the .txt twin is the SDK's to read (a text-only answer), not this one's.
    pattern = re.compile(
        r"(?!.*\.txt$)" + re.escape("vtex://orders/") + r"(?P<order_id>[^/]+?)" + re.escape(spec.suffix)
    )
    server.add_readable(Readable(pattern, read_both))


# --- static resources ---------------------------------------------------------------------------


def _register_static(
    app: App, uri: str, name: str, title: str, description: str, read: Callable[[], Any], to_text: Callable[[Any], str]
) -> None:
    async def read_json() -> str:
        return as_json(await read())

    async def read_text() -> str:
        return to_text(await read())

    async def read_both(params: dict[str, str]) -> tuple[Any, str]:
        data = await read()
        return data, to_text(data)

    app.server.resource(uri, name=name, title=title, description=description, mime_type=JSON)(read_json)
    app.server.resource(
        uri + TXT, name=name + "-text", title=title + " (text)", description=description, mime_type=TEXT
    )(read_text)
    app.server.add_readable(Readable(re.compile(re.escape(uri)), read_both))


async def audit_events(app: App) -> list[dict[str, Any]]:
    # Arguments and details are redacted when recorded; redacting again on the way out also
    # covers summaries and anything recorded before a secret was configured.
    secrets = app.settings.secret_values()
    return [_bounded_event(redact(r.as_dict(), secrets)) for r in await app.runtime.store.recent(AUDIT_LIMIT)]


AUDIT_FIELD = 1_000  # characters of one event's field as the resource shows it (the CLI exports whole)


def _bounded_event(event: dict[str, Any]) -> dict[str, Any]:
    """One event as a model reads it: a call's arguments are at most 256 KiB and a summary quotes
    them, so 50 events could be megabytes; each long field becomes a short excerpt saying its size
    (``vtex-orders-mcp audit --export`` keeps every record whole)."""
    out = dict(event)
    for key, value in event.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if isinstance(value, str | dict | list) and len(shown) > AUDIT_FIELD:
            out[key] = excerpt(shown, AUDIT_FIELD)
    return out


# --- completions --------------------------------------------------------------------------------


async def complete_order_ids(rt: Runtime, prefix: str) -> Completion:
    """Order ids starting with ``prefix`` (case-insensitive), newest first; recent orders when empty."""
    prefix = prefix.strip()
    op = rt.registry.order_search
    try:
        args = op.args.model_validate({"q": prefix or None, "per_page": COMPLETION_ROWS})
        data = await rt.client.call(op, args)
    except (ValidationError, VtexError):
        return Completion(values=[], total=0, has_more=False)
    rows = data.get("list") or []
    ids = [r["orderId"] for r in rows if str(r.get("orderId", "")).lower().startswith(prefix.lower())]
    total = int((data.get("paging") or {}).get("total") or len(rows))
    # VTEX's q is full text (id, e-mail, name, document): the page may hold rows matched on other
    # fields, so a total is only known when every row on it matched by id.
    exact = len(ids) == len(rows)
    return Completion(values=ids, total=total if exact else None, has_more=exact and total > len(ids))


def complete_statuses(prefix: str) -> Completion:
    values = [s for s in ORDER_STATUSES if s.startswith(prefix.strip().lower())]
    return Completion(values=values, total=len(values), has_more=False)


# --- registration -------------------------------------------------------------------------------


def register_resources(app: App) -> None:
    rt = app.runtime
    for op in rt.registry:
        if op.resource is not None:
            _register_order_resource(app, op, op.resource)

    offered = rt.offered()

    async def reference() -> dict[str, Any]:
        return status_reference(offered)

    async def audit() -> dict[str, Any]:
        return {"events": await audit_events(app)}

    _register_static(
        app,
        STATUS_REFERENCE_URI,
        "order-statuses",
        "Order status reference",
        "What each order status means and which tools it allows (the rules the server and sandbox apply).",
        reference,
        status_reference_text,
    )
    _register_static(
        app,
        AUDIT_URI,
        "audit-recent",
        "Recent audit log",
        f"The last {AUDIT_LIMIT} events of guarded writes (approvals, executions, failures), newest first; "
        "secrets redacted.",
        audit,
        lambda data: audit_text(data["events"]),
    )

    @app.server.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        if argument.name == "order_id":  # a resource template's variable, or a prompt's argument
            return await complete_order_ids(rt, argument.value)
        if argument.name == "status" and isinstance(ref, PromptReference):
            return complete_statuses(argument.value)
        return None
