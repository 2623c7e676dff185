"""What an approval question says about a write's arguments, one function per kind of write.

The guard's question always starts with the action, the order and its live state; these add the
arguments that matter to a human deciding (the reason, the invoice's value, the items that
change). Each takes the validated arguments, the order document ({} for account-level writes)
and the store's money format; each operation names its own in the registry (``summary=``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from ..models import as_given
from ..statuses import MEANINGS
from ..views import Money

__all__ = ["as_sent", "changes", "feed_filter", "fields", "handles", "hook", "invoice", "modification", "reason"]

Order = Mapping[str, Any]


def reason(args: Any, order: Order, money: Money) -> str:
    return f"reason: {args.reason}"


def shown(value: Any) -> str:
    """An argument's value as a person reads it, never as Python prints it: yes/no, a list joined
    with commas, an instant in ISO 8601 with its offset (a naive one is UTC, as VTEX reads it)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return shown(value.value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat(timespec="minutes")
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(shown(v) for v in value)
    return str(value)


def fields(*names: str) -> Any:
    """The named arguments, as ``name: value``, those given."""

    def detail(args: Any, order: Order, money: Money) -> str:
        return ", ".join(f"{n}: {shown(getattr(args, n))}" for n in names if getattr(args, n, None) is not None)

    return detail


def invoice(args: Any, order: Order, money: Money) -> str:
    n_items = sum(i.quantity for i in args.items)
    of = sum(int(i.get("quantity") or 0) for i in order.get("items") or [])
    kind = "return (Input) invoice" if args.type == "Input" else "invoice"
    of_part = f" of {of}" if of else ""
    return f"{kind} {args.invoice_number} for {money(args.invoice_value)}, {n_items}{of_part} items"


def changes(args: Any, order: Order, money: Money) -> str:
    delta = args.increment_value - args.discount_value
    delta += sum(i.price * i.quantity for i in args.items_added) - sum(i.price * i.quantity for i in args.items_removed)
    return f"value change {money(delta)}; reason: {args.reason}"


def _items(items: Any) -> str:
    return ", ".join(f"{i.quantity}x {i.id}" for i in items)


def modification(args: Any, order: Order, money: Money) -> str:
    parts = [f"replace {_items(r.from_)} with {_items(r.to)}" for r in args.replace or []]
    if args.add:
        parts.append("add " + _items(args.add))
    if args.remove:
        parts.append("remove " + _items(args.remove))
    return "; ".join([*parts, f"reason: {args.reason}"])


def _condition(f: Any) -> str:
    if f.status is not None:
        # VTEX takes any word here and a misspelt status never fires: the human sees which.
        unknown = [s for s in f.status if s not in MEANINGS]
        flag = f" (not a status VTEX documents: {', '.join(unknown)})" if unknown else ""
        return "updates on status " + ", ".join(f.status) + flag
    return f"updates where JSONata “{f.expression}”"


def feed_filter(args: Any, order: Order, money: Money) -> str:
    return _condition(args.filter)


def hook(args: Any, order: Order, money: Money) -> str:
    return f"{_condition(args.filter)}, POST to {args.hook.url}"


def handles(args: Any, order: Order, money: Money) -> str:
    return f"{len(args.handles)} handle(s)"


def as_sent(args: Any, order: Order, money: Money) -> str:
    # Account-wide settings: the human sees every value that will be sent, not a title.
    return "sets " + json.dumps(as_given(args), separators=(", ", ": "))
