"""The store's orders: a mapping orderId -> VTEX order document whose documents may be built lazily.

A large sandbox (``VTEX_SANDBOX_ORDERS`` up to 20,000) does not build every document at start:
past the first ``seed.EAGER_ORDERS`` orders, the generator records a ``Plan`` per order (its id,
status, creation date, customer e-mail and the figures list statistics need: value, item
count, origin, currency), and the document is built from the plan the first time anything
reads it (``orders[order_id]``). Once built, the document is the truth: routes mutate it in
place as before, and the plan is dropped.

List requests read the list fields (``field``) without building documents: from the document
when it is built, else from the plan. So a list page builds only the documents on that page.
Iterating ``values()`` or ``items()`` builds every document, as a full scan must.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["LIST_FIELDS", "Orders", "Plan"]


@dataclass(slots=True)
class Plan:
    """What a not-yet-built order is known by: its list fields, and what builds its document."""

    order_id: str
    created: datetime
    status: str
    email: str
    sequence: str
    order_group: str
    value: int
    total_items: int
    origin: str
    currency: str
    recipe: dict[str, Any] = field(repr=False)  # the generator's own inputs for the document

    @property
    def creation_date(self) -> str:
        """VTEX's string for the creation date, as the document will carry it."""
        return _vtex_iso(self.created)


def _vtex_iso(when: datetime) -> str:
    # As Store.iso writes it: 7 fraction digits, UTC.
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0+00:00"


# The fields a list request reads of every order it considers (ListOrders filters, order and
# stats), and how each is read from a built document.
LIST_FIELDS: dict[str, Callable[[dict], Any]] = {
    "creation_date": lambda o: o.get("creationDate"),
    "status": lambda o: o.get("status"),
    "email": lambda o: (o.get("clientProfileData") or {}).get("email") or "",
    "sequence": lambda o: o.get("sequence"),
    "order_group": lambda o: o.get("orderGroup"),
    "value": lambda o: o["value"],
    "total_items": lambda o: sum(int(i.get("quantity") or 0) for i in o.get("items") or []),
    "origin": lambda o: o["origin"],
    "currency": lambda o: (o.get("storePreferencesData") or {}).get("currencyCode") or "BRL",
}


class Orders(MutableMapping[str, dict]):
    """orderId -> order document; planned documents are built on first read (module docstring)."""

    def __init__(self, docs: dict[str, dict] | None = None, build: Callable[[Plan], dict] | None = None) -> None:
        self._ids: dict[str, None] = dict.fromkeys(docs or {})  # every id, in generation order
        self.seeded: frozenset[str] = frozenset(self._ids)  # the orders built at start
        self._docs: dict[str, dict] = dict(docs or {})
        self._plans: dict[str, Plan] = {}
        self._build = build
        # Ids whose list fields may have changed since the list index last read them: every
        # document put in, and every order the store reports changed (Store.set_status / touch).
        self.changed: set[str] = set()
        # (lastChange, status) of each generated order as generated: what the feed reports as an
        # order's previous state the first time it changes.
        self.generated_state: dict[str, tuple[Any, Any]] = {
            oid: (doc.get("lastChange"), doc.get("status")) for oid, doc in self._docs.items()
        }

    def plan(self, plan: Plan) -> None:
        self._ids[plan.order_id] = None
        self._plans[plan.order_id] = plan

    # -- the mapping ---------------------------------------------------------------------------
    def __getitem__(self, order_id: str) -> dict:
        doc = self._docs.get(order_id)
        if doc is not None:
            return doc
        plan = self._plans.get(order_id)
        if plan is None or self._build is None:
            raise KeyError(order_id)
        doc = self._build(plan)
        self._docs[order_id] = doc
        del self._plans[order_id]
        self.generated_state[order_id] = (doc.get("lastChange"), doc.get("status"))
        return doc

    def __setitem__(self, order_id: str, doc: dict) -> None:
        self._ids[order_id] = None
        self.changed.add(order_id)
        self._plans.pop(order_id, None)
        self._docs[order_id] = doc

    def __delitem__(self, order_id: str) -> None:
        del self._ids[order_id]
        self._docs.pop(order_id, None)
        self._plans.pop(order_id, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._ids

    # -- without building ------------------------------------------------------------------------
    def field(self, order_id: str, name: str) -> Any:
        """One list field of an order (LIST_FIELDS), without building its document."""
        doc = self._docs.get(order_id)
        if doc is not None:
            return LIST_FIELDS[name](doc)
        return getattr(self._plans[order_id], name)

    def list_rows(self, names: tuple[str, ...]) -> Iterator[tuple[str, datetime | None, tuple[Any, ...]]]:
        """(id, planned creation instant or None, the fields ``names``) of every order, reading the
        plans' fields directly (the list index's first build, for every order of a large store)."""
        for oid in self._ids:
            plan = self._plans.get(oid)
            if plan is None:
                doc = self._docs[oid]
                yield oid, None, tuple(LIST_FIELDS[name](doc) for name in names)
            else:
                # (its creation date as the datetime: the string is written when asked for)
                yield (
                    oid,
                    plan.created,
                    tuple(None if name == "creation_date" else getattr(plan, name) for name in names),
                )

    def built(self) -> list[str]:
        """The ids whose documents are built (their fields may change; planned ones never do)."""
        return list(self._docs)

    def take_changed(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed

    def planned(self) -> int:
        return len(self._plans)

    def by_sequence(self, sequence: str) -> str | None:
        for oid in self._ids:
            if self.field(oid, "sequence") == sequence:
                return oid
        return None

    def in_group(self, group: str) -> list[str]:
        return [oid for oid in self._ids if self.field(oid, "order_group") == group]

    def with_email(self, email: str) -> list[str]:
        """Ids of the orders whose client e-mail is ``email`` (case-insensitive)."""
        wanted = email.lower()
        return [oid for oid in self._ids if str(self.field(oid, "email")).lower() == wanted]
