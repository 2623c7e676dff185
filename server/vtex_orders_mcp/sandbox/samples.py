"""A sample of the seeded orders by status: what `vtex-orders-mcp sandbox --list` prints.

Eval authors pick orders by what they are (an order in handling paid by Boleto, a partially
invoiced one, an incomplete one); this lists them for one seed and size, with what a scenario
needs next: the SKUs and their quantities and unit prices (modifications, invoices), the payment
system (which price increases VTEX allows), the customer's e-mail (customer order lists) and the
traits that change what VTEX accepts. Order ids, statuses and items depend on the seed and the
number of orders only, not on the clock, so the list holds for any scenario `now`.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import invoicing
from .core import Sandbox

__all__ = ["STATUS_ORDER", "sample_lines"]

# Workflow order, then the ends; a status not listed here comes last.
STATUS_ORDER = (
    "order-created",
    "payment-pending",
    "payment-approved",
    "window-to-cancel",
    "waiting-for-sellers-confirmation",
    "ready-for-handling",
    "handling",
    "waiting-for-fulfillment",
    "ready-for-invoicing",
    "invoiced",
    "canceled",
)


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _traits(order: dict, group_size: int) -> list[str]:
    traits = []
    if order["orderId"] == "v502556llux-01":
        traits.append("VTEX's example order")
    if invoicing.is_partially_invoiced(order):
        traits.append("partially invoiced")
    if invoicing.has_input_invoice(order):
        traits.append("has a return invoice")
    if not order.get("isCompleted", True):
        traits.append("incomplete")
    if order.get("origin") == "Fulfillment":
        traits.append("Fulfillment")
    if order.get("affiliateId"):
        traits.append(f"affiliate {order['affiliateId']}")
    if group_size > 1:
        traits.append(f"group of {group_size}")
    return traits


def _line(order: dict, group_size: int) -> str:
    payments = ", ".join(
        dict.fromkeys(
            str(p.get("paymentSystemName"))
            for t in (order.get("paymentData") or {}).get("transactions") or []
            for p in t.get("payments") or []
        )
    )
    skus = ", ".join(
        f"{i['id']} x{i['quantity']} @{_money(int(i.get('sellingPrice') or 0))}" for i in order.get("items") or []
    )
    email = (order.get("clientProfileData") or {}).get("email") or ""
    traits = _traits(order, group_size)
    tail = f"  [{'; '.join(traits)}]" if traits else ""
    total = sum(int(t.get("value") or 0) for t in order.get("totals") or [])
    return f"  {order['orderId']:<18} {payments:<24} {_money(total):>10}  {skus}  {email}{tail}"


def sample_lines(sandbox: Sandbox, per_status: int = 5) -> Iterable[str]:
    """Lines of text: a header, then per status its count and up to ``per_status`` orders (0: all),
    ordered by orderId, each with payment, total (sum of totals, in currency units), SKUs and
    e-mail."""
    orders = sorted(sandbox.store.orders.values(), key=lambda o: o["orderId"])
    groups: dict[str, int] = {}
    for order in orders:
        groups[order.get("orderGroup") or ""] = groups.get(order.get("orderGroup") or "", 0) + 1
    by_status: dict[str, list[dict]] = {}
    for order in orders:
        by_status.setdefault(order["status"], []).append(order)
    rank = {status: n for n, status in enumerate(STATUS_ORDER)}
    yield (
        f"Seeded orders: seed {sandbox.seed}, {len(orders)} orders "
        "(eval scenarios default to seed 7 and 40 orders: --orders 40)."
    )
    yield "Columns: orderId, payment, total, SKU xquantity @unit price, customer e-mail, [traits]."
    for status in sorted(by_status, key=lambda s: (rank.get(s, len(rank)), s)):
        found = by_status[status]
        shown = found if per_status <= 0 else found[:per_status]
        yield ""
        yield f"{status} ({len(shown)} of {len(found)})"
        for order in shown:
            yield _line(order, groups.get(order.get("orderGroup") or "", 1))
