"""Reads, one page or every page.

An operation with ``paging`` (list_orders) fetches every page when its ``all_pages`` argument
is set: page 1 tells how many pages there are (VTEX serves at most 30); the rest are fetched
concurrently, as many at once as the client allows (``VTEX_MAX_CONCURRENCY``), reporting
progress as pages arrive. One failed page fails the call with that page's error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .client import VtexClient
from .errors import VtexError
from .models import Args
from .registry import Operation, Paging

__all__ = ["Progress", "fetch"]

Progress = Callable[[float, float, str], Awaitable[None]]


async def fetch(client: VtexClient, op: Operation, args: Args, progress: Progress | None = None) -> Any:
    """VTEX's answer to ``op`` with ``args``: every page merged when the call asks for them."""
    if op.paging is not None and getattr(args, op.paging.flag, False):
        return await _all_pages(client, op, op.paging, args, progress)
    return await client.call(op, args)


async def _all_pages(
    client: VtexClient, op: Operation, paging: Paging, args: Args, progress: Progress | None
) -> dict[str, Any]:
    first = await client.call(op, args.model_copy(update={paging.page: 1}))
    pages = min(int((first.get("paging") or {}).get("pages") or 1), paging.max_pages)
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
    try:
        async with anyio.create_task_group() as tg:
            for page in range(2, pages + 1):
                tg.start_soon(get, page)
    except BaseExceptionGroup as group:
        # One failed page fails the call with that page's error (the others are cancelled), told
        # the way any failed read is, instead of escaping as an ExceptionGroup.
        failed = group.subgroup(VtexError)
        if failed is None:
            raise
        first_error: BaseException = failed
        while isinstance(first_error, BaseExceptionGroup):
            first_error = first_error.exceptions[0]
        raise first_error from None
    rows = [row for p in sorted(results) for row in results[p].get(paging.rows) or []]
    merged = dict(first.get("paging") or {})
    merged.update(currentPage=None, pagesFetched=pages)
    return {**first, paging.rows: rows, "paging": merged}
