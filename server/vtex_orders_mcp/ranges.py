"""Every order of a creation-date range, past VTEX's 30-page window (list_orders ``whole_range``).

VTEX lists at most 30 pages of one query (3,000 orders at 100 a page), whatever its
``paging.total`` says. The walk reads a range in pieces that fit: page 1 of the range (100 a
page) tells its count; a range that fits is read page by page, one that does not is halved at
a millisecond and each half read the same way, recursively. Pieces and pages are read
concurrently, as many requests at once as the client allows (``VTEX_MAX_CONCURRENCY``), with
progress against the range's count. The halves share their middle millisecond (VTEX's bounds are
inclusive on both sides), so no order falls between them, whatever precision VTEX compares
dates at; an order read twice counts once (rows are keyed by orderId). A millisecond holding
more orders than the window cannot be split: what VTEX cannot list of it is reported.

The answer is bounded, for a model's context: the count, the counts by status (``whole_range:
counts``), and the first ``per_page`` rows by creation date (then orderId) in ``order_by``'s
direction. When more remain, ``truncated.next`` is the call that reads them: the same arguments
with ``created_to`` (newest first) or ``created_from`` (oldest first) moved one millisecond past
the last row shown. Rows are shown by whole milliseconds (the orders of a group share their
creation instant), so following ``next`` reads every order exactly once, with no state kept on
the server: any replica answers it. (Exactly once needs VTEX to compare dates to the millisecond,
as its index keeps them; the sandbox does the same, docs in sandbox/listing.py.) A millisecond
holding more than 100 orders, more than an answer may show, is shown in part and reported.
``next`` asks for rows only (``whole_range: rows``): the counts are in the first answer, and a
rows-only call reads one page (rarely two) instead of the rest of the range, so reading a range
to the end costs its pages once, not once per answer.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from .client import VtexClient
from .errors import first_failure
from .models import Args
from .registry import Operation, Paging
from .registry.operation import vtex_instant

__all__ = ["Progress", "next_call", "walk"]

Progress = Callable[[float, float, str], Awaitable[None]]
Row = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _ms(value: datetime) -> int:
    """Milliseconds since the epoch (a naive date-time is UTC, as the list filter reads it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def _instant(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def _iso(ms: int) -> str:
    return vtex_instant(_instant(ms))


def _created(row: Row, paging: Paging) -> datetime:
    """A row's creation date, as precise as VTEX wrote it (7 fraction digits; Python reads 6).
    An unreadable one reads as the epoch: the walk never fails on one row."""
    try:
        value = datetime.fromisoformat(str(row.get(paging.date)))
    except ValueError:
        return _EPOCH
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def next_call(paging: Paging, args: Args, changes: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the call that goes on from ``args``: the ones given, less the page ones
    (the walk reads every page), with ``changes``."""
    given = args.model_dump(mode="json", exclude_defaults=True)
    for name in (paging.flag, paging.page):
        given.pop(name, None)
    return {**given, **changes}


class _Walk:
    """One range walk: the rows read so far, keyed by orderId, and what could not be read."""

    def __init__(
        self, client: VtexClient, op: Operation, paging: Paging, args: Args, progress: Progress | None
    ) -> None:
        self.client, self.op, self.paging, self.args, self.progress = client, op, paging, args, progress
        self.rows: dict[str, Row] = {}
        self.total = 0  # the range's count, for progress
        # Milliseconds holding more orders than the window, with how many of them VTEX cannot list
        # (the halves share their middle millisecond, so one may be met twice: read it once).
        self.crowded: dict[int, int] = {}

    async def read(self, start: int | None, end: int | None, page: int, per_page: int | None = None) -> Row:
        p = self.paging
        bounds = {p.start: None if start is None else _instant(start), p.end: None if end is None else _instant(end)}
        update = {**bounds, p.page: page, p.per_page: per_page or p.max_per_page}
        data = await self.client.call(self.op, self.args.model_copy(update=update))
        for row in data.get(p.rows) or []:
            if isinstance(row, dict) and row.get(p.key) is not None:
                self.rows[str(row[p.key])] = row
        if self.progress is not None and self.total:
            await self.progress(len(self.rows), self.total, f"read {len(self.rows)}/{self.total} orders")
        return data

    def count(self, data: Row) -> int:
        return int((data.get("paging") or {}).get("total") or 0)

    async def pages(self, start: int | None, end: int | None, first: Row) -> None:
        """The rest of a piece that fits the window, or as much of it as VTEX lists."""
        p = self.paging
        total = self.count(first)
        pages = math.ceil(total / p.max_per_page)
        if pages > p.max_pages and start is not None:
            if start in self.crowded:
                return
            self.crowded[start] = total - p.max_pages * p.max_per_page
        async with anyio.create_task_group() as tg:
            for page in range(2, min(pages, p.max_pages) + 1):
                tg.start_soon(self.read, start, end, page)

    async def piece(self, start: int, end: int, first: Row | None = None) -> None:
        first = first if first is not None else await self.read(start, end, 1)
        if self.count(first) <= self.paging.max_pages * self.paging.max_per_page or start >= end:
            await self.pages(start, end, first)
            return
        middle = (start + end) // 2
        halves = ((start, start), (end, end)) if end - start == 1 else ((start, middle), (middle, end))
        async with anyio.create_task_group() as tg:
            for low, high in halves:
                tg.start_soon(self.piece, low, high)

    async def edge(self, first: Row, direction: str) -> int | None:
        """The first creation instant of the range in ``direction`` (asc: oldest), from page 1
        when it was read in that direction, else from one more row."""
        p = self.paging
        data = first
        if not str(getattr(self.args, p.order)).endswith(f",{direction}"):
            copy = self.args.model_copy(update={p.order: f"{p.date},{direction}", p.page: 1, p.per_page: 1})
            data = await self.client.call(self.op, copy)
        rows = [r for r in data.get(p.rows) or [] if isinstance(r, dict)]
        return _ms(_created(rows[0], p)) if rows else None

    async def everything(self) -> None:
        """Every row of the arguments' range."""
        p = self.paging
        start, end = getattr(self.args, p.start), getattr(self.args, p.end)
        low, high = (None if start is None else _ms(start)), (None if end is None else _ms(end))
        first = await self.read(low, high, 1)
        self.total = self.count(first)
        if self.progress is not None:
            await self.progress(len(self.rows), self.total, f"read {len(self.rows)}/{self.total} orders")
        if self.total <= p.max_pages * p.max_per_page:
            await self.pages(low, high, first)
            return
        # Halving needs both ends: an open one is the oldest or newest order's instant.
        oldest = low if low is not None else await self.edge(first, "asc")
        newest = high if high is not None else await self.edge(first, "desc")
        if oldest is None or newest is None:
            return  # the range emptied meanwhile
        await self.piece(oldest, newest, first if (oldest, newest) == (low, high) else None)

    async def head(self, keys: Callable[[list[Row]], list[int]]) -> tuple[list[Row], int, bool]:
        """Rows only: the range's first rows in order, page by page until what to show is known
        (one page, almost always: see _cut). Returns the rows, the range's count and whether they
        are all of it."""
        p = self.paging
        start, end = getattr(self.args, p.start), getattr(self.args, p.end)
        low, high = (None if start is None else _ms(start)), (None if end is None else _ms(end))
        per_page = int(getattr(self.args, p.per_page))
        rows: list[Row] = []
        total = 0
        for page in range(1, p.max_pages + 1):
            data = await self.read(low, high, page)
            total = total or self.count(data)
            rows += [r for r in data.get(p.rows) or [] if isinstance(r, dict)]
            complete = len(rows) >= total or not data.get(p.rows)
            if complete or _cut(keys(rows), per_page, p.max_per_page, complete=False) is not None:
                return rows, total, complete
        return rows, total, False


def _cut(keys: list[int], per_page: int, most: int, *, complete: bool) -> tuple[int, bool] | None:
    """How many of the rows (whose creation milliseconds are ``keys``, in order) to show: at most
    ``per_page``, and whole milliseconds only, so that the next answer starts at the next one.
    A first millisecond holding more than ``per_page`` rows is shown whole when it holds at most
    ``most`` (an answer's bound); else ``per_page`` of its rows are, and True says that the rest
    of that millisecond is left out. None: the first millisecond may go on past the rows read."""
    if complete and len(keys) <= per_page:
        return len(keys), False
    limit = min(per_page, len(keys))
    # The millisecond that goes on past what is shown: the next row's, else (rows end here but
    # more follow) the last row's.
    going_on = keys[limit] if len(keys) > limit else keys[-1]
    shown = limit
    while shown and keys[shown - 1] == going_on:
        shown -= 1
    if shown:
        return shown, False
    ends = next((i for i, k in enumerate(keys) if k != keys[0]), None)
    if ends is None and not complete and len(keys) <= most:
        return None
    first = len(keys) if ends is None else ends
    return (first, False) if first <= most else (per_page, True)


async def walk(client: VtexClient, op: Operation, paging: Paging, args: Args, progress: Progress | None) -> Row:
    """The bounded answer for ``args``' range: VTEX's answer shape (rows under ``paging.rows``,
    the count as ``paging.total``) plus ``byStatus`` and ``truncated``."""
    state = _Walk(client, op, paging, args, progress)
    descending = str(getattr(args, paging.order)).endswith(",desc")

    def ordered(rows: list[Row]) -> list[Row]:
        return sorted(rows, key=lambda r: (_created(r, paging), str(r.get(paging.key))), reverse=descending)

    def keys(rows: list[Row]) -> list[int]:
        return [_ms(_created(r, paging)) for r in rows]

    by_status: dict[str, int] | None = None
    with first_failure():
        if getattr(args, paging.whole_range) != "rows":
            await state.everything()
            rows = ordered(list(state.rows.values()))
            count, complete = len(rows) + sum(state.crowded.values()), True
            tally = Counter(str(r.get(paging.status)) for r in rows)
            by_status = dict(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))
        else:
            head, count, complete = await state.head(lambda rs: keys(ordered(rs)))
            rows = ordered(head)
    row_keys = keys(rows)
    per_page = int(getattr(args, paging.per_page))
    # None only when VTEX's window ended inside one millisecond: treated as a crowded one.
    shown, crowded = _cut(row_keys, per_page, paging.max_per_page, complete=complete) or (per_page, True)
    shown = min(shown, len(rows))
    if crowded:
        state.crowded.setdefault(row_keys[0], 0)
    answer: Row = {paging.rows: rows[:shown], "paging": {"total": count}}
    if by_status is not None:
        answer["byStatus"] = by_status
    notes = []
    more = shown < len(rows) or not complete
    if more:
        notes.append(f"{shown} of {count} orders shown ({paging.per_page} {per_page}): call next for the rest")
    if state.crowded:
        instants = ", ".join(_iso(ms) for ms in sorted(state.crowded))
        notes.append(
            f"not every order created at {instants} can be shown (more in one millisecond than "
            "an answer or VTEX's window holds): narrow with status or q to read them"
        )
    if notes:
        truncated: Row = {"reason": "; ".join(notes), "shown": shown, "total": count}
        if shown and more:
            last = row_keys[shown - 1]
            moved = {paging.end: _iso(last - 1)} if descending else {paging.start: _iso(last + 1)}
            truncated["next"] = next_call(paging, args, {**moved, paging.whole_range: "rows"})
        answer["truncated"] = truncated
    return answer
