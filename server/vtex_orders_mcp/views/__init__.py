"""Views: how each read's answer is shown to a model (structured JSON) and to a person (text).

A VTEX order document is ~55 keys and ~3,000 tokens, most of it irrelevant to a support
conversation (image URLs, price tags, SLA alternatives, internal ids). A ``View`` keeps what a
support agent needs, converts cents to money in the store's own currency format and drops nulls
and empties; ``full`` returns VTEX's document untouched. Each module holds one view's projection
and its text rendering side by side, the text rendered from the projection (never re-parsed).
Pure functions: no I/O, tested on the seed order (tests/test_views.py) and measured in bench/.

VTEX documents are read defensively: any field may be null (a seller without a name, a totals
entry without an id, a null inside a list), and a view never fails on one; it leaves it out.

    order.py          compact_order, order_text            get_order, get_user_order, vtex://orders/{id}
    rows.py           compact_order_row                    list_orders, list_user_orders
    conversation.py   compact_conversation, ..._text       get_order_conversation, .../conversation
    payment.py        compact_payment, payment_text        get_payment_transaction, .../payment-transaction
    reference.py      status_reference, ..._text           vtex://reference/order-statuses
    audit.py          audit_text                           vtex://audit/recent
    money.py, fields.py                                    shared readers
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .audit import audit_text
from .conversation import compact_conversation, conversation_text, html_to_text
from .fields import prune
from .money import Money
from .order import compact_order, order_text
from .payment import compact_payment, payment_text
from .reference import status_reference, status_reference_text
from .rows import compact_order_row

__all__ = [
    "CONVERSATION",
    "ORDER",
    "ORDERS",
    "ORDER_GROUP",
    "PAYMENT",
    "RAW",
    "Money",
    "View",
    "audit_text",
    "compact_conversation",
    "compact_order",
    "compact_order_row",
    "compact_payment",
    "html_to_text",
    "order_text",
    "prune",
    "status_reference",
    "status_reference_text",
]

Result = dict[str, Any]


@dataclass(frozen=True)
class View:
    """How one kind of read is shown.

    ``project(document, full)`` builds the tool's structured result (compact unless ``full``),
    which follows ``output_schema``; a view with ``store_format`` also takes the order's
    ``storePreferencesData`` (its document has no currency of its own: the payment transaction),
    so money reads the same as in the order view. ``container`` is the JSON type VTEX answers with; the client
    refuses anything else before a projection could trip on it. ``text(result, subject)`` renders
    the structured result as text (resources send both). ``redact``: the document may carry
    credentials (configuration: hook headers, an app key VTEX echoes) and is masked first.
    """

    name: str
    output_schema: dict[str, Any] = field(repr=False)
    project: Callable[..., Result] = field(repr=False)
    container: type | None = None
    text: Callable[[Result, str], str] | None = field(default=None, repr=False)
    redact: bool = False
    store_format: bool = False

    def render(self, document: Any, *, full: bool = False, store: dict[str, Any] | None = None) -> Result:
        return self.project(document, full, store) if self.store_format else self.project(document, full)


_OBJ: dict[str, Any] = {"type": "object"}
# No ``items``: "each row is an object" told a client nothing it needed, and a client that checks
# structuredContent against the output schema (the Python SDK's does) walked every row for it,
# 500 times for an all_pages listing.
_ARR: dict[str, Any] = {"type": "array"}


def _schema(**props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props)}


def _orders(data: Any, full: bool) -> Result:
    data = data or {}
    out = {"orders": [compact_order_row(r) for r in data.get("list") or []], "paging": prune(data.get("paging") or {})}
    # Added by paging.py / ranges.py when a read goes past one page: counts by status, and what
    # the answer leaves out with the call that reads it.
    for key in ("byStatus", "truncated"):
        if data.get(key):
            out[key] = data[key]
    return out


ORDER = View(
    "order",
    _schema(order=_OBJ),
    lambda data, full: {"order": data if full else compact_order(data or {})},
    container=dict,
    text=lambda result, subject: order_text(result["order"]),
)
ORDER_GROUP = View(
    "order_group",
    _schema(orders=_ARR),
    lambda data, full: {"orders": data if full else [compact_order(o) for o in data or []]},
    container=list,
)
# byStatus and truncated, when present, are extra properties: not spelled out, as they would cost
# tokens in every tools/list for two tools.
ORDERS = View("orders", _schema(orders=_ARR, paging=_OBJ), _orders, container=dict)
CONVERSATION = View(
    "conversation",
    _schema(messages=_ARR),
    lambda data, full: {"messages": compact_conversation(data)},
    container=list,
    text=lambda result, subject: conversation_text(subject, result["messages"]),
)
PAYMENT = View(
    "payment",
    _schema(transaction=_OBJ),
    lambda data, full, store: {"transaction": compact_payment(data, store)},
    container=dict,
    text=lambda result, subject: payment_text(subject, result["transaction"]),
    store_format=True,
)
RAW = View("raw", _schema(result={}), lambda data, full: {"result": data}, redact=True)
