"""What each order status means and which tools can act on it.

One table, read by the compact order view (``status`` + its meaning), the order-status
reference resource and the guard's summaries. The "allows" column mirrors the rules VTEX states
and the sandbox enforces (``sandbox/oms.py``; tests/test_statuses.py checks the two agree):
start-handling only from ready-for-handling; no cancel once invoiced; modifications only in
handling / waiting-for-fulfillment / ready-for-invoicing.
"""

from __future__ import annotations

__all__ = ["STATUS_INFO", "meaning", "MODIFIABLE", "CANCEL_REFUSED"]

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


def meaning(status: str) -> str:
    info = STATUS_INFO.get(status)
    return info[0] if info else "status not documented by VTEX"
