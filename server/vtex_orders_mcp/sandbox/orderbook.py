"""The store's orders: a mapping orderId -> VTEX order document whose documents may be built lazily.

A large sandbox (``VTEX_SANDBOX_ORDERS`` up to 20,000) does not build every document at start:
past the first ``seed.EAGER_ORDERS`` orders, the generator records a plan of every order, as
columns (``Planned``: its id, status, creation instant, customer e-mail and the figures list
statistics need: value, item count, origin, currency), and the document is built from its row
the first time anything reads it (``orders[order_id]``). Once built, the document is the truth:
routes mutate it in place as before, and the row is no longer read.

List requests read the list fields (``field``) without building documents: from the document
when it is built, else from the plan. So a list page builds only the documents on that page.
Iterating ``values()`` or ``items()`` builds every document, as a full scan must.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["EPOCH", "LIST_FIELDS", "Orders", "Planned", "epoch_us"]


@dataclass(slots=True)
class Planned:
    """The orders planned and not built, as columns: one list per list field, one row per order
    (a 20,000-order store plans 19,500 orders at start; a Python object per order cost more than
    everything else it does at start)."""

    order_id: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)  # microseconds since the epoch, UTC
    status: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    sequence: list[str] = field(default_factory=list)
    order_group: list[str] = field(default_factory=list)
    value: list[int] = field(default_factory=list)
    total_items: list[int] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)
    currency: list[str] = field(default_factory=list)
    recipe: Any = None  # what builds each row's document (the generator's own record)

    def created_at(self, row: int) -> datetime:
        return EPOCH + timedelta(microseconds=self.created[row])

    def read(self, row: int, name: str) -> Any:
        """One list field (LIST_FIELDS' names) of the order at ``row``."""
        if name == "creation_date":
            return _vtex_iso(self.created_at(row))
        column: list[Any] = getattr(self, name)
        return column[row]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_us(when: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (exact, unlike timestamp())."""
    return (when - EPOCH) // _MICROSECOND


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

    def __init__(
        self, docs: dict[str, dict] | None = None, build: Callable[[Planned, int], dict] | None = None
    ) -> None:
        self._ids: dict[str, None] = dict.fromkeys(docs or {})  # every id, in generation order
        self.seeded: frozenset[str] = frozenset(self._ids)  # the orders built at start
        self._docs: dict[str, dict] = dict(docs or {})
        self._planned = Planned()
        self._plans: dict[str, int] = {}  # orderId -> its row in _planned, while not built
        self._build = build
        # Ids whose list fields may have changed since the list index last read them: every
        # document put in, and every order the store reports changed (Store.set_status / touch).
        self.changed: set[str] = set()
        # (lastChange, status) of each generated order as generated: what the feed reports as an
        # order's previous state the first time it changes.
        self.generated_state: dict[str, tuple[Any, Any]] = {
            oid: (doc.get("lastChange"), doc.get("status")) for oid, doc in self._docs.items()
        }

    def plan(self, planned: Planned) -> None:
        """Take ``planned``'s orders (ids not already here) as this mapping's planned orders."""
        if self._planned.order_id:
            raise RuntimeError("orders are planned once")  # rows index the one Planned
        self._planned = planned
        self._plans = {oid: row for row, oid in enumerate(planned.order_id)}
        self._ids.update(dict.fromkeys(planned.order_id))

    # -- the mapping ---------------------------------------------------------------------------
    def __getitem__(self, order_id: str) -> dict:
        doc = self._docs.get(order_id)
        if doc is not None:
            return doc
        row = self._plans.get(order_id)
        if row is None or self._build is None:
            raise KeyError(order_id)
        doc = self._build(self._planned, row)
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
        return self._planned.read(self._plans[order_id], name)

    def list_columns(self, names: tuple[str, ...]) -> tuple[list[str], list[int | None], list[list[Any]]]:
        """Every order's id, its planned creation instant (microseconds since the epoch; None for
        a built document, whose ``creation_date`` is read instead) and the fields ``names``, as
        columns: the list index's first build, for every order of a large store. The planned
        orders' columns are sliced from the plan, not read order by order."""
        docs = list(self._docs.values())
        rows = list(self._plans.values())
        planned = self._planned
        ids = list(self._docs) + [planned.order_id[row] for row in rows]  # (the keys, as the mapping's)
        instants: list[int | None] = [None] * len(docs)
        instants += map(planned.created.__getitem__, rows)
        columns = []
        for name in names:
            column = [LIST_FIELDS[name](doc) for doc in docs]
            if name == "creation_date":
                column += [None] * len(rows)  # the instant stands for it
            else:
                column += map(getattr(planned, name).__getitem__, rows)
            columns.append(column)
        return ids, instants, columns

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
