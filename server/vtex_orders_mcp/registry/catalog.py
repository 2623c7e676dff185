"""The 36 operations of the VTEX Orders API, declared once each, in the order of VTEX's index (seed 000).

``kind`` is explicit on every entry (no default) because an unset read/write flag is how agents
end up cancelling orders without asking. Everything specific to one operation is here: its
approval summary, the hint for a refusal, the status rule, paging, the resource that mirrors it
and an example call (see operation.py). Adding an endpoint is one entry here, its input model in
models.py and its handler in the sandbox; tools, the guard, schemas and docs follow.
"""

from __future__ import annotations

from typing import Any

from .. import models as m
from .. import statuses
from .. import views as v
from . import summaries as say
from .operation import ACCOUNT, Call, Example, Find, Operation, OrderResource, Paging, Ref, creation_range

__all__ = [
    "CARD_TOOL",
    "CHECK_TOOL",
    "CONFIRM_TOOL",
    "OPERATIONS",
    "ORDER_CANCEL",
    "ORDER_CONVERSATION",
    "ORDER_READ",
    "ORDER_SEARCH",
]

# The guard's own tools (tools.py builds them; the registry names them): the second step of the
# two-step token (only with --guard token), where an approval decided elsewhere stands, and the
# approval card's buttons (app-only: never offered to the model).
CONFIRM_TOOL = "confirm_write"
CHECK_TOOL = "check_approval"
CARD_TOOL = "decide_approval"
# The operations the server itself uses: reading an order (approval questions, outcome-unknown
# reports, resources) and searching orders (completions); the demo's session also reads a
# conversation and cancels.
ORDER_READ = "get_order"
ORDER_SEARCH = "list_orders"
ORDER_CONVERSATION = "get_order_conversation"
ORDER_CANCEL = "cancel_order"

AN = {"an": ACCOUNT}

# --- example values (ids from VTEX's example order, which the sandbox always holds) --------------
SEED = "v502556llux-01"
SEED_ITEM = {"id": "1234568358", "quantity": 1, "price": 3290}
CARD_ORDER = Find("list_orders", {"status": "handling", "per_page": 100}, "orders.[payment~Visa|Mastercard].orderId")
BOLETO_ORDER = Find("list_orders", {"status": "handling", "per_page": 100}, "orders.[payment~Boleto].orderId")
INVOICED = Find("list_orders", {"status": "invoiced"}, "orders.0.orderId")
PENDING = Find("list_orders", {"status": "payment-pending"}, "orders.0.orderId")
PAYMENT = Find("get_payment_transaction", {"order_id": PENDING}, "transaction.payments.0.id")


def _one_more(order: Find) -> dict[str, Any]:
    item = Find("get_order", {"order_id": order}, "order.items.0.sku")
    return {"order_id": order, "reason": "customer wants one more", "add": [{"id": item, "quantity": 1}]}


MODIFICATION = _one_more(CARD_ORDER)
# A boleto payment cannot grow: the modification stops on an error, to be retried or canceled.
STUCK = Call("create_order_modification", _one_more(BOLETO_ORDER))
INVOICE = {
    "order_id": SEED,
    "type": "Output",
    "invoice_number": "NF-1001",
    "invoice_value": 1160,
    "issuance_date": "2026-11-23T10:00:00-03:00",
    "items": [SEED_ITEM],
}
TRACKING = {
    "order_id": SEED,
    "invoice_number": "NF-1001",
    "tracking_number": "BR123456789BR",
    "courier": "Correios",
    "tracking_url": "https://tracking.example/BR123456789BR",
}
FEED = {"filter": {"status": ["handling", "canceled"]}}
HOOK = {
    "filter": {"expression": "value > 100", "disable_single_fire": False},
    "hook": {"url": "https://erp.example.com/vtex-hook", "headers": {"X-Key": "k"}},
}
READY = {"order_id": Find("list_orders", {"status": "ready-for-handling"}, "orders.0.orderId")}
# A feed with an update in it: configured, then an order moves.
FED = (Call("set_feed_config", FEED), Call("start_handling", READY))
CUSTOMER = Find("get_order", {"order_id": INVOICED}, "order.customer.email")


# One entry per operation, laid out by hand (the formatter would spread each over 20 lines).
# fmt: off
OPERATIONS: tuple[Operation, ...] = (
    # --- Orders ---
    Operation(
        name="get_order", title="Get order", method="GET", path="/api/oms/pvt/orders/{orderId}",
        args=m.GetOrder, kind="read", group="orders", view=v.ORDER,
        description="One order's status, customer, items, totals, shipping, payments, invoices; ids "
        "from list_orders.",
        resource=OrderResource("", "order", "Order", "The compact order view (same as get_order): status and its "
                               "meaning, customer, items, totals, shipping, payments, invoices, changes."),
        example=Example({"order_id": SEED}),
    ),
    Operation(
        name="get_order_group", title="Get order group", method="GET",
        path="/api/oms/pvt/orders/order-group/{orderGroup}", args=m.GetOrderGroup, kind="read",
        group="orders", view=v.ORDER_GROUP,
        description="Every seller's order of one purchase: order_group is order_id without -NN.",
        example=Example({"order_group": Find("get_order", {"order_id": SEED}, "order.group")}),
    ),
    Operation(
        name="list_orders", title="List orders", method="GET", path="/api/oms/pvt/orders",
        args=m.ListOrders, kind="read", group="orders", view=v.ORDERS, extra_query=creation_range,
        paging=Paging(),
        description="Search all orders by text, status, creation date or sales channel. "
        "Rows only: get_order has details.",
        example=Example({"status": "handling", "per_page": 5}),
    ),
    Operation(
        name="start_handling", title="Start handling order", method="POST",
        path="/api/oms/pvt/orders/{orderId}/start-handling", args=m.OrderOnly, kind="write",
        group="orders", order_arg="order_id", answers_document=False, rule=statuses.START_HANDLING,
        hint="Only ready-for-handling orders can start handling: read the order's status.",
        description="Move an order from ready-for-handling to handling.",
        example=Example(READY),
    ),
    Operation(
        name="cancel_order", title="Cancel order", method="POST", path="/api/oms/pvt/orders/{orderId}/cancel",
        args=m.CancelOrder, kind="destructive", group="orders", order_arg="order_id", summary=say.reason,
        rule=statuses.CANCEL,
        hint="Invoiced or partially invoiced orders cannot be canceled: register a return with "
        "invoice_order (type Input) instead.",
        conditions="cancel_order is refused for partially invoiced and incomplete orders, whatever the status; "
        "a return is an invoice_order of type Input once the order is fully invoiced.",
        description="Cancel an order not yet invoiced. For invoiced orders register a return: "
        "invoice_order type Input.",
        example=Example({"order_id": SEED, "reason": "customer asked"}),
    ),
    Operation(
        name="register_order_changes", title="Register order changes (deprecated)", method="POST",
        path="/api/oms/pvt/orders/{orderId}/changes", args=m.RegisterChanges, kind="destructive",
        group="orders", timeout=20.0, deprecated_by="create_order_modification", order_arg="order_id",
        summary=say.changes, rule=statuses.REGISTER_CHANGES,
        description="Deprecated by VTEX: use create_order_modification.",
        example=Example({"order_id": SEED, "request_id": "req-1", "reason": "out of stock", "discount_value": 100,
                         "items_removed": [SEED_ITEM]}),
    ),
    Operation(
        name="add_order_interaction", title="Add order interaction", method="POST",
        path="/api/oms/pvt/orders/{orderId}/interactions", args=m.AddInteraction, kind="write",
        group="orders", order_arg="order_id", answers_document=False, state_bound=False,
        summary=say.fields("source", "message"),
        description="Add an internal note to the order's log; e-mails are in get_order_conversation.",
        example=Example({"order_id": SEED, "source": "support", "message": "Customer called about delivery"}),
    ),
    # --- Order modifications ---
    Operation(
        name="get_order_change_summary", title="Get order modifications summary", method="GET",
        path="/api/orders/pvt/document/{orderId}/change-summary", args=m.OrderOnly, kind="read",
        group="modifications",
        description="Net effect of all an order's modifications; per request: get_order_modification_history.",
        example=Example({"order_id": SEED}),
    ),
    Operation(
        name="create_order_modification", title="Create order modification", method="PATCH",
        path="/api/order-system/orders/{changeOrderId}/changes", args=m.CreateModification,
        kind="destructive", group="modifications", fixed_query={"accountName": ACCOUNT}, timeout=20.0,
        order_arg="order_id", summary=say.modification, rule=statuses.MODIFY,
        hint="Orders can only be modified in handling, waiting-for-fulfillment or ready-for-invoicing, "
        "before the payment is settled.",
        conditions="create_order_modification is refused once the payment is settled (transaction Finished), "
        "and needs the account's order-modification API enabled (get_order_modification_settings).",
        description="Add, remove or replace items of an order in handling. Run "
        "preview_order_modification first.",
        example=Example(MODIFICATION),
    ),
    Operation(
        name="get_order_modification_history", title="Get order modifications history", method="GET",
        path="/api/order-system/orders/{changeOrderId}/changes", args=m.ModificationHistory, kind="read",
        group="modifications", fixed_query=AN,
        description="Every modification request of an order, with its status.",
        example=Example({"order_id": CARD_ORDER}, before=(Call("create_order_modification", MODIFICATION),)),
    ),
    Operation(
        name="get_order_modification", title="Get order modification details", method="GET",
        path="/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}", args=m.ModificationRef,
        kind="read", group="modifications", fixed_query=AN,
        description="One modification request; all of an order's: get_order_modification_history.",
        example=Example({"order_id": CARD_ORDER, "change_request_id": Ref(0, "result.requestId")},
                        before=(Call("create_order_modification", MODIFICATION),)),
    ),
    Operation(
        name="preview_order_modification", title="Preview order modification", method="POST",
        path="/api/order-system/orders/{changeOrderId}/changes/preview", args=m.PreviewModification,
        kind="read", group="modifications", fixed_query=AN,
        description="New totals a modification would give; changes nothing.",
        example=Example(MODIFICATION),
    ),
    Operation(
        name="retry_order_modification", title="Retry order modification", method="POST",
        path="/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/retry",
        args=m.RetryModification, kind="write", group="modifications", fixed_query=AN, timeout=20.0,
        order_arg="order_id", answers_document=False, summary=say.fields("change_request_id", "reason"),
        description="Retry a modification that stopped on an error, without creating a new one.",
        example=Example({"order_id": BOLETO_ORDER, "change_request_id": Ref(0, "result.requestId"),
                         "reason": "try again"}, before=(STUCK,), wait=60),
    ),
    Operation(
        name="cancel_order_modification", title="Cancel order modification", method="POST",
        path="/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/cancel",
        args=m.CancelModification, kind="destructive", group="modifications", fixed_query=AN,
        order_arg="order_id", summary=say.fields("change_request_id", "reason"),
        description="Cancel a modification that did not finish (the order itself: cancel_order).",
        example=Example({"order_id": BOLETO_ORDER, "change_request_id": Ref(0, "result.requestId"),
                         "reason": "customer changed their mind"}, before=(STUCK,), wait=60),
    ),
    Operation(
        name="update_order_modification_settings", title="Update order modifications settings",
        method="PUT", path="/api/order-system/orders/changes/settings", args=m.UpdateModSettings,
        kind="write", idempotent=True, group="modifications", fixed_query=AN, summary=say.as_sent,
        description="Change the account's order-modification settings, for every order.",
        example=Example({"rollout_configuration": {"enable_api": True}}),
    ),
    Operation(
        name="get_order_modification_settings", title="Get order modifications settings", method="GET",
        path="/api/order-system/orders/changes/settings", args=m.NoArgs, kind="read",
        group="modifications", fixed_query=AN,
        description="The account's order-modification settings; modifications need enableApi true.",
        example=Example({}),
    ),
    # --- Invoice / tracking ---
    Operation(
        name="invoice_order", title="Send invoice notification", method="POST",
        path="/api/oms/pvt/orders/{orderId}/invoice", args=m.InvoiceOrder, kind="destructive",
        group="invoice", order_arg="order_id", summary=say.invoice, rule=statuses.INVOICE,
        description="Register an irreversible invoice: Output (sale; full value invoices the order) or "
        "Input (return).",
        example=Example(INVOICE),
    ),
    Operation(
        name="update_invoice_tracking", title="Send invoice tracking number", method="PATCH",
        path="/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}", args=m.InvoiceTracking,
        kind="write", idempotent=True, group="invoice", order_arg="order_id", rule=statuses.TRACK,
        summary=say.fields("invoice_number", "courier", "tracking_number"),
        description="Add courier and tracking number to an invoice; delivery events: update_tracking_status.",
        example=Example(TRACKING, before=(Call("invoice_order", INVOICE),)),
    ),
    Operation(
        name="update_tracking_status", title="Update tracking status", method="PUT",
        path="/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking", args=m.TrackingStatus,
        kind="write", idempotent=True, group="invoice", order_arg="order_id", rule=statuses.TRACK,
        summary=say.fields("invoice_number", "is_delivered", "delivered_date"),
        conditions="update_tracking_status needs a tracking number on the invoice first (update_invoice_tracking).",
        description="Record delivery events of an invoice; needs update_invoice_tracking first.",
        example=Example(
            {"order_id": SEED, "invoice_number": "NF-1001", "is_delivered": True, "delivered_date": "2026-11-22 15:30",
             "events": [{"city": "Rio de Janeiro", "state": "RJ", "description": "Delivered",
                         "date": "2026-11-22T15:30:00Z"}]},
            before=(Call("invoice_order", INVOICE), Call("update_invoice_tracking", TRACKING)),
        ),
    ),
    # --- Conversation / payment ---
    Operation(
        name="get_order_conversation", title="Get order conversation", method="GET",
        path="/api/oms/pvt/orders/{orderId}/conversation-message", args=m.OrderOnly, kind="read",
        group="conversation", view=v.CONVERSATION,
        description="E-mails exchanged with the customer about an order, newest first.",
        resource=OrderResource("/conversation", "order-conversation", "Order conversation",
                               "E-mails exchanged with the customer about the order, newest first: from, to, "
                               "date, subject, body as text."),
        example=Example({"order_id": SEED}),
    ),
    Operation(
        name="get_payment_transaction", title="Get payment transaction", method="GET",
        path="/api/oms/pvt/orders/{orderId}/payment-transaction", args=m.OrderOnly, kind="read",
        group="payment", view=v.PAYMENT,
        description="The order's payment transaction; Finished means settled: no more modifications.",
        resource=OrderResource("/payment-transaction", "order-payment-transaction", "Order payment transaction",
                               "The order's payment transaction: status and each payment."),
        example=Example({"order_id": SEED}),
    ),
    Operation(
        name="send_payment_notification", title="Send payment notification", method="POST",
        path="/api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification",
        args=m.PaymentNotification, kind="write", group="payment", order_arg="order_id",
        answers_document=False, summary=say.fields("payment_id"), rule=statuses.NOTIFY_PAYMENT,
        description="Tell VTEX a payment-pending order's payment (e.g. boleto) was received.",
        example=Example({"order_id": PENDING, "payment_id": PAYMENT}),
    ),
    # --- Feed v2 (deprecated) ---
    Operation(
        name="get_feed_v2_status", title="Get feed order status (deprecated)", method="GET",
        path="/api/oms/pvt/feed/orders/status", args=m.FeedV2Status, kind="read", group="feed",
        deprecated_by="get_feed_items",
        description="Deprecated Feed v2: use get_feed_items.",
        example=Example({"max_lot": 5}),
    ),
    # --- Feed v3 ---
    Operation(
        name="get_feed_config", title="Get feed configuration", method="GET", path="/api/orders/feed/config",
        args=m.NoArgs, kind="read", group="feed",
        description="The feed's filter, queue settings and waiting items count.",
        example=Example({}, before=(Call("set_feed_config", FEED),)),
    ),
    Operation(
        name="set_feed_config", title="Create or update feed configuration", method="POST",
        path="/api/orders/feed/config", args=m.FeedConfig, kind="destructive", idempotent=True,
        group="feed", answers_document=False, summary=say.feed_filter,
        description="Replace the feed's filter (statuses or JSONata) and queue settings.",
        example=Example(FEED),
    ),
    Operation(
        name="delete_feed_config", title="Delete feed configuration", method="DELETE",
        path="/api/orders/feed/config", args=m.NoArgs, kind="destructive", idempotent=True, group="feed",
        answers_document=False,
        description="Delete the feed and its queued items.",
        example=Example({}, before=(Call("set_feed_config", FEED),)),
    ),
    Operation(
        name="get_feed_items", title="Retrieve feed items", method="GET", path="/api/orders/feed",
        args=m.FeedItems, kind="read", group="feed",
        description="Next order updates from the feed, hidden until the visibility timeout; then "
        "commit_feed_items.",
        example=Example({"max_lot": 5}, before=FED),
    ),
    Operation(
        name="commit_feed_items", title="Commit feed items", method="POST", path="/api/orders/feed",
        args=m.CommitFeed, kind="destructive", group="feed", answers_document=False, summary=say.handles,
        description="Remove processed items from the feed by handle.",
        example=Example({"handles": Find("get_feed_items", {"max_lot": 10}, "result.*.handle")}, before=FED),
    ),
    Operation(
        name="test_jsonata_expression", title="Test JSONata expression", method="POST",
        path="/api/orders/expressions/jsonata", args=m.JsonataTest, kind="read", group="feed",
        description="Check whether a JSON document matches a JSONata feed filter.",
        example=Example({"expression": 'status = "canceled"', "document": '{"status": "canceled"}'}),
    ),
    # --- Order hook ---
    Operation(
        name="get_hook_config", title="Get hook configuration", method="GET", path="/api/orders/hook/config",
        args=m.NoArgs, kind="read", group="hook",
        description="The order hook's filter and the URL order updates are POSTed to.",
        example=Example({}, before=(Call("set_hook_config", HOOK),)),
    ),
    Operation(
        name="set_hook_config", title="Create or update hook configuration", method="POST",
        path="/api/orders/hook/config", args=m.HookConfig, kind="destructive", idempotent=True,
        group="hook", summary=say.hook,
        description="Replace the order hook: which updates are POSTed to which https URL.",
        example=Example(HOOK),
    ),
    Operation(
        name="delete_hook_config", title="Delete hook configuration", method="DELETE",
        path="/api/orders/hook/config", args=m.NoArgs, kind="destructive", idempotent=True, group="hook",
        answers_document=False,
        description="Delete the order hook: VTEX stops POSTing order updates.",
        example=Example({}, before=(Call("set_hook_config", HOOK),)),
    ),
    # --- User orders ---
    Operation(
        name="list_user_orders", title="List a customer's orders", method="GET", path="/api/oms/user/orders",
        args=m.UserOrders, kind="read", group="user", view=v.ORDERS,
        description="Orders of one customer e-mail, as the customer sees them; list_orders searches all.",
        example=Example({"client_email": CUSTOMER}),
    ),
    Operation(
        name="get_user_order", title="Get a customer's order", method="GET",
        path="/api/oms/user/orders/{orderId}", args=m.UserOrder, kind="read", group="user", view=v.ORDER,
        description="One order as its customer sees it, checking the e-mail; get_order shows more.",
        example=Example({"order_id": INVOICED, "client_email": CUSTOMER}),
    ),
    # --- Change seller ---
    Operation(
        name="get_change_seller_window", title="Get window to change seller", method="GET",
        path="/api/checkout/pvt/configuration/window-to-change-seller", args=m.NoArgs, kind="read",
        group="checkout", description="Days during which another seller may take a canceled order.",
        example=Example({}),
    ),
    Operation(
        name="set_change_seller_window", title="Update window to change seller", method="POST",
        path="/api/checkout/pvt/configuration/window-to-change-seller", args=m.ChangeSellerWindow,
        kind="write", idempotent=True, group="checkout", answers_document=False, summary=say.fields("waiting_time"),
        description="Set the days during which another seller may take a canceled order.",
        example=Example({"waiting_time": 3}),
    ),
)
# fmt: on
