"""Plans of the orders a large store does not build at start (orderbook.Planned), drawn a column
at a time.

A 20,000-order store plans 19,500 orders at start, and must start about as fast as the default
store builds its 500. So nothing here draws or allocates per order where a column can be drawn
at once: weighted choices are random bytes mapped through a 256-entry table (``bytes.translate``,
in C; each weight is rounded to 1/256, close enough for a simulated mix), values are sums of
running totals over the item lines, and no object is kept per order (a Python object per order
also made every later garbage collection scan 19,500 more). The only loop per purchase splits
purchases into orders (a group of 2 or 3 orders when the purchase is split between sellers).

The mix is the one seed._purchase and seed._build_order draw (statuses, customers, channels,
creation dates by status, payments, SLAs, freight, items, quantities, sale prices), from a
generator of its own: the store's rng stays where the built orders left it, so what is drawn
later (receipts, ids) does not depend on how many orders are planned. Purchases are planned in
creation order, so sequence numbers grow with creation dates, as in a real store.

A planned order's document is built on first read (``build``), by seed._build_order from the
plan's figures and a generator seeded with the order's id; it checks every list field of the
document is the one its plan listed.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import json
import math
import operator
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .orderbook import LIST_FIELDS, Orders, Planned, epoch_us
from .seed import (
    _AGES,
    _PAYMENT_WEIGHTS,
    AFFILIATE,
    CATALOG,
    FREIGHTS,
    FULFILLMENT,
    ITEM_COUNTS,
    QUANTITIES,
    SELLERS,
    SLAS,
    SPLIT,
    SPLIT_IN_TWO,
    STATUS_WEIGHTS,
    _build_order,
    _customers,
    _templates,
)

if TYPE_CHECKING:
    from .state import Store

__all__ = ["build", "plan_orders"]


def _table(weights: list[float]) -> bytes:
    """A translate table: byte -> index, each index taking about its weight's share of 256."""
    total = sum(weights)
    bounds = [round(256 * cumulative / total) for cumulative in itertools.accumulate(weights)]
    return bytes(next(i for i, bound in enumerate(bounds) if byte < bound) for byte in range(256))


def _uniform(n: int) -> bytes:
    return _table([1] * n)


def _pool(pool: list[int]) -> tuple[list[int], bytes]:
    """A pool seed.py draws from with ``rng.choice`` (a repeated value weighs more): its distinct
    values and their table."""
    counts = collections.Counter(pool)
    values = sorted(counts)
    return values, _table([counts[value] for value in values])


_STATUSES = [status for status, _ in STATUS_WEIGHTS]
_STATUS_TABLE = _table([weight for _, weight in STATUS_WEIGHTS])
_PAYMENTS = [kind for kind, _ in _PAYMENT_WEIGHTS]
_PAYMENT_TABLE = _table([weight for _, weight in _PAYMENT_WEIGHTS])
# As seed._build_order draws them: how many items, how many of each, the freight (none for a
# pick-up), the SLA.
_ITEM_COUNTS, _ITEM_COUNT_TABLE = _pool(ITEM_COUNTS)
_QUANTITIES, _QUANTITY_TABLE = _pool(QUANTITIES)
_FREIGHTS, _FREIGHT_TABLE = _pool(FREIGHTS)
_SLA_TABLE = _uniform(len(SLAS))
_START_TABLE = _uniform(len(CATALOG))
# Distinct items: start + i * step (mod the catalogue's size), step coprime with the size.
_STEPS = [step for step in range(1, len(CATALOG)) if math.gcd(step, len(CATALOG)) == 1]
_STEP_TABLE = _uniform(len(_STEPS))
_PICKS = {
    (start, step, size): tuple((start + i * _STEPS[step]) % len(CATALOG) for i in range(_ITEM_COUNTS[size]))
    for start in range(len(CATALOG))
    for step in range(len(_STEPS))
    for size in range(len(_ITEM_COUNTS))
}
# Creation ages by status, in microseconds: (least, span).
_MICROSECOND = timedelta(microseconds=1)
_AGE_US = {
    status: (timedelta(**{unit: low}) // _MICROSECOND, timedelta(**{unit: high - low}) // _MICROSECOND)
    for status, (unit, low, high) in _AGES.items()
}
_STATUS_AGES = [_AGE_US.get(status, _AGE_US[None]) for status in _STATUSES]
_OTHER_SELLERS = [seller for seller, _ in SELLERS[1:]]
# Kinds of purchase, as seed._purchase draws them: (orders, channel). Split purchases are the
# store's (2 or 3 orders); affiliate and fulfillment orders come one by one (VTEX receives them so).
_KINDS = [(2, "store"), (3, "store"), (1, "affiliate"), (1, "fulfillment"), (1, "store")]
_KIND_TABLE = _table(
    [SPLIT * SPLIT_IN_TWO, SPLIT * (1 - SPLIT_IN_TWO), AFFILIATE - SPLIT, FULFILLMENT - AFFILIATE, 1 - FULFILLMENT]
)
_ONE_IN_FIVE = _table([4, 1])
_SEQUENCE_STEP_TABLE = bytes(1 + byte * 8 // 256 for byte in range(256))  # 1 to 8


@dataclass(slots=True)
class _Recipes:
    """What builds each planned document, by row: the purchase's draws and the order's own."""

    now: datetime
    customers: list[dict]
    customer: list[int]  # by row: the purchase's customer (an index in customers)
    channel: list[str]
    number: list[int]  # the order's number in its group (1 when not split)
    seller: list[str]
    payment: list[int]  # an index in _PAYMENTS
    sla: list[int]
    shipping: list[int]
    picks: list[tuple[int, ...]]  # catalogue indices
    first_line: list[int]  # where the order's lines start in quantities and sellings
    quantities: list[int]  # by item line
    sellings: list[int]
    partial: list[bool]

    def commerce(self, row: int) -> dict[str, Any]:
        """seed.build_order's ``commerce`` for the order at ``row``."""
        start, end = self.first_line[row], self.first_line[row + 1]
        return {
            "sla": SLAS[self.sla[row]],
            "shipping": self.shipping[row],
            "chosen": [CATALOG[i] for i in self.picks[row]],
            "quantities": self.quantities[start:end],
            "sellings": self.sellings[start:end],
            "partial": self.partial[row],
        }


def plan_orders(store: Store, orders: Orders, sequence: int) -> None:
    """Plan the orders past the built ones, up to ``store.order_count`` (module docstring);
    ``sequence`` is the next free sequence number."""
    count = store.order_count - len(orders)
    rng = random.Random(f"{store.seed}:{store.account}:planned")
    now = store.clock.now()
    customers = _customers(random.Random(f"{store.seed}:{store.account}:customers"))
    purchase_of, statuses, number, seller, channel, group, created = _orders_of_purchases(rng, orders, now, count)
    buyers = [int(rng.random() * len(customers)) for _ in range(count)]
    payments = list(rng.randbytes(count).translate(_PAYMENT_TABLE))
    # (customers and payments are drawn per purchase: an order takes its purchase's)
    buyers, payments = ([column[p] for p in purchase_of] for column in (buyers, payments))

    # Commerce, per order and per item line.
    slas = list(rng.randbytes(count).translate(_SLA_TABLE))
    freights = map(_FREIGHTS.__getitem__, rng.randbytes(count).translate(_FREIGHT_TABLE))
    shipping = [0 if SLAS[sla][0] == "Retirada" else freight for sla, freight in zip(slas, freights, strict=True)]
    sizes = rng.randbytes(count).translate(_ITEM_COUNT_TABLE)
    keys = zip(
        rng.randbytes(count).translate(_START_TABLE), rng.randbytes(count).translate(_STEP_TABLE), sizes, strict=True
    )
    picks = list(map(_PICKS.__getitem__, keys))
    first_line = list(itertools.accumulate((len(p) for p in picks), initial=0))
    lines = first_line[-1]
    quantities = list(map(_QUANTITIES.__getitem__, rng.randbytes(lines).translate(_QUANTITY_TABLE)))
    prices = [CATALOG[i][-1] for p in picks for i in p]
    sale = rng.randbytes(lines).translate(_ONE_IN_FIVE)  # 1 in 5 lines sold at 10% off
    sellings = [price * 9 // 10 if off else price for price, off in zip(prices, sale, strict=True)]
    partial_roll = rng.randbytes(count).translate(_ONE_IN_FIVE)  # 1 in 5 orders in handling
    partial = [status == "handling" and roll == 1 for status, roll in zip(statuses, partial_roll, strict=True)]

    # Each order's value and item count, from running totals over its lines: items at their
    # selling price, freight and tax, as Store.recompute_totals sums a document's, or a partial
    # invoice's value, as seed._apply_status sets it (build checks the two agree).
    amounts = list(itertools.accumulate(map(operator.mul, sellings, quantities), initial=0))
    units = list(itertools.accumulate(quantities, initial=0))
    tax = int(json.loads(_templates()[1]).get("tax") or 0)
    items = [units[end] - units[start] for start, end in itertools.pairwise(first_line)]
    values = [
        amounts[end] - amounts[start] + ship + tax * n
        for (start, end), ship, n in zip(itertools.pairwise(first_line), shipping, items, strict=True)
    ]
    for row in itertools.compress(range(count), partial):  # a partial invoice: its first line's value
        first = sellings[first_line[row]] * quantities[first_line[row]]
        values[row] = values[row] // 2 if first >= values[row] else first

    steps = rng.randbytes(count - 1).translate(_SEQUENCE_STEP_TABLE)
    recipes = _Recipes(
        now, customers, buyers, channel, number, seller, payments, slas, shipping, picks, first_line, quantities,
        sellings, partial,
    )  # fmt: skip
    planned = Planned(
        order_id=[f"{g}-{n:02d}" for g, n in zip(group, number, strict=True)],
        created=created,
        status=statuses,
        email=[customers[b]["email"] for b in buyers],
        sequence=list(map(str, itertools.accumulate(steps, initial=sequence))),
        order_group=group,
        value=values,
        total_items=items,
        origin=["Fulfillment" if c == "fulfillment" else "Marketplace" for c in channel],
        currency=["BRL"] * count,
        recipe=recipes,
    )
    orders.plan(planned)


def _orders_of_purchases(
    rng: random.Random, orders: Orders, now: datetime, count: int
) -> tuple[list[int], list[str], list[int], list[str], list[str], list[str], list[int]]:
    """``count`` orders from purchases drawn in creation order: for each order its purchase, its
    status, its number in the group, its seller, channel, group id and creation instant
    (microseconds)."""
    # Per purchase (at most one per order), drawn at once: the status and its age, the kind of
    # purchase, the group id.
    statuses = rng.randbytes(count).translate(_STATUS_TABLE)
    now_us = epoch_us(now)
    ages = list(map(_STATUS_AGES.__getitem__, statuses))
    instants = [now_us - low - int(rng.random() * span) for low, span in ages]
    kinds = list(map(_KINDS.__getitem__, rng.randbytes(count).translate(_KIND_TABLE)))
    groups = [str(1500000000000 + int(rng.random() * 9 * 10**11)) for _ in range(count)]
    taken = {oid.rpartition("-")[0] for oid in orders}
    # Each group id once (a purchase whose id was drawn before is skipped).
    drawn = []
    for p, group_id in enumerate(groups):
        if group_id not in taken:
            taken.add(group_id)
            drawn.append(p)
    # As many purchases as make ``count`` orders (the last one may be cut short: its group then
    # has fewer orders), in creation order.
    enough = bisect.bisect_left(list(itertools.accumulate(kinds[p][0] for p in drawn)), count) + 1
    if enough > len(drawn):  # only if nearly every group id were drawn twice
        raise RuntimeError("sandbox: too few distinct purchases planned")
    purchases = sorted(drawn[:enough], key=instants.__getitem__)
    sizes = [kinds[p][0] for p in purchases]
    sellers = [("1", *rng.sample(_OTHER_SELLERS, n - 1)) if n > 1 else ("1",) for n in sizes]
    purchase_of = list(itertools.chain.from_iterable(map(itertools.repeat, purchases, sizes)))[:count]
    return (
        purchase_of,
        [_STATUSES[statuses[p]] for p in purchase_of],
        list(itertools.chain.from_iterable(map(_NUMBERS.__getitem__, sizes)))[:count],
        list(itertools.chain.from_iterable(sellers))[:count],
        [kinds[p][1] for p in purchase_of],
        [groups[p] for p in purchase_of],
        [instants[p] for p in purchase_of],
    )


_NUMBERS = {1: (1,), 2: (1, 2), 3: (1, 2, 3)}


def build(store: Store, planned: Planned, row: int) -> dict:
    """The document of the planned order at ``row``, from its plan and its own seeded generator."""
    order_id = planned.order_id[row]
    recipes: _Recipes = planned.recipe
    order = _build_order(
        store, random.Random(f"{store.seed}:{store.account}:{order_id}"), recipes.now, store.account,
        recipes.customers[recipes.customer[row]], planned.status[row], recipes.channel[row],
        planned.order_group[row], recipes.number[row], planned.sequence[row], recipes.seller[row],
        planned.created_at(row), _PAYMENTS[recipes.payment[row]], commerce=recipes.commerce(row),
    )  # fmt: skip
    if any(read(order) != planned.read(row, name) for name, read in LIST_FIELDS.items()):
        # the plan's fields were listed before the document existed: they must be the document's
        raise RuntimeError(f"sandbox: order {order_id} was built unlike its plan")  # a generator bug
    return order
