"""VTEX's order statuses and the rules VTEX states about them: the one table the server reads.

Three things live here:

- ``MEANINGS``: every status VTEX documents, with what it means. The first twelve (``MAIN``) are
  the ones an order rests in, in the order of the happy path; the others are workflow steps VTEX
  only names (the Feed v3 filter list, the hook example), read from their names conservatively.
- ``Rule``: where an action on an order may run. Each rule says which statuses allow the action
  (``allowed``, what the status reference lists), whether VTEX documents those as the *only*
  ones (``only``), and which conditions on the order document refuse it whatever the status
  (``refusal``: partially invoiced, incomplete, payment settled). What an operation may do is
  attached to it in the registry (``Operation.rule``), so no table here names a tool.
- ``meaning`` and ``Rule.refusal``: what the compact order view (``statusMeaning``,
  ``canCancel``), the guard (preconditions checked before a human is asked), error hints and the
  order-status reference all read.

Only what VTEX documents refuses a call (docs/VTEX_ORDERS_API.md §2): start-handling only from
ready-for-handling; no cancel once invoiced, for partially invoiced or incomplete orders;
register-changes and modifications only in handling / waiting-for-fulfillment /
ready-for-invoicing, and modifications not once the payment is settled. The rest of ``allowed``
guides the model and is not enforced here (VTEX has the last word).

The embedded sandbox implements these rules again, on its own, in ``sandbox/oms.py`` and
``sandbox/modifications/rules.py``, written from VTEX's documentation and deliberately not
importing this module: it is the independent check of the server (tests/test_resources.py probes
the reference against what the sandbox accepts, status by status).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CANCEL",
    "INVOICE",
    "MAIN",
    "MEANINGS",
    "MODIFY",
    "NOTIFY_PAYMENT",
    "REGISTER_CHANGES",
    "START_HANDLING",
    "TRACK",
    "Refusal",
    "Rule",
    "meaning",
]

Order = Mapping[str, Any]

# The statuses an order rests in, in the order of the happy path, then its alternative ends.
MAIN: tuple[str, ...] = (
    "order-created",
    "waiting-for-sellers-confirmation",
    "payment-pending",
    "payment-approved",
    "window-to-cancel",
    "ready-for-handling",
    "handling",
    "waiting-for-fulfillment",
    "ready-for-invoicing",
    "invoiced",
    "cancellation-requested",
    "canceled",
)

MEANINGS: dict[str, str] = {
    "order-created": "order placed, not yet processed",
    "waiting-for-sellers-confirmation": "waiting for the sellers to confirm",
    "payment-pending": "waiting for payment",
    "payment-approved": "payment approved",
    "window-to-cancel": "customer's grace period to cancel",
    "ready-for-handling": "paid, ready to be prepared",
    "handling": "being prepared for shipping",
    "waiting-for-fulfillment": "waiting for the fulfillment seller",
    "ready-for-invoicing": "ready to be invoiced",
    "invoiced": "invoiced (shipped); cannot be canceled, returns use an Input invoice",
    "cancellation-requested": "cancellation requested, waiting for the seller",
    "canceled": "canceled",
    # Documented statuses an order passes through; "window-to-change-seller" is the only one VTEX
    # describes (GetWindowToChangeSeller), the others are read from their names.
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
    return MEANINGS.get(status) or "status not documented by VTEX"


# --- conditions on the order document ------------------------------------------------------------


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _cents(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def partially_invoiced(order: Order) -> bool:
    """Some of the order is invoiced (an Output invoice) but it is not ``invoiced`` yet. (VTEX updates
    the order's value after a partial invoice, so the invoiced sum is not compared with it.)"""
    packages = _dicts((order.get("packageAttachment") or {}).get("packages"))
    invoiced = any(_cents(p.get("invoiceValue")) > 0 for p in packages if p.get("type", "Output") == "Output")
    return invoiced and order.get("status") != "invoiced"


def _cancel_refused(order: Order) -> Refusal | None:
    if partially_invoiced(order):
        return Refusal("VTEX does not allow canceling a partially invoiced order")
    if order.get("isCompleted") is False:
        return Refusal("VTEX does not allow canceling an incomplete order", hinted=False)
    return None


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why VTEX's rules refuse an action; ``hinted``: the operation's advice of what to do
    instead applies (a return invoice for an invoiced order; not for one already canceled)."""

    reason: str
    hinted: bool = True


@dataclass(frozen=True)
class Rule:
    """Where an action on an order may run, as VTEX documents it.

    ``allowed``: the statuses in which the action makes sense (the status reference lists the
    action there). ``only``: VTEX documents ``allowed`` as the only statuses, so any other one is
    refused. ``refused``: statuses VTEX documents as refusing it (when ``only`` is false).
    ``check`` finds documented refusals that do not depend on the status on an order document
    (the operation's ``conditions`` say them in words, for the reference).
    """

    action: str
    allowed: frozenset[str]
    only: bool = False
    refused: frozenset[str] = frozenset()
    check: Callable[[Order], Refusal | None] | None = field(default=None, compare=False)
    # Statuses whose refusal is said plainly, without the operation's hint of what to do instead
    # (a cancel of an order that is already canceled needs no advice about return invoices).
    done: Mapping[str, str] = field(default_factory=dict)

    def refusal(self, order: Order) -> Refusal | None:
        """Why VTEX refuses this action on ``order``, as documented; None when it does not."""
        status = order.get("status")
        if not isinstance(status, str):
            return None  # nothing to judge on: let VTEX decide
        if status in self.done:
            return Refusal(self.done[status], hinted=False)
        if status in self.refused or (self.only and status not in self.allowed):
            return Refusal(f"VTEX does not allow {self.action} in status '{status}'")
        return self.check(order) if self.check is not None else None

    def allows(self, order: Order) -> bool:
        return order.get("status") in self.allowed and self.refusal(order) is None


# Everything before invoicing; the seller may cancel outside the customer's window-to-cancel.
CANCEL = Rule(
    action="canceling an order",
    allowed=frozenset(MAIN) - {"invoiced", "canceled"},
    refused=frozenset({"invoiced", "canceled", "cancel", "invoice"}),
    check=_cancel_refused,
    done={"canceled": "the order is already canceled", "cancel": "the order is already being canceled"},
)
START_HANDLING = Rule(action="starting handling", allowed=frozenset({"ready-for-handling"}), only=True)
_MODIFIABLE = frozenset({"handling", "waiting-for-fulfillment", "ready-for-invoicing"})
# Modifications are also refused once the payment is settled; the order document does not say
# whether the transaction is Finished, so that refusal is VTEX's to report.
MODIFY = Rule(action="modifying an order", allowed=_MODIFIABLE, only=True)
REGISTER_CHANGES = Rule(action="registering changes", allowed=_MODIFIABLE, only=True)
INVOICE = Rule(action="invoicing", allowed=frozenset({"ready-for-handling", *_MODIFIABLE, "invoiced"}))
TRACK = Rule(action="tracking an invoice", allowed=frozenset({"invoiced"}))
NOTIFY_PAYMENT = Rule(action="notifying a payment", allowed=frozenset({"order-created", "payment-pending"}))
