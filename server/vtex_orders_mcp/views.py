"""Compact projections of VTEX documents, built for an LLM's context window.

A VTEX order document is ~55 keys and ~3,000 tokens, most of it irrelevant to a support
conversation (image URLs, price tags, SLA alternatives, internal ids). The compact view keeps
what a support agent needs, converts cents to money in the store's own currency format, and
drops nulls and empties. ``view: "full"`` returns VTEX's document untouched. Pure functions:
no I/O, tested on the seed order (tests/test_views.py) and measured in bench/.
"""

from __future__ import annotations

import html
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .statuses import meaning

__all__ = ["Money", "compact_order", "compact_order_row", "compact_conversation", "compact_payment", "prune"]


# How stores of the common VTEX currencies format money, for documents that carry only a currency
# code (list rows): symbol, decimal digits, decimal and group separators.
_CURRENCY_FORMATS: dict[str, tuple[str, int, str, str]] = {
    "BRL": ("R$", 2, ",", "."), "USD": ("$", 2, ".", ","), "EUR": ("€", 2, ",", "."),
    "ARS": ("$", 2, ",", "."), "MXN": ("$", 2, ".", ","), "COP": ("$", 2, ",", "."),
    "CLP": ("$", 0, ",", "."), "PEN": ("S/", 2, ".", ","), "GBP": ("£", 2, ".", ","),
}  # fmt: skip


class Money:
    """Formats VTEX amounts (hundredths of the unit) the way the store does (``storePreferencesData``)."""

    def __init__(self, prefs: dict[str, Any] | None = None, currency: str | None = None) -> None:
        if not prefs and currency in _CURRENCY_FORMATS:
            symbol, digits, dec, group = _CURRENCY_FORMATS[currency]
            prefs = {
                "currencySymbol": symbol,
                "currencyFormatInfo": {
                    "CurrencyDecimalDigits": digits,
                    "CurrencyDecimalSeparator": dec,
                    "CurrencyGroupSeparator": group,
                    "StartsWithCurrencySymbol": True,
                },
            }
        prefs = prefs or {}
        fmt = prefs.get("currencyFormatInfo") or {}
        self.symbol = prefs.get("currencySymbol") or currency or prefs.get("currencyCode") or ""
        self.digits = int(fmt.get("CurrencyDecimalDigits", 2) or 0)
        self.dec = fmt.get("CurrencyDecimalSeparator") or "."
        self.group = fmt.get("CurrencyGroupSeparator") or ","
        self.symbol_first = fmt.get("StartsWithCurrencySymbol", True)

    def __call__(self, cents: int | float | None) -> str | None:
        if cents is None:
            return None
        # VTEX amounts are hundredths of the currency unit whatever the currency: a CLP store's
        # $ 14.990 is 1499000. CurrencyDecimalDigits only says how many decimals the store shows,
        # so the amount is rounded (half up) to those, never re-scaled by them.
        amount = (Decimal(str(cents)) / 100).quantize(Decimal(1).scaleb(-self.digits), rounding=ROUND_HALF_UP)
        sign = "-" if amount < 0 else ""
        units, _, frac = f"{abs(amount):f}".partition(".")
        whole = f"{int(units):,}".replace(",", self.group)
        number = f"{whole}{self.dec}{frac}" if self.digits else whole
        if not self.symbol:  # no symbol: no separating space either ("-0.05", not "- 0.05")
            return f"{sign}{number}"
        return f"{sign}{self.symbol} {number}" if self.symbol_first else f"{sign}{number} {self.symbol}"


def prune(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty dicts, recursively."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [v for v in (prune(v) for v in value) if v not in (None, "", [], {})]
    return value


def _date(value: str | None) -> str | None:
    """VTEX timestamps carry 7 fractional digits; minutes are enough for a conversation."""
    if not value:
        return None
    m = re.match(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})", value)
    if not m:
        return value
    offset = re.search(r"([+-]\d{2}:\d{2}|Z)$", value)
    return f"{m.group(1)} {m.group(2)}{'' if not offset or offset.group(1) in ('Z', '+00:00') else ' ' + offset.group(1)}"


def _name(profile: dict[str, Any] | None) -> str | None:
    if not profile:
        return None
    if profile.get("isCorporate") and profile.get("corporateName"):
        return profile["corporateName"]
    return " ".join(p for p in (profile.get("firstName"), profile.get("lastName")) if p) or None


def compact_order(order: dict[str, Any]) -> dict[str, Any]:
    money = Money(order.get("storePreferencesData"))
    totals = {t.get("id"): t.get("value") for t in order.get("totals") or []}
    profile = order.get("clientProfileData") or {}
    shipping = order.get("shippingData") or {}
    address = shipping.get("address") or {}
    logistics = shipping.get("logisticsInfo") or []
    first = logistics[0] if logistics else {}
    items = order.get("items") or []
    view: dict[str, Any] = {
        "orderId": order.get("orderId"),
        "status": order.get("status"),
        "statusMeaning": meaning(order.get("status") or ""),
        "created": _date(order.get("creationDate")),
        "lastChange": _date(order.get("lastChange")),
        "group": order.get("orderGroup"),
        "salesChannel": order.get("salesChannel"),
        "seller": ", ".join(s.get("name", "") for s in order.get("sellers") or []) or None,
        "customer": {
            "name": _name(profile),
            "email": profile.get("email"),
            "phone": profile.get("phone"),
        },
        "total": money(order.get("value")),
        "totals": {k.lower(): money(v) for k, v in totals.items() if v},
        "items": [
            {
                "sku": i.get("id"),
                "name": i.get("name"),
                "qty": i.get("quantity"),
                "price": money(i.get("sellingPrice", i.get("price"))),
            }
            for i in items
        ],
        "shipping": {
            "to": address.get("receiverName"),
            "address": ", ".join(
                str(p)
                for p in (
                    " ".join(str(x) for x in (address.get("street"), address.get("number")) if x),
                    address.get("complement"),
                    address.get("neighborhood"),
                    address.get("city"),
                    address.get("state"),
                    address.get("postalCode"),
                )
                if p
            ),
            "sla": first.get("selectedSla"),
            "carrier": first.get("deliveryCompany"),
            "estimate": _date(first.get("shippingEstimateDate")),
            "channel": first.get("selectedDeliveryChannel") or first.get("deliveryChannel"),
        },
        "payments": [
            {
                "system": p.get("paymentSystemName"),
                "value": money(p.get("value")),
                "installments": p.get("installments") if (p.get("installments") or 1) > 1 else None,
                "dueDate": p.get("dueDate"),
            }
            for t in (order.get("paymentData") or {}).get("transactions") or []
            for p in t.get("payments") or []
        ],
        "paymentSettled": order.get("isCompleted"),
        "invoices": [
            {
                "number": pkg.get("invoiceNumber"),
                "type": pkg.get("type"),
                "value": money(pkg.get("invoiceValue")),
                "issued": _date(pkg.get("issuanceDate")),
                "courier": pkg.get("courier"),
                "tracking": pkg.get("trackingNumber"),
                "trackingUrl": pkg.get("trackingUrl"),
                "delivered": (pkg.get("courierStatus") or {}).get("finished") or None,
            }
            for pkg in (order.get("packageAttachment") or {}).get("packages") or []
        ],
        "changes": [
            {
                "reason": c.get("reason"),
                "discount": money(c.get("discountValue")) if c.get("discountValue") else None,
                "increment": money(c.get("incrementValue")) if c.get("incrementValue") else None,
                "added": [f"{i.get('quantity')}x {i.get('name') or i.get('id')}" for i in c.get("itemsAdded") or []],
                "removed": [
                    f"{i.get('quantity')}x {i.get('name') or i.get('id')}" for i in c.get("itemsRemoved") or []
                ],
                "date": _date((c.get("receipt") or {}).get("date")),
            }
            for c in (order.get("changesAttachment") or {}).get("changesData") or []
        ],
        "cancellation": _cancellation(order),
        "canCancel": order.get("allowCancellation"),
    }
    return prune(view)


def _cancellation(order: dict[str, Any]) -> dict[str, Any] | None:
    data = order.get("cancellationData") or {}
    if not data and not order.get("cancelReason"):
        return None
    by = next(
        (who for key, who in (("RequestedByUser", "customer"), ("RequestedBySystem", "system"),
                              ("RequestedBySellerNotification", "seller"),
                              ("RequestedByPaymentNotification", "payment")) if data.get(key)),
        None,
    )  # fmt: skip
    return {"reason": data.get("Reason") or order.get("cancelReason"), "date": _date(data.get("CancellationDate")), "by": by}


def compact_order_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ListOrders / user-orders row (these carry no items and no store preferences)."""
    money = Money(currency=row.get("currencyCode"))
    return prune(
        {
            "orderId": row.get("orderId"),
            "created": _date(row.get("creationDate")),
            "customer": row.get("clientName"),
            "total": money(row.get("totalValue")),
            "status": row.get("status"),
            "items": row.get("totalItems"),
            "payment": row.get("paymentNames"),
            "estimate": _date(row.get("ShippingEstimatedDate")),
        }
    )


_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def html_to_text(body: str | None) -> str:
    if not body:
        return ""
    text = re.sub(r"<br\s*/?>|</p>|</div>|</tr>", "\n", body, flags=re.I)
    text = html.unescape(_TAG.sub("", text))
    return re.sub(r"\n\s*\n+", "\n", re.sub(r"[ \t]+", " ", text)).strip()


def compact_conversation(messages: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Messages newest first, bodies as plain text."""

    def who(p: Any) -> str | None:
        if isinstance(p, dict):
            return p.get("name") or p.get("email")
        if isinstance(p, list):
            return ", ".join(filter(None, (who(x) for x in p))) or None
        return p

    rows = [
        prune(
            {
                "date": _date(msg.get("date")),
                "from": who(msg.get("from")),
                "to": who(msg.get("to")),
                "subject": msg.get("subject"),
                "body": html_to_text(msg.get("body")) or msg.get("firstWords"),
                "attachments": msg.get("attachmentNames") if msg.get("hasAttachment") else None,
            }
        )
        for msg in messages or []
    ]
    return sorted(rows, key=lambda r: r.get("date") or "", reverse=True)


def compact_payment(tx: dict[str, Any] | None) -> dict[str, Any]:
    tx = tx or {}
    money = Money(currency=None)
    money.symbol = ""
    return prune(
        {
            "transactionId": tx.get("transactionId"),
            "status": tx.get("status"),
            "active": tx.get("isActive"),
            "merchant": tx.get("merchantName"),
            "payments": [
                {
                    "id": p.get("id"),
                    "system": p.get("paymentSystemName"),
                    "group": p.get("group"),
                    "value": money(p.get("value")),
                    "installments": p.get("installments"),
                    "tid": p.get("tid"),
                    "dueDate": p.get("dueDate"),
                    "lastDigits": p.get("lastDigits"),
                }
                for p in tx.get("payments") or []
            ],
        }
    )
