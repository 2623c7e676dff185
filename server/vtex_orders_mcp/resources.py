"""MCP resources: an order, its conversation and its payment, the status reference, the audit log.

Every read returns JSON and a readable text rendering: the JSON content first, then the same data
as ``text/plain`` (``text_companion``, appended by ``server.VtexMCPServer.read_resource``, built
from the JSON already fetched: no second VTEX call). Each form also has a URI of its own:

    vtex://orders/{orderId}                          application/json  the compact order view
    vtex://orders/{orderId}/conversation             application/json  messages, newest first
    vtex://orders/{orderId}/payment-transaction      application/json  transaction and payments
    vtex://reference/order-statuses                  application/json  what each status allows
    vtex://audit/recent                              application/json  the last 50 audit events
    ... each of them again with a ``.txt`` suffix    text/plain        the same data, for reading

Why the companion is added after the read: the SDK's ``FunctionResource.read`` yields exactly one
``str | bytes`` with the resource's one ``mimeType``, so the second content is appended one level
up, in the server's ``read_resource``. The ``.txt`` URIs let a client (or a prompt, which embeds
them) take only the readable form.

The order JSON is byte for byte the ``structuredContent`` of the matching read tool
(``get_order``, ``get_order_conversation``, ``get_payment_transaction``): the resources call the
same registry operation through the same client and project it with ``tools.render``. An orderId
VTEX does not know, or one that cannot be an orderId, is ``ResourceNotFoundError`` (the client
sees JSON-RPC error -32602), never an empty document; any other VTEX failure is a
``ResourceError`` (-32603) carrying the tool's message.

Template order matters: a simple ``{orderId}`` expression stops only at ``/``, so
``vtex://orders/{orderId}`` would also match ``vtex://orders/v1-01.txt``. The ``.txt`` twins are
registered first (the SDK tries templates in registration order).

Completions: one handler completes ``orderId`` (resource templates and prompts alike) from a
single ``list_orders`` call, newest first, keeping ids that start with what was typed, and
``status`` (prompt arguments) from the statuses ``list_orders`` accepts. A completion that fails
upstream answers an empty list: it is a convenience, not a place to surface VTEX errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference
from pydantic import ValidationError

from .audit import redact
from .errors import VtexError, VtexNotFound
from .models import ORDER_STATUSES, ListOrders
from .registry import BY_NAME, offered
from .statuses import CANCEL_REFUSED, MODIFIABLE, STATUS_INFO
from .tools import Runtime, fetch, render

if TYPE_CHECKING:
    from .server import App

__all__ = [
    "register_resources",
    "text_companion",
    "ORDER_RESOURCES",
    "STATUS_REFERENCE_URI",
    "AUDIT_URI",
    "AUDIT_LIMIT",
    "status_reference",
    "complete_order_ids",
]

JSON = "application/json"
TEXT = "text/plain"
TXT = ".txt"
STATUS_REFERENCE_URI = "vtex://reference/order-statuses"
AUDIT_URI = "vtex://audit/recent"
AUDIT_LIMIT = 50
COMPLETION_ROWS = 20  # one list_orders page per keystroke: keep it small


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


# --- text renderings ----------------------------------------------------------------------------


def _line(*parts: Any, sep: str = " · ") -> str:
    return sep.join(str(p) for p in parts if p not in (None, "", [], {}))


def delivered_text(delivered: Any) -> str | None:
    """The compact view's "delivered": a date when VTEX has one, True when it only says finished."""
    if isinstance(delivered, str):
        return f"delivered {delivered}"
    return "delivered" if delivered else None


def order_text(data: dict[str, Any]) -> str:
    o = data.get("order") or {}
    out = [f"Order {o.get('orderId')} — {o.get('status')} ({o.get('statusMeaning')})"]
    out.append(_line(f"created {o['created']}" if o.get("created") else None,
                     f"last change {o['lastChange']}" if o.get("lastChange") else None,
                     f"seller {o['seller']}" if o.get("seller") else None))  # fmt: skip
    c = o.get("customer") or {}
    if c:
        email = f"<{c['email']}>" if c.get("email") else None
        out.append("Customer: " + _line(" ".join(x for x in (c.get("name"), email) if x), c.get("phone")))
    totals = ", ".join(f"{k} {v}" for k, v in (o.get("totals") or {}).items())
    if o.get("total") or totals:
        out.append(f"Total: {o.get('total') or '?'}" + (f" ({totals})" if totals else ""))
    if o.get("items"):
        out.append("Items:")
        out += ["  - " + " ".join(x for x in (
            f"{i['qty']}x" if i.get("qty") is not None else None, i.get("name") or "(unnamed item)",
            f"(SKU {i['sku']})" if i.get("sku") else None, f"— {i['price']} each" if i.get("price") else None,
        ) if x) for i in o["items"]]  # fmt: skip
    s = o.get("shipping") or {}
    if s:
        out.append("Shipping: " + _line(f"to {s['to']}" if s.get("to") else None, s.get("address")))
        # one line per delivery: split orders list each (their SKUs, carrier, estimate, pickup point)
        for d in s.get("deliveries") or [s]:
            out.append("  " + _line(
                f"SKU {', '.join(d['skus'])}" if d.get("skus") else None, d.get("carrier"), d.get("sla"),
                d.get("channel"), f"pickup at {d['pickupPoint']}" if d.get("pickupPoint") else None,
                d.get("pickupAddress") or (d.get("address") if d is not s else None),
                f"estimate {d['estimate']}" if d.get("estimate") else None))  # fmt: skip
    for p in o.get("payments") or []:
        inst = f"{p['installments']} installments" if p.get("installments") else None
        out.append("Payment: " + _line(p.get("system"), p.get("value"), inst,
                                       f"due {p['dueDate']}" if p.get("dueDate") else None))  # fmt: skip
    if "paymentSettled" in o:
        out.append(f"Payment settled: {'yes' if o['paymentSettled'] else 'no'}")
    for inv in o.get("invoices") or []:
        tracking = " ".join(x for x in (inv.get("tracking"), f"<{inv['trackingUrl']}>" if inv.get("trackingUrl")
                                        else None) if x)  # fmt: skip
        out.append(f"Invoice {inv.get('number')} ({inv.get('type')})" + ": " + _line(
            inv.get("value"), f"issued {inv['issued']}" if inv.get("issued") else None, inv.get("courier"),
            f"tracking {tracking}" if tracking else (None if inv.get("type") == "Input" else "no tracking number yet"),
            delivered_text(inv.get("delivered"))))  # fmt: skip
    for ch in o.get("changes") or []:
        moves = [f"+{a}" for a in ch.get("added") or []] + [f"-{r}" for r in ch.get("removed") or []]
        out.append("Change: " + _line(ch.get("date"), ch.get("reason"), ", ".join(moves),
                                      f"discount {ch['discount']}" if ch.get("discount") else None,
                                      f"increment {ch['increment']}" if ch.get("increment") else None))  # fmt: skip
    if o.get("cancellation"):
        x = o["cancellation"]
        out.append("Canceled: " + _line(x.get("date"), f"by {x['by']}" if x.get("by") else None, x.get("reason")))
    if "canCancel" in o:
        out.append(f"Cancellation allowed: {'yes' if o['canCancel'] else 'no'}")
    return "\n".join(line for line in out if line.strip())


def conversation_text(order_id: str, data: dict[str, Any]) -> str:
    messages = data.get("messages") or []
    if not messages:
        return f"Order {order_id}: no messages exchanged with the customer."
    out = [f"Order {order_id}: {len(messages)} message(s), newest first."]
    for m in messages:
        head = " — ".join(x for x in (m.get("date") or "(no date)", f"from {m.get('from') or '?'} to "
                                      f"{m.get('to') or '?'}", m.get("subject") or "(no subject)") if x)  # fmt: skip
        out.append("")
        out.append(head)
        out.append(m.get("body") or "(empty)")
        if m.get("attachments"):
            out.append("Attachments: " + ", ".join(map(str, m["attachments"])))
    return "\n".join(out)


def payment_text(order_id: str, data: dict[str, Any]) -> str:
    t = data.get("transaction") or {}
    active = None if "active" not in t else ("active" if t["active"] else "inactive")
    out = [f"Order {order_id}: payment transaction {t.get('transactionId') or '(unknown)'} — "
           + _line(t.get("status"), active, t.get("merchant"))]  # fmt: skip
    for p in t.get("payments") or []:
        out.append("  - " + _line(
            p.get("system"), p.get("value"), f"{p['installments']}x" if (p.get("installments") or 1) > 1 else None,
            f"card ending {p['lastDigits']}" if p.get("lastDigits") else None,
            f"tid {p['tid']}" if p.get("tid") else None, f"due {p['dueDate']}" if p.get("dueDate") else None,
            f"id {p['id']}" if p.get("id") else None))  # fmt: skip
    if not t.get("payments"):
        out.append("  (no payments)")
    return "\n".join(out)


# --- order templates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderResource:
    """One order template: its URI suffix, the read tool it mirrors, and its text rendering."""

    suffix: str
    tool: str
    name: str
    title: str
    description: str
    to_text: Callable[[str, dict[str, Any]], str]

    @property
    def uri(self) -> str:
        return "vtex://orders/{orderId}" + self.suffix


ORDER_RESOURCES: tuple[OrderResource, ...] = (
    OrderResource("", "get_order", "order", "Order",
                  "The compact order view (same as get_order): status and its meaning, customer, items, totals, "
                  "shipping, payments, invoices, changes.", lambda _id, data: order_text(data)),
    OrderResource("/conversation", "get_order_conversation", "order-conversation", "Order conversation",
                  "E-mails exchanged with the customer about the order, newest first: from, to, date, subject, "
                  "body as text.", conversation_text),
    OrderResource("/payment-transaction", "get_payment_transaction", "order-payment-transaction",
                  "Order payment transaction", "The order's payment transaction: status and each payment.",
                  payment_text),
)  # fmt: skip


async def read_order_resource(rt: Runtime, spec: OrderResource, order_id: str) -> dict[str, Any]:
    """The read tool's structured result for ``order_id``; unknown orders are ResourceNotFoundError."""
    op = BY_NAME[spec.tool]
    try:
        args = op.args.model_validate({"orderId": order_id})
    except ValidationError:
        # Nothing with this shape can exist at VTEX: not found, without a request.
        raise ResourceNotFoundError(
            f"Unknown order {order_id!r}: an orderId looks like v502556llux-01 or 1172452900788-01."
        ) from None
    try:
        data = await fetch(rt, op, args)
    except VtexNotFound as exc:
        raise ResourceNotFoundError(str(exc)) from None
    except VtexError as exc:
        raise ResourceError(str(exc)) from None
    return render(op, args, data)


def _order_reader(rt: Runtime, spec: OrderResource, as_text: bool) -> Callable[[str], Awaitable[str]]:
    # The parameter must be called orderId: the SDK binds template variables by name.
    async def read(orderId: str) -> str:  # noqa: N803
        data = await read_order_resource(rt, spec, orderId)
        return spec.to_text(orderId, data) if as_text else _json(data)

    return read


# --- static resources ---------------------------------------------------------------------------

# Conditions on the order itself, on top of its status (statuses.py holds the per-status table).
ORDER_CONDITIONS = (
    "cancel_order is refused for partially invoiced and incomplete orders, whatever the status; "
    "a return is an invoice_order of type Input once the order is fully invoiced.",
    "create_order_modification is refused once the payment is settled (transaction Finished), and "
    "needs the account's order-modification API enabled (get_order_modification_settings).",
    "update_tracking_status needs a tracking number on the invoice first (update_invoice_tracking).",
)


def status_reference(offered: Collection[str] | None = None) -> dict[str, Any]:
    """VTEX's rules per status; with ``offered``, "allows" keeps only the tools this server lists
    (a read-only or toolset-limited server does not point the model at tools it cannot call)."""
    return {
        "statuses": [
            {"status": status, "meaning": meaning, "allows": [t for t in tools if offered is None or t in offered]}
            for status, (meaning, tools) in STATUS_INFO.items()
        ],
        "modifiableIn": sorted(MODIFIABLE),
        "cancelRefusedIn": sorted(CANCEL_REFUSED),
        "conditions": list(ORDER_CONDITIONS),
    }


def status_reference_text(ref: dict[str, Any]) -> str:
    """The reference as text, from the very document the JSON read returns (so both agree on
    what this server offers)."""
    width = max(len(s["status"]) for s in ref["statuses"])
    out = ["Order statuses: what each one means and which tools can act on an order in it.", ""]
    for s in ref["statuses"]:
        allows = ", ".join(s["allows"]) or "no action (read only)"
        out.append(f"{s['status'].ljust(width)}  {s['meaning']}. Allows: {allows}.")
    out += ["", "Also:"] + [f"- {c}" for c in ref["conditions"]]
    return "\n".join(out)


def audit_events(app: App) -> list[dict[str, Any]]:
    # Arguments and details are redacted when recorded; redacting again on the way out also
    # covers summaries and anything recorded before a secret was configured.
    secrets = app.settings.secret_values()
    return [redact(r.as_dict(), secrets) for r in app.audit.recent(AUDIT_LIMIT)]


def audit_text(events: list[dict[str, Any]]) -> str:
    if not events:
        return "No guarded calls recorded yet."
    out = [f"Last {len(events)} audit event(s), newest first."]
    for e in events:
        outcome = _line(f"HTTP {e['upstream_status']}" if e.get("upstream_status") else None,
                        f"receipt {e['receipt']}" if e.get("receipt") else None, e.get("detail"))  # fmt: skip
        head = " ".join(x for x in (e.get("time"), e.get("tool"), e.get("event"),
                                    f"via {e['channel']}" if e.get("channel") else None,
                                    f"by {e['principal']}" if e.get("principal") else None) if x)  # fmt: skip
        out.append(head + (f" — {e['summary']}" if e.get("summary") else "") + (f" ({outcome})" if outcome else ""))
    return "\n".join(out)


# --- completions --------------------------------------------------------------------------------


async def complete_order_ids(rt: Runtime, prefix: str) -> Completion:
    """Order ids starting with ``prefix`` (case-insensitive), newest first; recent orders when empty."""
    prefix = prefix.strip()
    op = BY_NAME["list_orders"]
    try:
        args = ListOrders.model_validate({"q": prefix or None, "per_page": COMPLETION_ROWS})
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


_ORDER_URI = re.compile(r"^vtex://orders/(?P<orderId>[^/]+?)(?P<suffix>/conversation|/payment-transaction)?$")


def text_companion(uri: str, contents: list[ReadResourceContents]) -> list[ReadResourceContents]:
    """The text rendering to send with a JSON read of ``uri`` (empty for the ``.txt`` forms)."""
    if len(contents) != 1 or contents[0].mime_type != JSON or not isinstance(contents[0].content, str):
        return []
    data = json.loads(contents[0].content)
    text: str | None = None
    if uri == STATUS_REFERENCE_URI:
        text = status_reference_text(data)
    elif uri == AUDIT_URI:
        text = audit_text(data.get("events") or [])
    elif match := _ORDER_URI.match(uri):
        spec = next(s for s in ORDER_RESOURCES if s.suffix == (match["suffix"] or ""))
        text = spec.to_text(match["orderId"], data)
    return [ReadResourceContents(content=text, mime_type=TEXT)] if text is not None else []


def register_resources(app: App) -> None:
    server, rt = app.server, app.runtime
    # Text twins first: see the module docstring on template order.
    for as_text in (True, False):
        for spec in ORDER_RESOURCES:
            server.resource(
                spec.uri + (TXT if as_text else ""),
                name=spec.name + ("-text" if as_text else ""),
                title=spec.title + (" (text)" if as_text else ""),
                description=spec.description,
                mime_type=TEXT if as_text else JSON,
            )(_order_reader(rt, spec, as_text))

    reference = "What each order status means and which tools it allows (the rules the server and sandbox apply)."
    listed = {op.name for op in offered(read_only=app.settings.read_only, toolsets=app.settings.toolsets)}
    server.resource(STATUS_REFERENCE_URI, name="order-statuses", title="Order status reference",
                    description=reference, mime_type=JSON)(lambda: _json(status_reference(listed)))  # fmt: skip
    server.resource(STATUS_REFERENCE_URI + TXT, name="order-statuses-text", title="Order status reference (text)",
                    description=reference, mime_type=TEXT)(lambda: status_reference_text(status_reference(listed)))  # fmt: skip

    audit = (f"The last {AUDIT_LIMIT} events of guarded writes (approvals, executions, failures), newest first; "
             "secrets redacted.")  # fmt: skip
    server.resource(AUDIT_URI, name="audit-recent", title="Recent audit log", description=audit,
                    mime_type=JSON)(lambda: _json({"events": audit_events(app)}))  # fmt: skip
    server.resource(AUDIT_URI + TXT, name="audit-recent-text", title="Recent audit log (text)", description=audit,
                    mime_type=TEXT)(lambda: audit_text(audit_events(app)))  # fmt: skip

    @server.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        if argument.name == "orderId":
            return await complete_order_ids(rt, argument.value)
        if argument.name == "status" and isinstance(ref, PromptReference):
            return complete_statuses(argument.value)
        return None
