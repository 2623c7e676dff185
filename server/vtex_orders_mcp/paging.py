"""Reads, one page or every page.

An operation with ``paging`` (list_orders) fetches every page when its ``all_pages`` argument
is set: page 1 tells how many pages there are (VTEX serves at most 30); the rest are fetched
concurrently, as many at once as the client allows (``VTEX_MAX_CONCURRENCY``), reporting
progress as pages arrive. One failed page fails the call with that page's error. When VTEX's
window cuts the list short, the answer says so in ``truncated``: the reason, how many rows it
holds of how many, and ``next``, the call that reads them all (the range walk, ranges.py, which
``whole_range`` asks for).
"""

from __future__ import annotations

from typing import Any

import anyio

from .client import VtexClient
from .errors import first_failure
from .models import Args
from .ranges import Progress, next_call, walk
from .registry import Operation, Paging

__all__ = ["Progress", "fetch"]


async def fetch(client: VtexClient, op: Operation, args: Args, progress: Progress | None = None) -> Any:
    """VTEX's answer to ``op`` with ``args``: every page merged, or the range walked, when the
    call asks for it."""
    if op.paging is not None and getattr(args, op.paging.whole_range, None):
        return await walk(client, op, op.paging, args, progress)
    if op.paging is not None and getattr(args, op.paging.flag, False):
        return await _all_pages(client, op, op.paging, args, progress)
    return await client.call(op, args)


async def _all_pages(
    client: VtexClient, op: Operation, paging: Paging, args: Args, progress: Progress | None
) -> dict[str, Any]:
    first = await client.call(op, args.model_copy(update={paging.page: 1}))
    available = int((first.get("paging") or {}).get("pages") or 1)
    pages = min(available, paging.max_pages)
    results: dict[int, dict[str, Any]] = {1: first}
    done = 1

    async def get(page: int) -> None:
        nonlocal done
        results[page] = await client.call(op, args.model_copy(update={paging.page: page}))
        done += 1
        if progress is not None:
            await progress(done, pages, f"fetched page {done}/{pages}")

    if progress is not None:
        await progress(1, pages, f"fetched page 1/{pages}")
    with first_failure():
        async with anyio.create_task_group() as tg:
            for page in range(2, pages + 1):
                tg.start_soon(get, page)
    rows = [row for p in sorted(results) for row in results[p].get(paging.rows) or []]
    merged = dict(first.get("paging") or {})
    merged.update(currentPage=None, pagesFetched=pages)
    answer = {**first, paging.rows: rows, "paging": merged}
    if available > paging.max_pages:
        answer["truncated"] = _window(paging, args, len(rows), merged.get("total"))
    return answer


def _window(paging: Paging, args: Args, shown: int, total: Any) -> dict[str, Any]:
    """What VTEX's 30-page window left out of an all_pages read, and the call that reads it all."""
    order = str(getattr(args, paging.order, ""))
    changes: dict[str, Any] = {paging.whole_range: "counts"}
    if not order.startswith(f"{paging.date},"):
        changes[paging.order] = f"{paging.date},desc"  # the walk needs creation order
    return {
        "reason": f"VTEX lists at most {paging.max_pages} pages of a query: call next (whole_range) for every order",
        "shown": shown,
        "total": total,
        "next": next_call(paging, args, changes),
    }
