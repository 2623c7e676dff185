"""Binding an approval to the order as the human saw it.

A human approves a write to an order in a given state ("handling, R$ 44,50, 1 item"). If the
order changes before the write runs (another agent invoiced it, another replica already ran
this very write), the approval is stale: ``order_state`` digests what an approval relies on, and
the guard compares the digest taken when it asked with the one it reads before it executes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["order_state"]


def order_state(order: Mapping[str, Any]) -> str:
    """A digest of what an approval of a write to ``order`` relies on: its status, value, items,
    invoices (with tracking) and recorded changes. Every write to an order changes at least one
    of them, except an interaction note, which VTEX keeps outside the order document."""
    packages = (order.get("packageAttachment") or {}).get("packages") or []
    facts = {
        "status": order.get("status"),
        "lastChange": order.get("lastChange"),
        "value": order.get("value"),
        "items": [(i.get("id"), i.get("quantity"), i.get("price")) for i in order.get("items") or []],
        "invoices": [
            (
                p.get("invoiceNumber"),
                p.get("type"),
                p.get("invoiceValue"),
                p.get("trackingNumber"),
                p.get("courier"),
                json.dumps(p.get("courierStatus"), sort_keys=True, default=str),
            )
            for p in packages
        ],
        "changes": len((order.get("changesAttachment") or {}).get("changesData") or []),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:32]
