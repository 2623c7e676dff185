"""The 36 operations of the VTEX Orders API, declared once each.

An ``Operation`` is data: tool name, HTTP method and path template (spelled as in VTEX's index),
input model, kind (``read`` | ``write`` | ``destructive``), idempotency, upstream timeout,
deprecation, view and a description written for the model that picks tools. Everything else is
derived from it: the MCP tools and their annotations (``tools.py``), the guard's policy
(``guard.py``: every non-``read`` operation needs a human's approval), the retry policy
(``client.py``: reads are retried, writes never are), the schemas in ``tool_schemas/`` and the
README's tool table. Adding an endpoint is one entry here plus its input model.

Order follows VTEX's index (seed 000). ``kind`` is explicit on every entry (no default) because
an unset read/write flag is how agents end up cancelling orders without asking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import quote

from pydantic import BaseModel

from . import models as m
from .models import KEEP_NULL, LOCAL, PATH, Query

__all__ = ["Operation", "OPERATIONS", "BY_NAME", "TOOLSETS", "Request", "build_request", "offered"]

Kind = Literal["read", "write", "destructive"]
View = Literal["order", "orders", "order_group", "conversation", "payment", "raw"]

ACCOUNT = "{account}"  # placeholder the client fills with the configured account name


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, Any]
    body: Any | None
    subject: str = ""  # the first path id (an orderId, usually), for messages


# Toolsets: an operator lists only the groups a deployment needs (VTEX_MCP_TOOLSETS), so a support
# desk's assistant does not carry feed and hook plumbing in its context. Each operation's ``group``
# is its toolset; the descriptions are what `--help` and configuration errors show.
TOOLSETS: dict[str, str] = {
    "orders": "get, list, cancel and start handling orders; interaction notes; the deprecated register changes",
    "modifications": "preview, create, follow, retry and cancel order modifications; their settings",
    "invoice": "invoices (sale and return), tracking numbers and delivery events",
    "conversation": "e-mails exchanged with the customer",
    "payment": "payment transactions and payment notifications",
    "feed": "the order feed (v3, and the deprecated v2 status) and its JSONata filters",
    "hook": "the order hook: which updates are POSTed to which URL",
    "user": "orders as one customer sees them, by e-mail",
    "checkout": "the window during which another seller may take a canceled order",
}


@dataclass(frozen=True)
class Operation:
    name: str
    title: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    args: type[m.Args]
    kind: Kind
    description: str
    group: str
    idempotent: bool = False
    timeout: float | None = None  # seconds; None = Settings.timeout
    deprecated_by: str | None = None
    view: View = "raw"
    fixed_query: Mapping[str, str] = field(default_factory=dict)
    extra_query: Callable[[Any], dict[str, Any]] | None = None
    # A scope for the guard's summary: which argument names the order this write touches.
    order_arg: str | None = None
    # False for the writes VTEX documents as answering 2xx without content (ORDERS_API_NOTES #4,
    # #7, #13, #16, #17, #19, #22, #28, #33): the client passes stray plain text on for them,
    # where every other operation must answer JSON or nothing.
    answers_document: bool = True
    # Whether an approval of this write holds only for the order as the user saw it (guard.py
    # order_state). False for a note: it does not depend on the order's state, nor change it.
    state_bound: bool = True

    @property
    def read_only(self) -> bool:
        return self.kind == "read"

    @property
    def destructive(self) -> bool:
        return self.kind == "destructive"

    def retries(self, configured: int) -> int:
        """How many times a failed call may be resent. Reads: ``configured``. Idempotent writes: at
        most once, and only when VTEX provably did not apply the first attempt (see client.py).
        Other writes: never; a lost answer is reported as "outcome unknown", not resent."""
        if self.read_only:
            return configured
        return min(1, configured) if self.idempotent else 0


def _where(model: type[BaseModel], name: str) -> Any:
    for meta in model.model_fields[name].metadata:
        if isinstance(meta, Query) or meta is PATH or meta is LOCAL:
            return meta
    return None


def build_request(op: Operation, args: m.Args, account: str) -> Request:
    """Split validated ``args`` into path variables, query parameters and a JSON body."""
    path_vars: dict[str, str] = {}
    query: dict[str, Any] = {}
    body_fields: set[str] = set()
    null_fields: list[str] = []
    for name in type(args).model_fields:
        value = getattr(args, name)
        where = _where(type(args), name)
        if where is PATH:
            path_vars[name] = str(value)
        elif isinstance(where, Query):
            if value is not None:
                query[where.name or name] = str(value).lower() if isinstance(value, bool) else value
        elif where is None:
            body_fields.add(name)
            if value is None and KEEP_NULL in type(args).model_fields[name].metadata:
                null_fields.append(name)
    for key, val in op.fixed_query.items():
        query[key] = account if val == ACCOUNT else val
    if op.extra_query is not None:
        query.update(op.extra_query(args))
    path = op.path.format(**{k: quote(v, safe="") for k, v in path_vars.items()})
    json_body: dict[str, Any] | None = None
    if body_fields and op.method != "GET":
        # pydantic serializes: aliases (`from`), cents-as-string fields, dates; unset optionals omitted.
        json_body = args.model_dump(mode="json", by_alias=True, include=body_fields, exclude_none=True)
        json_body.update(dict.fromkeys(null_fields))
    return Request(op.method, path, query, json_body, next(iter(path_vars.values()), ""))


def _creation_range(args: m.ListOrders) -> dict[str, Any]:
    if args.created_from is None and args.created_to is None:
        return {}

    def iso(dt: Any) -> str:
        if dt is None:
            return "*"
        from datetime import timezone

        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"

    return {"f_creationDate": f"creationDate:[{iso(args.created_from)} TO {iso(args.created_to)}]"}


def _op(**kw: Any) -> Operation:
    return Operation(**kw)


AN = {"an": ACCOUNT}

OPERATIONS: tuple[Operation, ...] = (
    # --- Orders ---
    _op(name="get_order", title="Get order", method="GET", path="/api/oms/pvt/orders/{orderId}",
        args=m.GetOrder, kind="read", group="orders", view="order",
        description="Get one order by orderId: status, customer, items, totals, shipping, payment, "
                    "invoices. Compact view by default."),
    _op(name="get_order_group", title="Get order group", method="GET",
        path="/api/oms/pvt/orders/order-group/{orderGroup}", args=m.GetOrderGroup, kind="read",
        group="orders", view="order_group",
        description="Get every seller order of one purchase (orderGroup = orderId without -NN)."),
    _op(name="list_orders", title="List orders", method="GET", path="/api/oms/pvt/orders",
        args=m.ListOrders, kind="read", group="orders", view="orders", extra_query=_creation_range,
        description="Search orders by text, status, creation date or sales channel; newest first. "
                    "Rows only: call get_order for details."),
    _op(name="start_handling", answers_document=False, title="Start handling order", method="POST",
        path="/api/oms/pvt/orders/{orderId}/start-handling", args=m.OrderOnly, kind="write",
        group="orders", order_arg="orderId",
        description="Move an order from ready-for-handling to handling."),
    _op(name="cancel_order", title="Cancel order", method="POST", path="/api/oms/pvt/orders/{orderId}/cancel",
        args=m.CancelOrder, kind="destructive", group="orders", order_arg="orderId",
        description="Cancel an order. Invoiced or partially invoiced orders cannot be canceled: "
                    "register a return (invoice_order type Input) instead."),
    _op(name="register_order_changes", title="Register order changes (deprecated)", method="POST",
        path="/api/oms/pvt/orders/{orderId}/changes", args=m.RegisterChanges, kind="destructive",
        group="orders", timeout=20.0, deprecated_by="create_order_modification", order_arg="orderId",
        description="Deprecated by VTEX: use create_order_modification. Adds/removes items or "
                    "discounts an order in handling."),
    _op(name="add_order_interaction", answers_document=False, state_bound=False, title="Add order interaction",
        method="POST", path="/api/oms/pvt/orders/{orderId}/interactions", args=m.AddInteraction, kind="write",
        group="orders", order_arg="orderId",
        description="Append a note to the order's interaction log (additive, changes nothing else)."),
    # --- Order modifications ---
    _op(name="get_order_change_summary", title="Get order modifications summary", method="GET",
        path="/api/orders/pvt/document/{orderId}/change-summary", args=m.OrderOnly, kind="read",
        group="modifications",
        description="Net effect of all modifications on an order: original, added, removed items, value change."),
    _op(name="create_order_modification", title="Create order modification", method="PATCH",
        path="/api/order-system/orders/{changeOrderId}/changes", args=m.CreateModification,
        kind="destructive", group="modifications", fixed_query={"accountName": ACCOUNT}, timeout=20.0,
        order_arg="changeOrderId",
        description="Add, remove or replace items of an order in handling. Run "
                    "preview_order_modification first."),
    _op(name="get_order_modification_history", title="Get order modifications history", method="GET",
        path="/api/order-system/orders/{changeOrderId}/changes", args=m.ModificationHistory, kind="read",
        group="modifications", fixed_query=AN,
        description="All modification requests of an order with their status."),
    _op(name="get_order_modification", title="Get order modification details", method="GET",
        path="/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}", args=m.ModificationRef,
        kind="read", group="modifications", fixed_query=AN,
        description="One modification request: status, items, value change."),
    _op(name="preview_order_modification", title="Preview order modification", method="POST",
        path="/api/order-system/orders/{changeOrderId}/changes/preview", args=m.PreviewModification,
        kind="read", group="modifications", fixed_query=AN,
        description="Dry run of a modification: the new totals, nothing is changed."),
    _op(name="retry_order_modification", answers_document=False, title="Retry order modification", method="POST",
        path="/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/retry",
        args=m.RetryModification, kind="write", group="modifications", fixed_query=AN, timeout=20.0,
        order_arg="changeOrderId",
        description="Retry a modification that stopped on an error, without creating a new one."),
    _op(name="cancel_order_modification", title="Cancel order modification", method="POST",
        path="/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/cancel",
        args=m.CancelModification, kind="destructive", group="modifications", fixed_query=AN,
        order_arg="changeOrderId",
        description="Cancel a modification that did not finish; done ones cannot be canceled."),
    _op(name="update_order_modification_settings", title="Update order modifications settings",
        method="PUT", path="/api/order-system/orders/changes/settings", args=m.UpdateModSettings,
        kind="write", idempotent=True, group="modifications", fixed_query=AN,
        description="Change the account's order-modification settings (enable API, payment systems, "
                    "recalculation). Applies to every order."),
    _op(name="get_order_modification_settings", title="Get order modifications settings", method="GET",
        path="/api/order-system/orders/changes/settings", args=m.NoArgs, kind="read",
        group="modifications", fixed_query=AN,
        description="Account settings for order modifications; modifications need enableApi true."),
    # --- Invoice / tracking ---
    _op(name="invoice_order", title="Send invoice notification", method="POST",
        path="/api/oms/pvt/orders/{orderId}/invoice", args=m.InvoiceOrder, kind="destructive",
        group="invoice", order_arg="orderId",
        description="Register an invoice: Output (sale; the full value makes the order invoiced) or "
                    "Input (return, after full invoicing). Irreversible."),
    _op(name="update_invoice_tracking", title="Send invoice tracking number", method="PATCH",
        path="/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}", args=m.InvoiceTracking,
        kind="write", idempotent=True, group="invoice", order_arg="orderId",
        description="Attach courier and tracking number to an existing invoice."),
    _op(name="update_tracking_status", title="Update tracking status", method="PUT",
        path="/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking", args=m.TrackingStatus,
        kind="write", idempotent=True, group="invoice", order_arg="orderId",
        description="Record delivery events for an invoice that already has a tracking number."),
    # --- Conversation / payment ---
    _op(name="get_order_conversation", title="Get order conversation", method="GET",
        path="/api/oms/pvt/orders/{orderId}/conversation-message", args=m.OrderOnly, kind="read",
        group="conversation", view="conversation",
        description="E-mails exchanged with the customer about an order, newest first."),
    _op(name="get_payment_transaction", title="Get payment transaction", method="GET",
        path="/api/oms/pvt/orders/{orderId}/payment-transaction", args=m.OrderOnly, kind="read",
        group="payment", view="payment",
        description="The order's payment transaction: status and each payment. Finished means settled: "
                    "no more modifications."),
    _op(name="send_payment_notification", answers_document=False, title="Send payment notification", method="POST",
        path="/api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification",
        args=m.PaymentNotification, kind="write", group="payment", order_arg="orderId",
        description="Tell VTEX a payment (e.g. boleto) was received, approving a payment-pending order."),
    # --- Feed v2 (deprecated) ---
    _op(name="get_feed_v2_status", title="Get feed order status (deprecated)", method="GET",
        path="/api/oms/pvt/feed/orders/status", args=m.FeedV2Status, kind="read", group="feed",
        deprecated_by="get_feed_items",
        description="Deprecated Feed v2: use get_feed_items."),
    # --- Feed v3 ---
    _op(name="get_feed_config", title="Get feed configuration", method="GET", path="/api/orders/feed/config",
        args=m.NoArgs, kind="read", group="feed",
        description="The feed's filter and queue settings and how many items wait."),
    _op(name="set_feed_config", answers_document=False, title="Create or update feed configuration", method="POST",
        path="/api/orders/feed/config", args=m.FeedConfig, kind="destructive", idempotent=True,
        group="feed", description="Replace the feed's filter (statuses or JSONata) and queue settings."),
    _op(name="delete_feed_config", answers_document=False, title="Delete feed configuration", method="DELETE",
        path="/api/orders/feed/config", args=m.NoArgs, kind="destructive", idempotent=True, group="feed",
        description="Delete the feed and its queued items."),
    _op(name="get_feed_items", title="Retrieve feed items", method="GET", path="/api/orders/feed",
        args=m.FeedItems, kind="read", group="feed",
        description="Next order updates from the feed; they hide until the visibility timeout. "
                    "Commit handles once processed."),
    _op(name="commit_feed_items", answers_document=False, title="Commit feed items", method="POST", path="/api/orders/feed",
        args=m.CommitFeed, kind="destructive", group="feed",
        description="Remove processed items from the feed by handle."),
    _op(name="test_jsonata_expression", title="Test JSONata expression", method="POST",
        path="/api/orders/expressions/jsonata", args=m.JsonataTest, kind="read", group="feed",
        description="Check whether a JSON document matches a JSONata feed filter."),
    # --- Order hook ---
    _op(name="get_hook_config", title="Get hook configuration", method="GET", path="/api/orders/hook/config",
        args=m.NoArgs, kind="read", group="hook",
        description="The order hook's filter and the URL order updates are POSTed to."),
    _op(name="set_hook_config", title="Create or update hook configuration", method="POST",
        path="/api/orders/hook/config", args=m.HookConfig, kind="destructive", idempotent=True,
        group="hook", description="Replace the order hook: which updates are POSTed to which https URL."),
    _op(name="delete_hook_config", answers_document=False, title="Delete hook configuration", method="DELETE",
        path="/api/orders/hook/config", args=m.NoArgs, kind="destructive", idempotent=True, group="hook",
        description="Delete the order hook: VTEX stops POSTing order updates."),
    # --- User orders ---
    _op(name="list_user_orders", title="List a customer's orders", method="GET", path="/api/oms/user/orders",
        args=m.UserOrders, kind="read", group="user", view="orders",
        description="Orders placed with one customer e-mail, as that customer sees them. To search all "
                    "orders use list_orders."),
    _op(name="get_user_order", title="Get a customer's order", method="GET",
        path="/api/oms/user/orders/{orderId}", args=m.UserOrder, kind="read", group="user", view="order",
        description="One order as its customer sees it; the e-mail must match."),
    # --- Change seller ---
    _op(name="get_change_seller_window", title="Get window to change seller", method="GET",
        path="/api/checkout/pvt/configuration/window-to-change-seller", args=m.NoArgs, kind="read",
        group="checkout", description="Days during which another seller may take a canceled order."),
    _op(name="set_change_seller_window", answers_document=False, title="Update window to change seller", method="POST",
        path="/api/checkout/pvt/configuration/window-to-change-seller", args=m.ChangeSellerWindow,
        kind="write", idempotent=True, group="checkout",
        description="Set the days during which another seller may take a canceled order."),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
assert len(BY_NAME) == len(OPERATIONS), "duplicate operation name"
assert all(op.kind in get_args(Kind) for op in OPERATIONS)
assert all(op.group in TOOLSETS for op in OPERATIONS), "operation outside every toolset"
assert all(op.answers_document or not op.read_only for op in OPERATIONS), "a read always answers a document"


def offered(*, read_only: bool, toolsets: frozenset[str] | None) -> tuple[Operation, ...]:
    """The operations a server with these settings lists as tools, in registry order: the one rule
    tools, prompts and the guard's confirm step share. ``toolsets`` None means all of them."""
    return tuple(
        op for op in OPERATIONS
        if (op.read_only or not read_only) and (toolsets is None or op.group in toolsets)
    )  # fmt: skip
