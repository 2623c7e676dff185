"""The payment-transaction view: its status and each payment."""

from __future__ import annotations

from typing import Any

from .fields import dicts, line, obj, prune
from .money import Money

__all__ = ["compact_payment", "payment_text"]


def _payment(p: dict[str, Any], money: Money) -> dict[str, Any]:
    return {
        "id": p.get("id"),
        "system": p.get("paymentSystemName"),
        "group": p.get("group"),
        "value": money(p.get("value")),
        "installments": p.get("installments"),
        "tid": p.get("tid"),
        "dueDate": p.get("dueDate"),
        "lastDigits": p.get("lastDigits"),
    }


def compact_payment(tx: dict[str, Any] | None, store: dict[str, Any] | None = None) -> dict[str, Any]:
    """The payment transaction. VTEX's document carries no currency, so values take the format of
    ``store``, the order's ``storePreferencesData`` (read beside it), as the order view shows them;
    without it (the order could not be read) they are plain numbers with two decimals."""
    tx = obj(tx)
    money = Money(store) if store else Money(currency=None)  # (no currency: no symbol)
    return prune(
        {
            "transactionId": tx.get("transactionId"),
            "status": tx.get("status"),
            "active": tx.get("isActive"),
            "merchant": tx.get("merchantName"),
            "payments": [_payment(p, money) for p in dicts(tx.get("payments"))],
        }
    )


def _payment_text(p: dict[str, Any]) -> str:
    return "  - " + line(
        p.get("system"),
        p.get("value"),
        f"{p['installments']}x" if (p.get("installments") or 1) > 1 else None,
        f"card ending {p['lastDigits']}" if p.get("lastDigits") else None,
        f"tid {p['tid']}" if p.get("tid") else None,
        f"due {p['dueDate']}" if p.get("dueDate") else None,
        f"id {p['id']}" if p.get("id") else None,
    )


def payment_text(order_id: str, t: dict[str, Any]) -> str:
    active = None if "active" not in t else ("active" if t["active"] else "inactive")
    head = f"Order {order_id}: payment transaction {t.get('transactionId') or '(unknown)'} — "
    out = [head + line(t.get("status"), active, t.get("merchant"))]
    out += [_payment_text(p) for p in t.get("payments") or []] or ["  (no payments)"]
    return "\n".join(out)
