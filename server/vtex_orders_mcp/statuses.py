"""What each order status means and which tools can act on it.

Two tables. ``STATUS_INFO`` holds the statuses an order rests in, with the tools that act on an
order in each; it is read by the compact order view (``status`` + its meaning), the order-status
reference resource and the guard's summaries. Its "allows" column mirrors the rules VTEX states
and the sandbox enforces (``sandbox/oms.py``; tests/test_resources.py checks the two agree):
start-handling only from ready-for-handling; no cancel once invoiced; modifications only in
handling / waiting-for-fulfillment / ready-for-invoicing.

``OTHER_STATUSES`` gives a meaning to every other status VTEX documents (the Feed v3 filter
list, the hook example): workflow steps VTEX only names and states no rule for, so they carry
no "allows" column (claiming tools for them would be invented behaviour). Their meanings are
read from the status names, conservatively; ``meaning()`` reads both tables.
"""

from __future__ import annotations

__all__ = ["CANCEL_REFUSED", "MODIFIABLE", "OTHER_STATUSES", "STATUS_INFO", "meaning"]

MODIFIABLE = frozenset({"handling", "waiting-for-fulfillment", "ready-for-invoicing"})
CANCEL_REFUSED = frozenset({"invoiced", "canceled", "cancel", "invoice"})

# status -> (meaning, tools that act on an order in this status)
STATUS_INFO: dict[str, tuple[str, tuple[str, ...]]] = {
    "order-created": ("order placed, not yet processed", ("cancel_order", "send_payment_notification")),
    "waiting-for-sellers-confirmation": ("waiting for the sellers to confirm", ("cancel_order",)),
    "payment-pending": ("waiting for payment", ("cancel_order", "send_payment_notification")),
    "payment-approved": ("payment approved", ("cancel_order",)),
    "window-to-cancel": ("customer's grace period to cancel", ("cancel_order",)),
    "ready-for-handling": ("paid, ready to be prepared", ("start_handling", "cancel_order", "invoice_order")),
    "handling": (
        "being prepared for shipping",
        ("invoice_order", "cancel_order", "create_order_modification"),
    ),
    "waiting-for-fulfillment": (
        "waiting for the fulfillment seller",
        ("invoice_order", "cancel_order", "create_order_modification"),
    ),
    "ready-for-invoicing": (
        "ready to be invoiced",
        ("invoice_order", "cancel_order", "create_order_modification"),
    ),
    "invoiced": (
        "invoiced (shipped); cannot be canceled, returns use an Input invoice",
        ("invoice_order", "update_invoice_tracking", "update_tracking_status"),
    ),
    "cancellation-requested": ("cancellation requested, waiting for the seller", ("cancel_order",)),
    "canceled": ("canceled", ()),
}


# status -> meaning, for the documented statuses not in STATUS_INFO. "window-to-change-seller" is
# the only one VTEX describes (GetWindowToChangeSeller); the others are read from their names.
OTHER_STATUSES: dict[str, str] = {
    "on-order-completed": "order completion being processed",
    "on-order-completed-ffm": "order completion being processed for the fulfillment seller",
    "order-completed": "order completed",
    "waiting-for-order-authorization": "waiting for the order to be authorized",
    "approve-payment": "payment being approved",
    "request-cancel": "cancellation being requested",
    "waiting-for-seller-decision": "waiting for the seller's decision",
    "waiting-ffmt-authorization": "waiting for the fulfillment seller's authorization",
    "waiting-for-authorization": "waiting for authorization",
    "waiting-for-manual-authorization": "waiting for a manual authorization",
    "authorize-fulfillment": "fulfillment being authorized",
    "order-create-error": "error while creating the order",
    "order-creation-error": "error while creating the order",
    "window-to-change-seller": "period in which another seller can be chosen after the original seller canceled",
    "waiting-for-mkt-authorization": "waiting for the marketplace's authorization",
    "waiting-seller-handling": "waiting for the seller to handle the order",
    "start-handling": "handling being started",
    "invoice-after-cancellation-deny": "being invoiced after a cancellation request was denied",
    "order-accepted": "order accepted",
    "invoice": "invoice being registered",
    "replaced": "replaced by another order",
    "cancel": "being canceled",
}


def meaning(status: str) -> str:
    info = STATUS_INFO.get(status)
    if info:
        return info[0]
    return OTHER_STATUSES.get(status) or "status not documented by VTEX"
