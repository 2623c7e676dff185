"""Which orders may be modified, as VTEX states it, and how the sandbox decides the unstated part.

VTEX: an order can be modified only in `handling`, `waiting-for-fulfillment` or "ready for
invoicing" (`ALLOWED_STATUSES`), and not once its payment transaction is complete; "Increasing the
price of an order is allowed only when the order was paid by credit card, payable notes, cash, or
credit control" (`PRICE_INCREASE_GROUPS`, plus the account's `customPaymentSystemsAllowed`).

The seeded orders carry no transaction status, so settlement is inferred: see `payment_finished`
(meta `transactionStatus` "Finished", or Output invoices covering the whole value). The OMS
routes use the same function for a transaction's "Finished" status (oms.py `_transaction_status`).
The checks themselves are `ModificationsService.check_modifiable` / `price_increase_allowed`.
"""

from __future__ import annotations

__all__ = ["ALLOWED_STATUSES", "PRICE_INCREASE_GROUPS", "payment_finished"]

ALLOWED_STATUSES = ("handling", "waiting-for-fulfillment", "ready-for-invoicing")
# Payment groups VTEX names for "credit card, payable notes (promissory), cash, credit control".
PRICE_INCREASE_GROUPS = frozenset({"creditCard", "promissory", "cash", "creditControl"})


def payment_finished(order: dict, meta: dict) -> bool:
    """Whether the order's payment transaction is complete ("Finished" in Transaction Details).

    The seeded documents carry no transaction status (VTEX's order document has none), so the
    sandbox derives it: the transaction is Finished when the store's private meta says so
    (`meta["transactionStatus"] == "Finished"`, which tests and fault scenarios can set) or when
    Output invoices cover the whole order value (VTEX settles the payment on invoicing; a partial
    invoice settles only part of it, and the spec says a partially invoiced order can still be
    changed).
    """
    if str(meta.get("transactionStatus", "")).lower() == "finished":
        return True
    packages = (order.get("packageAttachment") or {}).get("packages") or []
    invoiced = sum(int(p.get("invoiceValue") or 0) for p in packages if p.get("type", "Output") == "Output")
    # Compared with the totals, not `value`: VTEX lowers `value` to the invoiced amount on a partial
    # invoice, while totals[] keep the order's full amount.
    full = sum(int(t.get("value") or 0) for t in order.get("totals") or []) or int(order.get("value") or 0)
    return invoiced > 0 and invoiced >= full
