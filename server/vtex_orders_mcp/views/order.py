"""The order view: VTEX's ~55-key order document (about 3,000 tokens) cut to what a support
conversation needs, amounts in the store's money format, empties dropped; and its text.

``compact_order`` is the projection (the ``order`` of get_order's structured result and of the
``vtex://orders/{orderId}`` resource); ``order_text`` renders that projection, section by
section, for people and for prompts that embed the ``.txt`` form.
"""

from __future__ import annotations

from typing import Any

from .. import statuses
from .fields import address, date, dicts, line, name, obj, prune
from .money import Money

__all__ = ["compact_order", "delivered_text", "order_text"]


def compact_order(order: dict[str, Any]) -> dict[str, Any]:
    order = obj(order)
    money = Money(order.get("storePreferencesData"))
    status = order.get("status")
    items = dicts(order.get("items"))
    view: dict[str, Any] = {
        "orderId": order.get("orderId"),
        "status": status,
        "statusMeaning": statuses.meaning(status if isinstance(status, str) else ""),
        "created": date(order.get("creationDate")),
        "lastChange": date(order.get("lastChange")),
        "group": order.get("orderGroup"),
        "salesChannel": order.get("salesChannel"),
        "seller": ", ".join(str(s["name"]) for s in dicts(order.get("sellers")) if s.get("name")) or None,
        "customer": _customer(obj(order.get("clientProfileData"))),
        "total": money(order.get("value")),
        "totals": _totals(order, money),
        "items": [_item(i, money) for i in items],
        "shipping": _shipping(obj(order.get("shippingData")), items),
        "payments": _payments(order, money),
        "paymentSettled": order.get("isCompleted"),
        "invoices": [_invoice(p, money) for p in dicts(obj(order.get("packageAttachment")).get("packages"))],
        "changes": [_change(c, money) for c in dicts(obj(order.get("changesAttachment")).get("changesData"))],
        "cancellation": _cancellation(order),
        "canCancel": _can_cancel(order),
    }
    return prune(view)


def _customer(profile: dict[str, Any]) -> dict[str, Any]:
    return {"name": name(profile), "email": profile.get("email"), "phone": profile.get("phone")}


def _totals(order: dict[str, Any], money: Money) -> dict[str, Any]:
    totals = {t.get("id"): t.get("value") for t in dicts(order.get("totals")) if isinstance(t.get("id"), str)}
    return {str(k).lower(): money(v) for k, v in totals.items() if v}


def _item(item: dict[str, Any], money: Money) -> dict[str, Any]:
    price = item.get("sellingPrice") if item.get("sellingPrice") is not None else item.get("price")
    return {"sku": item.get("id"), "name": item.get("name"), "qty": item.get("quantity"), "price": money(price)}


def _number(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _payments(order: dict[str, Any], money: Money) -> list[dict[str, Any]]:
    return [
        {
            "system": p.get("paymentSystemName"),
            "value": money(p.get("value")),
            "installments": p.get("installments") if _number(p.get("installments")) > 1 else None,
            "dueDate": p.get("dueDate"),
        }
        for t in dicts(obj(order.get("paymentData")).get("transactions"))
        for p in dicts(t.get("payments"))
    ]


def _invoice(pkg: dict[str, Any], money: Money) -> dict[str, Any]:
    return {
        "number": pkg.get("invoiceNumber"),
        "type": pkg.get("type"),
        "value": money(pkg.get("invoiceValue")),
        "issued": date(pkg.get("issuanceDate")),
        "courier": pkg.get("courier"),
        "tracking": pkg.get("trackingNumber"),
        "trackingUrl": pkg.get("trackingUrl"),
        "delivered": _delivered(obj(pkg.get("courierStatus"))),
    }


def _delivered(status: dict[str, Any]) -> str | bool | None:
    """When the carrier delivered the package: its date when VTEX recorded one, else ``True`` if the
    tracking says delivered (``finished``), else nothing. A date with ``finished: false`` is not a delivery."""
    if status.get("finished") is False:
        return None
    return date(status.get("deliveredDate")) or (True if status.get("finished") else None)


def _lines(items: Any) -> list[str]:
    """Items added to or removed from an order, as "2x Name"."""
    out = []
    for i in dicts(items):
        quantity = f"{i['quantity']}x" if i.get("quantity") is not None else None
        out.append(" ".join(str(x) for x in (quantity, i.get("name") or i.get("id")) if x))
    return out


def _change(change: dict[str, Any], money: Money) -> dict[str, Any]:
    return {
        "reason": change.get("reason"),
        "discount": money(change.get("discountValue")) if change.get("discountValue") else None,
        "increment": money(change.get("incrementValue")) if change.get("incrementValue") else None,
        "added": _lines(change.get("itemsAdded")),
        "removed": _lines(change.get("itemsRemoved")),
        "date": date(obj(change.get("receipt")).get("date")),
    }


_CANCELED_BY = (
    ("RequestedByUser", "customer"),
    ("RequestedBySystem", "system"),
    ("RequestedBySellerNotification", "seller"),
    ("RequestedByPaymentNotification", "payment"),
)


def _cancellation(order: dict[str, Any]) -> dict[str, Any] | None:
    data = obj(order.get("cancellationData"))
    if not data and not order.get("cancelReason"):
        return None
    by = next((who for key, who in _CANCELED_BY if data.get(key)), None)
    return {
        "reason": data.get("Reason") or order.get("cancelReason"),
        "date": date(data.get("CancellationDate")),
        "by": by,
    }


def _can_cancel(order: dict[str, Any]) -> bool | None:
    """Whether a cancel can succeed: VTEX's own flag, and VTEX's documented rules (statuses.CANCEL:
    not invoiced, not partially invoiced, not incomplete). No status to judge: VTEX's flag alone."""
    flag = order.get("allowCancellation")
    if flag is False or not isinstance(order.get("status"), str):
        return flag if isinstance(flag, bool) else None
    return statuses.CANCEL.allows(order)


# --- shipping ----------------------------------------------------------------------------------


def _shipping(shipping: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    where = obj(shipping.get("address"))
    return {"to": where.get("receiverName"), "address": address(where), **_deliveries(shipping, where, items)}


def _delivery(li: dict[str, Any], addresses: dict[Any, dict[str, Any]], home: dict[str, Any]) -> dict[str, Any]:
    pickup = obj(li.get("pickupStoreInfo"))
    courier = next((d.get("courierName") for d in dicts(li.get("deliveryIds")) if d.get("courierName")), None)
    delivery = {
        "sla": li.get("selectedSla"),
        "carrier": li.get("deliveryCompany") or courier,
        "estimate": date(li.get("shippingEstimateDate")),
        "channel": li.get("selectedDeliveryChannel") or li.get("deliveryChannel"),
        "pickupPoint": pickup.get("friendlyName") if pickup.get("isPickupStore") else None,
    }
    # The order's address is shown once; a delivery names its own only when it goes elsewhere
    # (a pickup point, or another of the order's selected addresses).
    own = obj(pickup.get("address")) if pickup.get("isPickupStore") else obj(addresses.get(li.get("addressId")))
    there = address(own)
    delivery["address"] = there if there and there != address(home) else None
    return delivery


def _delivery_groups(
    shipping: dict[str, Any], home: dict[str, Any], items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each distinct way the items travel, with the SKUs that travel that way."""
    addresses = {a.get("addressId"): a for a in dicts(shipping.get("selectedAddresses")) if a.get("addressId")}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    raw = shipping.get("logisticsInfo")
    entries: list[Any] = raw if isinstance(raw, list) else []
    for position, li in enumerate(entries):
        if not isinstance(li, dict):
            continue
        delivery = _delivery(li, addresses, home)
        if not any(delivery.values()):  # an item VTEX plans no delivery for (a service, a warranty)
            continue
        index = li.get("itemIndex")
        if not isinstance(index, int):
            index = position
        sku = items[index].get("id") if 0 <= index < len(items) else None
        group = groups.setdefault(tuple(delivery.values()), {"skus": [], **delivery})
        if sku is not None and sku not in group["skus"]:
            group["skus"].append(sku)
    return list(groups.values())


def _deliveries(shipping: dict[str, Any], home: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """How the order travels. VTEX plans each item separately (``logisticsInfo[]``, one per item):
    when every item goes the same way (the usual case) the shipping view holds that one delivery's
    fields; when items go different ways (pickup for one, home delivery for another, two carriers,
    two estimates) it lists each distinct delivery with the SKUs it carries, so no carrier or
    estimate reads as if it covered the whole order."""
    groups = _delivery_groups(shipping, home, items)
    if len(groups) > 1:
        return {"deliveries": groups}
    if not groups:
        return {}
    single = groups[0]
    # One delivery for everything: its fields sit on the shipping view itself, as small as before.
    kept = {k: v for k, v in single.items() if k not in ("skus", "address")}
    return kept | ({"pickupAddress": single["address"]} if single.get("address") else {})


# --- text --------------------------------------------------------------------------------------


def delivered_text(delivered: Any) -> str | None:
    """The compact view's "delivered": a date when VTEX has one, True when it only says finished."""
    if isinstance(delivered, str):
        return f"delivered {delivered}"
    return "delivered" if delivered else None


def _labelled(label: str, value: Any) -> str | None:
    return f"{label} {value}" if value else None


def order_text(o: dict[str, Any]) -> str:
    """The compact order view as text, one section after the other."""
    out = [f"Order {o.get('orderId')} — {o.get('status')} ({o.get('statusMeaning')})"]
    out.append(
        line(
            _labelled("created", o.get("created")),
            _labelled("last change", o.get("lastChange")),
            _labelled("seller", o.get("seller")),
        )
    )
    for section in (
        _customer_text,
        _totals_text,
        _items_text,
        _shipping_text,
        _payments_text,
        _invoices_text,
        _changes_text,
        _closing_text,
    ):
        out += section(o)
    return "\n".join(row for row in out if row.strip())


def _customer_text(o: dict[str, Any]) -> list[str]:
    c = o.get("customer") or {}
    if not c:
        return []
    email = f"<{c['email']}>" if c.get("email") else None
    return ["Customer: " + line(" ".join(x for x in (c.get("name"), email) if x), c.get("phone"))]


def _totals_text(o: dict[str, Any]) -> list[str]:
    totals = ", ".join(f"{k} {v}" for k, v in (o.get("totals") or {}).items())
    if not (o.get("total") or totals):
        return []
    return [f"Total: {o.get('total') or '?'}" + (f" ({totals})" if totals else "")]


def _item_text(i: dict[str, Any]) -> str:
    parts = (
        f"{i['qty']}x" if i.get("qty") is not None else None,
        i.get("name") or "(unnamed item)",
        f"(SKU {i['sku']})" if i.get("sku") else None,
        f"— {i['price']} each" if i.get("price") else None,
    )
    return "  - " + " ".join(x for x in parts if x)


def _items_text(o: dict[str, Any]) -> list[str]:
    return ["Items:", *(_item_text(i) for i in o["items"])] if o.get("items") else []


def _delivery_text(d: dict[str, Any], shipping: dict[str, Any]) -> str:
    own_address = d.get("pickupAddress") or (d.get("address") if d is not shipping else None)
    return "  " + line(
        f"SKU {', '.join(d['skus'])}" if d.get("skus") else None,
        d.get("carrier"),
        d.get("sla"),
        d.get("channel"),
        _labelled("pickup at", d.get("pickupPoint")),
        own_address,
        _labelled("estimate", d.get("estimate")),
    )


def _shipping_text(o: dict[str, Any]) -> list[str]:
    s = o.get("shipping") or {}
    if not s:
        return []
    # one line per delivery: split orders list each (their SKUs, carrier, estimate, pickup point)
    head = "Shipping: " + line(_labelled("to", s.get("to")), s.get("address"))
    return [head, *(_delivery_text(d, s) for d in s.get("deliveries") or [s])]


def _payments_text(o: dict[str, Any]) -> list[str]:
    out = []
    for p in o.get("payments") or []:
        installments = f"{p['installments']} installments" if p.get("installments") else None
        out.append(
            "Payment: " + line(p.get("system"), p.get("value"), installments, _labelled("due", p.get("dueDate")))
        )
    if "paymentSettled" in o:
        out.append(f"Payment settled: {'yes' if o['paymentSettled'] else 'no'}")
    return out


def _invoice_text(inv: dict[str, Any]) -> str:
    url = f"<{inv['trackingUrl']}>" if inv.get("trackingUrl") else None
    tracking = " ".join(x for x in (inv.get("tracking"), url) if x)
    # A return (Input) invoice travels back with no tracking of ours.
    missing = None if inv.get("type") == "Input" else "no tracking number yet"
    return f"Invoice {inv.get('number')} ({inv.get('type')}): " + line(
        inv.get("value"),
        _labelled("issued", inv.get("issued")),
        inv.get("courier"),
        f"tracking {tracking}" if tracking else missing,
        delivered_text(inv.get("delivered")),
    )


def _invoices_text(o: dict[str, Any]) -> list[str]:
    return [_invoice_text(inv) for inv in o.get("invoices") or []]


def _change_text(ch: dict[str, Any]) -> str:
    moves = [f"+{a}" for a in ch.get("added") or []] + [f"-{r}" for r in ch.get("removed") or []]
    return "Change: " + line(
        ch.get("date"),
        ch.get("reason"),
        ", ".join(moves),
        _labelled("discount", ch.get("discount")),
        _labelled("increment", ch.get("increment")),
    )


def _changes_text(o: dict[str, Any]) -> list[str]:
    return [_change_text(ch) for ch in o.get("changes") or []]


def _closing_text(o: dict[str, Any]) -> list[str]:
    out = []
    if o.get("cancellation"):
        x = o["cancellation"]
        out.append("Canceled: " + line(x.get("date"), _labelled("by", x.get("by")), x.get("reason")))
    if "canCancel" in o:
        out.append(f"Cancellation allowed: {'yes' if o['canCancel'] else 'no'}")
    return out
