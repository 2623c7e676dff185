"""Order lists: filtering, ordering, paging, statistics and the summary rows of ListOrders and the
customer's Userorderslist.

Paging limits (spec: "The limit of information retrieval is 30 pages, the default number of orders
per page is 15 and it is possible to configure it up to 100"). The spec is silent on what happens
beyond them; the sandbox **refuses** with 400 and a message naming the limit (rather than clamping
silently), so a client never mistakes a clamped page for the page it asked for. Non-numeric
`page`/`per_page`, unknown `orderBy` fields or directions and a `+` in `q` ("the `+` caracter is
not allowed in Fulltext Search") are refused the same way.

Sales channels: orders carry only the channel's id (`salesChannel`). `salesChannelId` filters by
that id; `f_salesChannel` filters by the channel's *name* (the spec's example is "Main"), looked up in
seed.SALES_CHANNEL_NAMES ("1" -> "Main", affiliates' channels by the affiliate's name), so
`f_salesChannel=1` matches nothing. Both take comma-separated values, matched exactly.

Not modelled: the ~4-minute indexing delay and the two-year retention limit (the seeded example
order is from 2019 and must stay reachable).
"""

from __future__ import annotations

import math
import operator
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import compress
from typing import Any

from .bodies import invalid, is_ascii_digits
from .invoicing import has_input_invoice
from .orderbook import LIST_FIELDS, Orders, epoch_us
from .seed import SALES_CHANNEL_NAMES

MAX_PAGE = 30
MAX_PER_PAGE = 100
MAX_SHIPPING_DAYS = 3650  # [inference] ten years either way; VTEX documents no bound
DEFAULT_PER_PAGE = 15
ORDER_FIELDS = ("creationDate", "orderId", "items", "totalValue", "origin")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_RANGE = re.compile(r"^(?:(\w+):)?\[\s*(\S+)\s+TO\s+(\S+)\s*\]$")

Query = dict[str, list[str]]


def first(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def paging_params(query: Query, page_name: str = "page", per_page_name: str = "per_page") -> tuple[int, int]:
    page = _positive_int(first(query, page_name), page_name, 1)
    per_page = _positive_int(first(query, per_page_name), per_page_name, DEFAULT_PER_PAGE)
    if per_page > MAX_PER_PAGE:
        raise invalid(f"per_page must be at most {MAX_PER_PAGE} (got {per_page})")
    if page > MAX_PAGE:
        raise invalid(
            f"page must be at most {MAX_PAGE}: the list is limited to 30 pages; narrow the "
            f"filters (e.g. f_creationDate) instead (got {page})"
        )
    return page, per_page


def _positive_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    # ASCII digits only (isdigit() also takes '²' and '٣'); more than 9 digits is out of any range.
    if not is_ascii_digits(raw) or len(raw.lstrip("0")) > 9 or int(raw) < 1:
        raise invalid(f"{name} must be a positive integer (got {raw!r})")
    return int(raw)


def parse_date(raw: str, name: str) -> datetime | None:
    """An ISO timestamp, or None for the open bound `*`."""
    if raw == "*":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{name}: {raw!r} is not an ISO 8601 date") from None
    if value.tzinfo is None:
        raise invalid(f"{name}: {raw!r} needs a time zone (use UTC, e.g. 2024-01-01T00:00:00.000Z)")
    return value


def date_range(raw: str, name: str) -> tuple[datetime | None, datetime | None]:
    """`creationDate:[2022-01-01T02:00:00.000Z TO 2022-01-02T01:59:59.999Z]` (prefix optional)."""
    match = _RANGE.match(raw.strip())
    if not match:
        raise invalid(
            f"{name} must look like creationDate:[2024-01-01T00:00:00.000Z TO 2024-01-31T23:59:59.999Z] (got {raw!r})"
        )
    return parse_date(match.group(2), name), parse_date(match.group(3), name)


def order_date(value: str | None) -> datetime | None:
    if not value:
        return None
    return _vtex_date(value)


@lru_cache(maxsize=1 << 16)  # every list request reads every order's dates: parse each once
def _vtex_date(value: str) -> datetime:
    # VTEX writes 7 fraction digits; Python's parser takes at most 6.
    value = _FRACTION.sub(r"\1", value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@lru_cache(maxsize=1 << 16)
def _indexed(value: str) -> datetime:
    """A date as the list's index keeps it: to the millisecond."""
    return _to_millisecond(_vtex_date(value))


def _to_millisecond(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def in_range(value: str | None, bounds: tuple[datetime | None, datetime | None]) -> bool:
    """Whether the date ``value`` lies within ``bounds``, both inclusive, to the millisecond: the
    list is an index that keeps dates to the millisecond [inference: VTEX's own examples tile days
    with ``[...T02:00:00.000Z TO ...T01:59:59.999Z]``], so ``TO ...43.899Z`` takes an order
    created at ``43.8999580``."""
    if not value:
        return False
    when = _indexed(value)
    low, high = bounds
    return (low is None or when >= low) and (high is None or when <= high)


def client_name(order: dict) -> str:
    profile = order.get("clientProfileData") or {}
    return " ".join(p for p in (profile.get("firstName"), profile.get("lastName")) if p)


def payment_names(order: dict) -> str:
    names = [
        p.get("paymentSystemName")
        for t in (order.get("paymentData") or {}).get("transactions") or []
        for p in t.get("payments") or []
    ]
    return ", ".join(dict.fromkeys(n for n in names if n))


def total_items(order: dict) -> int:
    return sum(int(i.get("quantity") or 0) for i in order.get("items") or [])


def shipping_dates(order: dict) -> list[str]:
    lines = (order.get("shippingData") or {}).get("logisticsInfo") or []
    return sorted(li["shippingEstimateDate"] for li in lines if li.get("shippingEstimateDate"))


def summary_row(order: dict, last_message: str | None) -> dict[str, Any]:
    """One ListOrders row: exactly the fields the spec's ListOrders schema lists."""
    dates = shipping_dates(order)
    return {
        "orderId": order["orderId"],
        "creationDate": order["creationDate"],
        "clientName": client_name(order),
        "items": None,  # "since October 3rd, 2018, this endpoint does not return the items property"
        "totalValue": order["value"],
        "paymentNames": payment_names(order),
        "status": order["status"],
        "statusDescription": order.get("statusDescription") or "",
        "marketPlaceOrderId": order.get("marketplaceOrderId") or None,
        "sequence": order["sequence"],
        "salesChannel": order["salesChannel"],
        "affiliateId": order.get("affiliateId") or "",
        "origin": order["origin"],
        "workflowInErrorState": bool(order.get("workflowIsInError", False)),
        "workflowInRetry": False,
        "lastMessageUnread": last_message,
        "ShippingEstimatedDate": dates[-1] if dates else None,
        "ShippingEstimatedDateMax": dates[-1] if dates else None,
        "ShippingEstimatedDateMin": dates[0] if dates else None,
        "orderIsComplete": bool(order.get("isCompleted", True)),
        "listId": None,
        "listType": None,
        "authorizedDate": order.get("authorizedDate"),
        "callCenterOperatorName": (order.get("callCenterOperatorData") or {}).get("userName"),
        "totalItems": total_items(order),
        "currencyCode": (order.get("storePreferencesData") or {}).get("currencyCode") or "BRL",
    }


def order_by(raw: str | None) -> tuple[str, str]:
    """`orderBy` as (field, direction); creationDate,desc when absent."""
    field_name, direction = "creationDate", "desc"
    if raw:
        parts = raw.split(",")
        field_name = parts[0].strip()
        direction = parts[1].strip().lower() if len(parts) > 1 else "asc"
        if field_name not in ORDER_FIELDS:
            raise invalid(f"orderBy field must be one of {', '.join(ORDER_FIELDS)} (got {field_name!r})")
        if direction not in ("asc", "desc"):
            raise invalid(f"orderBy direction must be asc or desc (got {direction!r})")
    return field_name, direction


def sort_orders(orders: list[dict], order_by_raw: str | None) -> list[dict]:
    field_name, direction = order_by(order_by_raw)
    keys: dict[str, Callable[[dict], Any]] = {
        "creationDate": lambda o: order_date(o["creationDate"]),
        "orderId": lambda o: o["orderId"],
        "items": total_items,
        "totalValue": lambda o: o["value"],
        "origin": lambda o: o["origin"],
    }
    key = keys[field_name]
    # orderId breaks ties (in the same direction) so equal keys keep a reproducible order.
    return sorted(orders, key=lambda o: (key(o), o["orderId"]), reverse=direction == "desc")


class ListIndex:
    """The list fields of every order in creation order (then orderId), kept between list requests,
    so that a list page reads columns instead of every order document (a large store's documents
    are mostly not even built, orderbook.py).

    Creation dates never change: the order is rebuilt only when orders come or go (a reseed makes
    a new mapping). A creation-date filter is a slice of it (bisect). The other columns (status,
    value, items, origin, currency) are read again from the documents the store reports changed
    (Orders.changed: every change goes through Store.set_status or Store.touch, or puts a new
    document in); a planned order's never change. Statistics are kept per query until a column
    changes, and each order's summary row until the order changes."""

    def __init__(self) -> None:
        self._source: Orders | None = None  # held, so that its id cannot be reused
        self._count = 0
        self.ids: list[str] = []
        self._instants: list[int] = []  # microseconds since the epoch, to the millisecond
        self._position: dict[str, int] = {}
        self.columns: dict[str, list[Any]] = {}
        self._version = 0
        self._stats: dict[tuple, tuple[int, dict[str, Any]]] = {}
        self._rows: dict[str, dict[str, Any]] = {}  # orderId -> summary_row(order, None)

    def refresh(self, orders: Orders) -> None:
        if self._source is not orders or self._count != len(orders):
            orders.take_changed()
            self._rows.clear()
            ids, planned, columns = orders.list_columns(("creation_date", *_COLUMNS))
            # Instants to the millisecond, in microseconds since the epoch (as in_range compares):
            # a planned order's from its instant, a document's from its creation date.
            instants = [
                epoch_us(_indexed(date)) if at is None else at - at % 1000
                for at, date in zip(planned, columns[0], strict=True)
            ]
            order = _creation_order(instants, ids)
            self.ids = [ids[i] for i in order]
            self._instants = [instants[i] for i in order]
            self._position = {oid: i for i, oid in enumerate(self.ids)}
            self.columns = {
                name: [column[i] for i in order] for name, column in zip(_COLUMNS, columns[1:], strict=True)
            }
            self._source, self._count = orders, len(orders)
            self._version += 1
            self._stats.clear()
            return
        changed = False
        for oid in orders.take_changed():
            self._rows.pop(oid, None)
            doc, at = orders[oid], self._position[oid]
            for name in _COLUMNS:
                value = LIST_FIELDS[name](doc)
                column = self.columns[name]
                if column[at] != value:
                    column[at] = value
                    changed = True
        if changed:
            self._version += 1
            self._stats.clear()

    def row(self, order: dict, last_message: str | None) -> dict[str, Any]:
        """The order's ListOrders row (kept until the order changes; the last message is read now)."""
        kept = self._rows.get(order["orderId"])
        if kept is None:
            kept = self._rows[order["orderId"]] = summary_row(order, None)
        return {**kept, "lastMessageUnread": last_message} if last_message is not None else kept

    def within(self, bounds: tuple[datetime | None, datetime | None]) -> range:
        """The positions of the orders created within ``bounds`` (both inclusive, see in_range)."""
        low, high = bounds
        start = 0 if low is None else bisect_left(self._instants, epoch_us(low))
        end = len(self.ids) if high is None else bisect_right(self._instants, epoch_us(high))
        return range(start, max(start, end))

    def stats(self, key: tuple, positions: Sequence[int]) -> dict[str, Any]:
        """ListOrders `stats` of the orders at ``positions`` (``key`` names the query that found
        them; the answer is kept until a column changes)."""
        kept = self._stats.get(key)
        if kept is not None and kept[0] == self._version:
            return kept[1]
        answer = self.stats_now(positions)
        if len(self._stats) > 64:
            self._stats.clear()
        self._stats[key] = (self._version, answer)
        return answer

    def stats_now(self, positions: Sequence[int], **form: bool) -> dict[str, Any]:
        """``stats_of`` the orders at ``positions`` (``form``: its ``integral`` and ``facets``)."""
        cols = self.columns
        if isinstance(positions, range) and positions.step == 1:
            pick: Callable[[list[Any]], list[Any]] = lambda column: column[positions.start : positions.stop]  # noqa: E731
        else:
            pick = lambda column: [column[p] for p in positions]  # noqa: E731
        return stats_of(
            pick(cols["value"]), pick(cols["total_items"]), pick(cols["currency"]), pick(cols["origin"]), **form
        )


def _creation_order(instants: list[int], ids: list[str]) -> list[int]:
    """Positions by instant, then orderId. Sorted by the instant alone, then runs of equal instants
    by id: a key tuple per order would cost more than the sort, and keep the garbage collector
    busy (a large store's first list request sorts 20,000)."""
    order = sorted(range(len(ids)), key=instants.__getitem__)
    start = 0
    for end in range(1, len(order) + 1):
        if end == len(order) or instants[order[end]] != instants[order[start]]:
            if end - start > 1:
                order[start:end] = sorted(order[start:end], key=ids.__getitem__)
            start = end
    return order


def sort_positions(index: ListIndex, positions: Sequence[int], field_name: str, direction: str) -> list[int]:
    """``positions`` in ``orderBy`` order other than creationDate, as sort_orders orders documents
    (orderId breaks ties, in the same direction)."""
    ids = index.ids
    column = {"orderId": None, "totalValue": "value", "items": "total_items", "origin": "origin"}[field_name]
    if column is None:
        return sorted(positions, key=lambda p: ids[p], reverse=direction == "desc")
    values = index.columns[column]
    return sorted(positions, key=lambda p: (values[p], ids[p]), reverse=direction == "desc")


_COLUMNS = ("status", "value", "total_items", "origin", "currency")


def page_of(items: Sequence[Any], page: int, per_page: int) -> tuple[Sequence[Any], dict[str, int]]:
    total = len(items)
    start = (page - 1) * per_page
    paging = {
        "total": total,
        "pages": math.ceil(total / per_page) if total else 0,
        "currentPage": page,
        "perPage": per_page,
    }
    return items[start : start + per_page], paging


def _stat(values: list[int], integral: bool) -> dict[str, Any]:
    count = len(values)
    total = sum(values)
    squares = sum(map(operator.mul, values, values))
    mean = total / count if count else 0.0
    std = math.sqrt(max(0.0, squares / count - mean * mean)) if count else 0.0
    if integral:
        mean, std = round(mean), round(std)
    else:
        mean, std = round(mean, 4), round(std, 4)
    return {
        "Count": count,
        "Max": max(values) if values else 0,
        "Mean": mean,
        "Min": min(values) if values else 0,
        "Missing": 0,
        "StdDev": std,
        "Sum": total,
        "SumOfSquares": squares,
        "Facets": None,
    }


def stats(orders: Iterable[dict], *, integral: bool = False, facets: bool = True) -> dict[str, Any]:
    """ListOrders `stats` of these orders (see stats_of)."""
    orders = list(orders)
    return stats_of(
        [o["value"] for o in orders],
        [total_items(o) for o in orders],
        [(o.get("storePreferencesData") or {}).get("currencyCode") or "BRL" for o in orders],
        [o["origin"] for o in orders],
        integral=integral,
        facets=facets,
    )


def stats_of(
    values: list[int], items: list[int], currencies: list[str], origins: list[str], *, integral: bool = False,
    facets: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """ListOrders `stats`: totalValue and totalItems, faceted by currency and origin, from each
    order's value, item count, currency and origin (parallel lists).

    The spec types Mean/StdDev as integer in a few places (the totalItems/Fulfillment facet, and
    everywhere in Userorderslist); those are rounded so responses match the published schema.
    """

    def block(metric: list[int], integral_fulfillment: bool) -> dict[str, Any]:
        out = _stat(metric, integral)
        if facets:
            by_currency: dict[str, list[int]] = {"BRL": []}
            if currencies.count("BRL") == len(currencies):
                by_currency["BRL"] = metric
            else:
                for code, v in zip(currencies, metric, strict=True):
                    by_currency.setdefault(code, []).append(v)
            fulfillment = [origin == "Fulfillment" for origin in origins]
            marketplace = [origin == "Marketplace" for origin in origins]
            by_origin = {
                "Fulfillment": list(compress(metric, fulfillment)),
                "Marketplace": list(compress(metric, marketplace)),
            }
            out["Facets"] = {
                "currencyCode": {code: _stat(vals, integral) for code, vals in by_currency.items()},
                "origin": {
                    origin: _stat(vals, integral or (integral_fulfillment and origin == "Fulfillment"))
                    for origin, vals in by_origin.items()
                },
            }
        else:
            out["Facets"] = {}
        return out

    return {"stats": {"totalValue": block(values, False), "totalItems": block(items, True)}}


def matches_text(order: dict, text: str) -> bool:
    """Fulltext over order id, client e-mail, document and name (case-insensitive substring)."""
    needle = text.strip().lower()
    profile = order.get("clientProfileData") or {}
    haystack = (
        order["orderId"],
        order.get("sequence") or "",
        profile.get("email") or "",
        profile.get("document") or "",
        client_name(order),
    )
    return any(needle in h.lower() for h in haystack)


def shipping_window(raw: str, now: datetime) -> Callable[[dict], bool]:
    """`f_shippingEstimate=<n>.days`: 7.days next 7 days, 0.days today, -1.days late."""
    match = re.fullmatch(r"(-?[0-9]{1,9})\.days", raw.strip())
    if not match:
        raise invalid(f"f_shippingEstimate must look like 7.days, 1.days, 0.days or -1.days (got {raw!r})")
    days = int(match.group(1))
    if abs(days) > MAX_SHIPPING_DAYS:
        raise invalid(
            f"f_shippingEstimate must be between -{MAX_SHIPPING_DAYS}.days and {MAX_SHIPPING_DAYS}.days (got {raw!r})"
        )
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def check(order: dict) -> bool:
        dates = [_vtex_date(d) for d in shipping_dates(order)]  # shipping_dates() has no empty ones
        if not dates or order["status"] in ("invoiced", "canceled"):
            return False
        estimate = max(dates)
        if days < 0:
            return estimate < now
        return today <= estimate < today + timedelta(days=days + 1)

    return check


def bool_param(raw: str, name: str) -> bool:
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false (got {raw!r})")


def list_filters(query: Query, now: datetime) -> list[Callable[[dict], bool]]:
    """The ListOrders filters present in the query, as predicates."""
    checks: list[Callable[[dict], bool]] = []

    statuses = [s.strip() for raw in query.get("f_status", []) for s in raw.split(",") if s.strip()]
    if statuses:
        checks.append(lambda o: o["status"] in statuses)
    for name, key in (
        ("f_creationDate", "creationDate"),
        ("f_invoicedDate", "invoicedDate"),
        ("f_authorizedDate", "authorizedDate"),
    ):
        raw = first(query, name)
        if raw:
            bounds = date_range(raw, name)
            checks.append(_date_filter(key, bounds))
    q = first(query, "q")
    if q:
        if "+" in q:
            raise invalid("The + character is not allowed in the fulltext search (q)")
        search_field = first(query, "searchField")
        if search_field:
            checks.append(_search_field(search_field, q))
        else:
            checks.append(lambda o: matches_text(o, q))
    raw = first(query, "f_shippingEstimate")
    if raw:
        checks.append(shipping_window(raw, now))
    # Each flag filter is built by its own call: the lambdas once shared one `want` variable, so
    # f_isInstore's value replaced f_hasInputInvoice's when both were given.
    for name, flag in (
        ("f_hasInputInvoice", has_input_invoice),
        ("incompleteOrders", lambda o: not o.get("isCompleted", True)),
        ("f_isInstore", lambda o: False),  # the sandbox has no inStore orders
    ):
        raw = first(query, name)
        if raw:
            checks.append(_flag_filter(flag, bool_param(raw, name)))
    for name, getter in (
        ("f_affiliateId", lambda o: [o.get("affiliateId") or ""]),
        ("salesChannelId", lambda o: [o.get("salesChannel")]),
        ("f_salesChannel", lambda o: [SALES_CHANNEL_NAMES.get(str(o.get("salesChannel")))]),
        ("f_sellerNames", lambda o: [s.get("name") for s in o.get("sellers") or []]),
        ("f_paymentNames", lambda o: [n.strip() for n in payment_names(o).split(",")]),
        ("f_callCenterOperatorName", lambda o: [(o.get("callCenterOperatorData") or {}).get("userName")]),
        ("f_UtmSource", lambda o: [(o.get("marketingData") or {}).get("utmSource")]),
        (
            "f_RnB",
            lambda o: [
                r.get("name") for r in (o.get("ratesAndBenefitsData") or {}).get("rateAndBenefitsIdentifiers") or []
            ],
        ),
    ):
        raw = first(query, name)
        if raw:
            wanted = {v.strip() for v in raw.split(",")}
            checks.append(_any_of_filter(getter, wanted))
    return checks


def _flag_filter(flag: Callable[[dict], bool], want: bool) -> Callable[[dict], bool]:
    """Orders whose boolean `flag` is `want`."""
    return lambda o: flag(o) == want


def _date_filter(key: str, bounds: tuple[datetime | None, datetime | None]) -> Callable[[dict], bool]:
    """Orders whose date field `key` lies within `bounds` (see in_range)."""
    return lambda o: in_range(o.get(key), bounds)


def _any_of_filter(getter: Callable[[dict], list], wanted: set[str]) -> Callable[[dict], bool]:
    """Orders with at least one non-empty value from `getter` among `wanted`."""
    return lambda o: bool(wanted.intersection(x for x in getter(o) if x))


def _search_field(name: str, value: str) -> Callable[[dict], bool]:
    def payments(o: dict) -> list[dict]:
        return [p for t in (o.get("paymentData") or {}).get("transactions") or [] for p in t.get("payments") or []]

    getters: dict[str, Callable[[dict], list]] = {
        "sku_Ids": lambda o: [i.get("id") for i in o.get("items") or []],
        "paymentId": lambda o: [p.get("id") for p in payments(o)],
        "tid": lambda o: [p.get("tid") for p in payments(o)],
        "pci_tid": lambda o: [p.get("tid") for p in payments(o)],
        "nsu": lambda o: [(p.get("connectorResponses") or {}).get("authId") for p in payments(o)],
        "listId": lambda o: [],
    }
    if name not in getters:
        raise invalid(f"searchField must be one of {', '.join(getters)} (got {name!r})")
    getter = getters[name]
    return lambda o: value in [x for x in getter(o) if x]
