"""Compact projections of VTEX documents, built for an LLM's context window.

A VTEX order document is ~55 keys and ~3,000 tokens, most of it irrelevant to a support
conversation (image URLs, price tags, SLA alternatives, internal ids). The compact view keeps
what a support agent needs, converts cents to money in the store's own currency format, and
drops nulls and empties. ``view: "full"`` returns VTEX's document untouched. Pure functions:
no I/O, tested on the seed order (tests/test_views.py) and measured in bench/.

VTEX documents are read defensively: any field may be null (a seller without a name, a totals
entry without an id, a null inside a list), and a view never fails on one; it leaves it out.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .statuses import meaning

__all__ = [
    "Money", "compact_conversation", "compact_order", "compact_order_row", "compact_payment", "html_to_text", "prune",
]  # fmt: skip


# How stores of the common VTEX currencies format money, for documents that carry only a currency
# code (list rows): symbol, decimal digits, decimal and group separators.
_CURRENCY_FORMATS: dict[str, tuple[str, int, str, str]] = {
    "BRL": ("R$", 2, ",", "."), "USD": ("$", 2, ".", ","), "EUR": ("€", 2, ",", "."),
    "ARS": ("$", 2, ",", "."), "MXN": ("$", 2, ".", ","), "COP": ("$", 2, ",", "."),
    "CLP": ("$", 0, ",", "."), "PEN": ("S/", 2, ".", ","), "GBP": ("£", 2, ".", ","),
}  # fmt: skip


def _known_format(currency: str | None) -> dict[str, Any]:
    if currency not in _CURRENCY_FORMATS:
        return {}
    symbol, digits, dec, group = _CURRENCY_FORMATS[currency]
    return {
        "currencySymbol": symbol,
        "currencyFormatInfo": {
            "CurrencyDecimalDigits": digits,
            "CurrencyDecimalSeparator": dec,
            "CurrencyGroupSeparator": group,
            "StartsWithCurrencySymbol": True,
        },
    }


class Money:
    """Formats VTEX amounts (hundredths of the unit) the way the store does (``storePreferencesData``)."""

    def __init__(self, prefs: dict[str, Any] | None = None, currency: str | None = None) -> None:
        prefs = prefs if isinstance(prefs, dict) else {}
        # A document without its own format (a list row, or preferences whose currencyFormatInfo is
        # null) is formatted the way stores of its currency usually are.
        known = _known_format(currency or prefs.get("currencyCode"))
        fmt = prefs.get("currencyFormatInfo") or known.get("currencyFormatInfo") or {}
        code = currency or prefs.get("currencyCode")
        self.symbol = prefs.get("currencySymbol") or known.get("currencySymbol") or code or ""
        digits = fmt.get("CurrencyDecimalDigits")  # null or malformed: the common two decimals
        self.digits = int(digits) if str(digits).isdigit() else 2
        self.dec = fmt.get("CurrencyDecimalSeparator") or "."
        self.group = fmt.get("CurrencyGroupSeparator") or ","
        self.symbol_first = fmt.get("StartsWithCurrencySymbol") is not False  # null: VTEX's default, first

    def __call__(self, cents: int | float | None) -> str | None:
        if cents is None or isinstance(cents, bool):
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


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a VTEX list field; a null list, or a null inside one, is skipped."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})")


def _date(value: Any) -> str | None:
    """VTEX timestamps carry 7 fractional digits; minutes are enough for a conversation.

    Also reads the ``yyyy-mm-dd hh:mm`` form VTEX asks for in tracking updates (deliveredDate).
    """
    if not value or not isinstance(value, str):
        return None
    m = _TIMESTAMP.match(value)
    if not m:
        return value
    offset = re.search(r"([+-]\d{2}:\d{2}|Z)$", value)
    return f"{m.group(1)} {m.group(2)}{'' if not offset or offset.group(1) in ('Z', '+00:00') else ' ' + offset.group(1)}"


def _instant(value: Any) -> float | None:
    """A timestamp as seconds since the epoch, offsets applied (no offset: read as UTC)."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.11's fromisoformat takes at most 6 fractional digits; VTEX sends 7.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _name(profile: dict[str, Any] | None) -> str | None:
    if not profile:
        return None
    if profile.get("isCorporate") and profile.get("corporateName"):
        return profile["corporateName"]
    return " ".join(str(p) for p in (profile.get("firstName"), profile.get("lastName")) if p) or None


def _address(address: dict[str, Any]) -> str:
    return ", ".join(
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
    )


def _lines(items: Any) -> list[str]:
    """Items added to or removed from an order, as "2x Name"."""
    out = []
    for i in _dicts(items):
        quantity = f"{i['quantity']}x" if i.get("quantity") is not None else None
        out.append(" ".join(str(x) for x in (quantity, i.get("name") or i.get("id")) if x))
    return out


def compact_order(order: dict[str, Any]) -> dict[str, Any]:
    order = _obj(order)
    money = Money(order.get("storePreferencesData"))
    totals = {t.get("id"): t.get("value") for t in _dicts(order.get("totals")) if isinstance(t.get("id"), str)}
    profile = _obj(order.get("clientProfileData"))
    shipping = _obj(order.get("shippingData"))
    address = _obj(shipping.get("address"))
    items = _dicts(order.get("items"))
    view: dict[str, Any] = {
        "orderId": order.get("orderId"),
        "status": order.get("status"),
        "statusMeaning": meaning(order["status"] if isinstance(order.get("status"), str) else ""),
        "created": _date(order.get("creationDate")),
        "lastChange": _date(order.get("lastChange")),
        "group": order.get("orderGroup"),
        "salesChannel": order.get("salesChannel"),
        "seller": ", ".join(str(s["name"]) for s in _dicts(order.get("sellers")) if s.get("name")) or None,
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
                "price": money(i.get("sellingPrice") if i.get("sellingPrice") is not None else i.get("price")),
            }
            for i in items
        ],
        "shipping": {
            "to": address.get("receiverName"),
            "address": _address(address),
            **_deliveries(shipping, address, items),
        },
        "payments": [
            {
                "system": p.get("paymentSystemName"),
                "value": money(p.get("value")),
                "installments": p.get("installments") if _number(p.get("installments")) > 1 else None,
                "dueDate": p.get("dueDate"),
            }
            for t in _dicts(_obj(order.get("paymentData")).get("transactions"))
            for p in _dicts(t.get("payments"))
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
                "delivered": _delivered(_obj(pkg.get("courierStatus"))),
            }
            for pkg in _dicts(_obj(order.get("packageAttachment")).get("packages"))
        ],
        "changes": [
            {
                "reason": c.get("reason"),
                "discount": money(c.get("discountValue")) if c.get("discountValue") else None,
                "increment": money(c.get("incrementValue")) if c.get("incrementValue") else None,
                "added": _lines(c.get("itemsAdded")),
                "removed": _lines(c.get("itemsRemoved")),
                "date": _date(_obj(c.get("receipt")).get("date")),
            }
            for c in _dicts(_obj(order.get("changesAttachment")).get("changesData"))
        ],
        "cancellation": _cancellation(order),
        "canCancel": order.get("allowCancellation"),
    }
    return prune(view)


def _number(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _delivered(status: dict[str, Any]) -> str | bool | None:
    """When the carrier delivered the package: its date when VTEX recorded one, else ``True`` if the
    tracking says delivered (``finished``), else nothing. A date with ``finished: false`` is not a delivery."""
    if status.get("finished") is False:
        return None
    return _date(status.get("deliveredDate")) or (True if status.get("finished") else None)


def _deliveries(shipping: dict[str, Any], address: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """How the order travels. VTEX plans each item separately (``logisticsInfo[]``, one per item):
    when every item goes the same way (the usual case) the shipping view holds that one delivery's
    fields; when items go different ways (pickup for one, home delivery for another, two carriers,
    two estimates) it lists each distinct delivery with the SKUs it carries, so no carrier or
    estimate reads as if it covered the whole order."""
    addresses = {a.get("addressId"): a for a in _dicts(shipping.get("selectedAddresses")) if a.get("addressId")}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    entries = shipping.get("logisticsInfo") if isinstance(shipping.get("logisticsInfo"), list) else []
    for position, li in enumerate(entries):
        if not isinstance(li, dict):
            continue
        pickup = _obj(li.get("pickupStoreInfo"))
        courier = next((d.get("courierName") for d in _dicts(li.get("deliveryIds")) if d.get("courierName")), None)
        delivery = {
            "sla": li.get("selectedSla"),
            "carrier": li.get("deliveryCompany") or courier,
            "estimate": _date(li.get("shippingEstimateDate")),
            "channel": li.get("selectedDeliveryChannel") or li.get("deliveryChannel"),
            "pickupPoint": pickup.get("friendlyName") if pickup.get("isPickupStore") else None,
        }
        # The order's address is shown once; a delivery names its own only when it goes elsewhere
        # (a pickup point, or another of the order's selected addresses).
        own = _obj(pickup.get("address")) if pickup.get("isPickupStore") else _obj(addresses.get(li.get("addressId")))
        where = _address(own)
        delivery["address"] = where if where and where != _address(address) else None
        if not any(delivery.values()):  # an item VTEX plans no delivery for (a service, a warranty)
            continue
        index = li.get("itemIndex") if isinstance(li.get("itemIndex"), int) else position
        sku = items[index].get("id") if 0 <= index < len(items) else None
        group = groups.setdefault(tuple(delivery.values()), {"skus": [], **delivery})
        if sku is not None and sku not in group["skus"]:
            group["skus"].append(sku)
    if len(groups) > 1:
        return {"deliveries": list(groups.values())}
    if not groups:
        return {}
    single = next(iter(groups.values()))
    # One delivery for everything: its fields sit on the shipping view itself, as small as before.
    return {k: v for k, v in single.items() if k not in ("skus", "address")} | (
        {"pickupAddress": single["address"]} if single.get("address") else {}
    )


def _cancellation(order: dict[str, Any]) -> dict[str, Any] | None:
    data = _obj(order.get("cancellationData"))
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
    row = _obj(row)
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


# HTML to text. VTEX e-mails are table layouts, so structure is kept in the text: each table cell
# is marked where it opens (a closing tag is optional in HTML), rows, list items, headings and
# blocks start new lines, and cells on one line are joined by " | " (empty spacer cells dropped).
_HIDDEN = re.compile(r"<!--.*?-->|<(script|style|head|title)\b.*?</\1\s*>", re.S | re.I)
_CELL = re.compile(r"<t[dh]\b[^>]*>", re.I)
_BREAK = re.compile(r"<br\s*/?>|<hr\b[^>]*>|</?(?:p|div|tr|li|ul|ol|h[1-6]|table|blockquote)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_LOOKS_HTML = re.compile(r"<(?:[a-z][a-z0-9]*\b[^>]*|/[a-z][a-z0-9]*\s*|!--.*?--)>", re.S | re.I)
_CELL_MARK = "\x1f"  # ASCII unit separator: cannot come from the body (removed from it first)


def html_to_text(body: str | None) -> str:
    if not body or not isinstance(body, str):
        return ""
    text = body.replace(_CELL_MARK, " ")
    if _LOOKS_HTML.search(text):
        # In HTML, line breaks in the source are spaces; only the markup breaks lines.
        text = re.sub(r"\s+", " ", _HIDDEN.sub("", text))
        text = _TAG.sub("", _BREAK.sub("\n", _CELL.sub(_CELL_MARK, text)))
    lines = []
    for line in text.split("\n"):
        # Entities are decoded per cell, after the split, so none can forge a line or a cell break.
        cells = (re.sub(r"[ \t]+", " ", html.unescape(cell)).strip() for cell in line.split(_CELL_MARK))
        line = " | ".join(c for c in cells if c)
        if line:
            lines.append(line)
    return "\n".join(lines)


def compact_conversation(messages: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Messages newest first (by instant, offsets applied; undated ones last), bodies as plain text."""

    def who(p: Any) -> str | None:
        if isinstance(p, dict):
            return p.get("name") or p.get("email")
        if isinstance(p, list):
            return ", ".join(filter(None, (who(x) for x in p))) or None
        return p if isinstance(p, str) else None

    dated = [
        (
            _instant(msg.get("date")),
            prune(
                {
                    "date": _date(msg.get("date")),
                    "from": who(msg.get("from")),
                    "to": who(msg.get("to")),
                    "subject": msg.get("subject"),
                    "body": html_to_text(msg.get("body")) or msg.get("firstWords"),
                    "attachments": msg.get("attachmentNames") if msg.get("hasAttachment") else None,
                }
            ),
        )
        for msg in _dicts(messages)
    ]
    dated.sort(key=lambda pair: (pair[0] is not None, pair[0] or 0.0), reverse=True)
    return [row for _, row in dated]


def compact_payment(tx: dict[str, Any] | None) -> dict[str, Any]:
    """The payment transaction. VTEX's document carries no currency (nor store preferences), so
    values are plain numbers with two decimals; the order view shows them in the store's format."""
    tx = _obj(tx)
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
                for p in _dicts(tx.get("payments"))
            ],
        }
    )
