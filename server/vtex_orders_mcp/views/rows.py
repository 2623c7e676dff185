"""Order rows: one line per order of ListOrders and of a customer's order list. These rows carry
no items and no store preferences, so money follows the row's currency code."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .fields import date, obj, prune
from .money import Money

__all__ = ["compact_order_row"]


@lru_cache(maxsize=64)
def _money(currency: str | None) -> Money:
    # one per currency, not one per row (a list page has up to 100 rows, all_pages up to 3,000);
    # shared, so never changed after it is made
    return Money(currency=currency)


def compact_order_row(row: dict[str, Any]) -> dict[str, Any]:
    row = obj(row)
    code = row.get("currencyCode")
    money = _money(code if isinstance(code, str) else None)
    return prune(
        {
            "orderId": row.get("orderId"),
            "created": date(row.get("creationDate")),
            "customer": row.get("clientName"),
            "total": money(row.get("totalValue")),
            "status": row.get("status"),
            "items": row.get("totalItems"),
            "payment": row.get("paymentNames"),
            "estimate": date(row.get("ShippingEstimatedDate")),
        }
    )
