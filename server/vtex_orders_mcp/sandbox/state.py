"""Mutable state of the VTEX Orders sandbox: the order store, its clock and the error type.

Every route module (OMS, order modifications, feed/hook, checkout) works on one `Store`:

* `Store.orders` maps orderId -> the full VTEX order document, mutated in place by the routes (an
  `orderbook.Orders`: a large store builds most documents on first read);
* status changes go through `set_status`, other changes through `touch`, so `lastChange` is always
  maintained and every registered listener (the feed/hook service) hears about every change;
* money is integer cents everywhere, and `recompute_totals` re-derives `totals[]` and `value` from the
  items, the shipping lines and the registered changes, in the way the example order's numbers add up
  (Items + Discounts + Shipping + Tax + Change == value);
* `reset()` regenerates the seeded orders (same seed + same clock -> identical documents), restores the
  clock to its construction state and then resets every registered service, so a sandbox can be
  reused between tests without rebuilding it.

Sandbox-private bookkeeping that VTEX does not show in the order document (conversation messages,
cancellation requests, processed register-changes requestIds, ...) lives in `Store.meta[orderId]`
rather than in the document, so GET responses keep exactly VTEX's shape.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Protocol

from . import invoicing
from .orderbook import Orders

__all__ = ["STATUS_DESCRIPTIONS", "Clock", "SandboxError", "Store"]


class SandboxError(Exception):
    """A refusal the sandbox answers instead of VTEX.

    app.py renders it as VTEX's OMS error envelope
    `{"error": {"code": code, "message": message, "exception": None}}` with `status`, or, when `text`
    is given, as that plain text (VTEX answers some errors, e.g. 403/404 on several routes, in text),
    or, when `problem` is set, as RFC 9110 problem JSON (`problem_document`; the change summary's
    errors, whose 401 VTEX documents in that shape).
    """

    # Seconds for a Retry-After header (the rate limiter sets it on its 429); None: no header.
    retry_after: int | None = None

    def __init__(self, status: int, code: str, message: str, *, text: str | None = None, problem: bool = False):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.text = text
        self.problem = problem

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "exception": None}}

    def problem_document(self, trace_id: str) -> dict[str, Any]:
        """The error as VTEX's change-summary 401 example shows it: `type` (the RFC 9110 section of
        the status), `title` (the reason phrase), `status`, `traceId`; plus `detail` (RFC 9457) when
        the message says more than the title, e.g. "Order not found."."""
        title = HTTPStatus(self.status).phrase
        section = _RFC9110_SECTIONS.get(self.status, "15")
        doc: dict[str, Any] = {
            "type": f"https://tools.ietf.org/html/rfc9110#section-{section}",
            "title": title,
            "status": self.status,
            "traceId": trace_id,
        }
        if self.message and self.message.rstrip(".") != title:
            doc["detail"] = self.message
        return doc


# RFC 9110 sections of the client error statuses the sandbox answers as problem JSON.
_RFC9110_SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 409: "15.5.10"}


class Clock:
    """UTC clock; frozen when constructed with a datetime (reproducible dates), else wall time.

    A wall clock can still be moved with `advance` (it keeps an offset), which lets a standalone
    sandbox fast-forward, e.g. past a feed visibility timeout.
    """

    def __init__(self, frozen: datetime | None = None):
        self._initial = _aware(frozen) if frozen is not None else None
        self._frozen = self._initial
        self._offset = timedelta(0)

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        self._frozen = _aware(when)

    def advance(self, seconds: float) -> None:
        if self._frozen is not None:
            self._frozen = self._frozen + timedelta(seconds=seconds)
        else:
            self._offset += timedelta(seconds=seconds)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def restore(self) -> None:
        """Back to the construction state (used by Store.reset so reseeding is reproducible)."""
        self._frozen = self._initial
        self._offset = timedelta(0)


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# pt-BR descriptions as VTEX shows them (the four first are spec examples, the rest follow the same
# admin vocabulary) [inference for the ones not in the spec]. statusDescription is deprecated
# but still returned.
STATUS_DESCRIPTIONS: dict[str, str] = {
    "order-created": "Processando",
    "waiting-for-sellers-confirmation": "Aguardando confirmação do seller",
    "payment-pending": "Pagamento Pendente",
    "payment-approved": "Pagamento Aprovado",
    "window-to-cancel": "Carência para Cancelamento",
    "ready-for-handling": "Pronto para o manuseio",
    "start-handling": "Iniciar Manuseio",
    "handling": "Preparando Entrega",
    "waiting-for-fulfillment": "Aguardando Fulfillment",
    "ready-for-invoicing": "Pronto para Faturamento",
    "invoice": "Verificando Fatura",
    "invoiced": "Faturado",
    "request-cancel": "Solicitar Cancelamento",
    "cancellation-requested": "Cancelamento Solicitado",
    "cancel": "Cancelando",
    "canceled": "Cancelado",
    "replaced": "Substituído",
}

TOTAL_NAMES = {
    "Items": "Total dos Itens",
    "Discounts": "Total dos Descontos",
    "Shipping": "Total do Frete",
    "Tax": "Total da Taxa",
    "Change": "Total das mudanças",
}


class _Resettable(Protocol):
    def reset(self) -> None: ...


Listener = Callable[[dict, "str | None"], None]
Generator = Callable[["Store"], "dict[str, dict] | Orders"]


class Store:
    """The sandbox's orders and everything the routes share (see module docstring)."""

    def __init__(
        self,
        *,
        account: str = "sandbox",
        seed: int = 7,
        orders: int = 500,
        clock: Clock | None = None,
        generator: Generator | None = None,
    ):
        self.account = account
        self.seed = seed
        self.order_count = orders
        self.clock = clock or Clock()
        if generator is None:
            # Imported lazily: seed.py imports this module for the helpers it uses.
            from .seed import generate_orders

            generator = generate_orders
        self._generator: Generator = generator
        self._listeners: list[Listener] = []
        self._services: list[_Resettable] = []
        self.rng = random.Random(seed)
        self.orders: Orders = Orders()
        self.meta: dict[str, dict[str, Any]] = {}
        self._load()

    # -- lifecycle -------------------------------------------------------------------------
    def _load(self) -> None:
        self.rng = random.Random(self.seed)
        self.meta = {}
        generated = self._generator(self)
        self.orders = generated if isinstance(generated, Orders) else Orders(generated)

    def reset(self) -> None:
        self.clock.restore()
        self._load()
        for service in self._services:
            service.reset()

    def register_service(self, service: _Resettable) -> None:
        # Idempotent: a service may register itself and be registered by the Sandbox too.
        if not any(s is service for s in self._services):
            self._services.append(service)

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    # -- lookups ---------------------------------------------------------------------------
    def order(self, order_id: str) -> dict:
        found = self.orders.get(order_id)
        if found is None and order_id.startswith("seq"):
            by_sequence = self.orders.by_sequence(order_id[3:])
            found = self.orders[by_sequence] if by_sequence is not None else None
        if found is None:
            # [inference] 404 with the OMS envelope: the spec documents no body for an unknown order
            # (only "Value not found." as text on payment-notification).
            raise SandboxError(404, "1", f"Order {order_id} not found")
        return found

    def order_meta(self, order: dict) -> dict[str, Any]:
        """Sandbox-private bookkeeping for one order (never serialized into the document)."""
        return self.meta.setdefault(order["orderId"], {})

    # -- mutations -------------------------------------------------------------------------
    def set_status(self, order: dict, status: str) -> None:
        previous = order.get("status")
        order["status"] = status
        order["statusDescription"] = STATUS_DESCRIPTIONS.get(status, status)
        order["lastChange"] = self.iso()
        self._notify(order, previous)

    def complete_if_fully_invoiced(self, order: dict) -> bool:
        """Move the order to `invoiced` once its Output invoices cover its total; True when it moved.

        "Invoiced when the invoiced sum reaches the total" holds after every total change, not only
        when an invoice arrives: callers run it after each `recompute_totals` (invoice, register
        changes, a done modification). An order without Output invoices never qualifies.
        """
        if order.get("status") in ("invoiced", "canceled"):
            return False
        invoiced = invoicing.invoiced_total(order)
        if not invoiced or invoiced < invoicing.order_total(order):
            return False
        order["invoicedDate"] = self.iso()
        order["isCompleted"] = True
        self.set_status(order, "invoiced")
        return True

    def touch(self, order: dict) -> None:
        order["lastChange"] = self.iso()
        self._notify(order, None)

    def _notify(self, order: dict, previous: str | None) -> None:
        self.orders.changed.add(order["orderId"])
        for fn in list(self._listeners):
            fn(order, previous)

    def recompute_totals(self, order: dict) -> None:
        """Re-derive totals[] and value (integer cents) from the document.

        Items = sum(price * quantity); Discounts = sum((sellingPrice - price) * quantity) (<= 0);
        Shipping = sum of the logistics lines' sellingPrice; Tax = sum(tax * quantity);
        Change = sum(incrementValue - discountValue) over changesAttachment.changesData. The
        example order checks out this way: 3290 + 0 + 1160 + 0 - 3290 == value 1160.
        value = sum(totals), or the sum of the Output invoices once the order has any.
        The Change line is only present once the order has registered changes, as in VTEX.
        """
        items = order.get("items") or []
        items_total = sum(int(i.get("price") or 0) * int(i.get("quantity") or 0) for i in items)
        discounts = sum(
            (
                int(i.get("sellingPrice") if i.get("sellingPrice") is not None else i.get("price") or 0)
                - int(i.get("price") or 0)
            )
            * int(i.get("quantity") or 0)
            for i in items
        )
        logistics = (order.get("shippingData") or {}).get("logisticsInfo") or []
        shipping = sum(
            int(li.get("sellingPrice") if li.get("sellingPrice") is not None else li.get("price") or 0)
            for li in logistics
        )
        tax = sum(int(i.get("tax") or 0) * int(i.get("quantity") or 0) for i in items)
        changes = ((order.get("changesAttachment") or {}).get("changesData")) or []
        change = sum(int(c.get("incrementValue") or 0) - int(c.get("discountValue") or 0) for c in changes)
        values = {"Items": items_total, "Discounts": discounts, "Shipping": shipping, "Tax": tax}
        had_change = any(t.get("id") == "Change" for t in order.get("totals") or [])
        if changes or had_change:
            values["Change"] = change
        order["totals"] = [{"id": k, "name": TOTAL_NAMES[k], "value": v} for k, v in values.items()]
        order["value"] = sum(values.values())
        # "After the insertion of the invoice, the order's total value will be updated, even in
        # partial invoice scenarios" (spec, invoice notification): once Output invoices exist, value
        # is the invoiced (settled) amount; sum(totals) stays the order's full total.
        packages = (order.get("packageAttachment") or {}).get("packages") or []
        invoiced = [int(p.get("invoiceValue") or 0) for p in packages if p.get("type") == "Output"]
        if invoiced:
            order["value"] = sum(invoiced)

    # -- helpers ---------------------------------------------------------------------------
    def iso(self, dt: datetime | None = None) -> str:
        """VTEX-style timestamp, e.g. 2019-01-28T20:09:43.8999580+00:00 (7 fraction digits)."""
        dt = _aware(dt or self.clock.now())
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0+00:00"

    def new_id(self, scope: str = "") -> str:
        """A deterministic 32-hex id (receipts, request ids, unique ids) from the seeded rng.

        ``scope`` (an order id) is mixed in: the rng's sequence is the same in every sandbox of
        one seed, so without it the first receipt of any order would be the same id in each of
        them (every demo's and every eval's first cancel showed one receipt)."""
        drawn = f"{self.rng.getrandbits(128):032x}"
        return hashlib.sha256(f"{drawn}:{scope}".encode()).hexdigest()[:32] if scope else drawn

    def new_uuid(self, scope: str = "") -> str:
        h = self.new_id(scope)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
