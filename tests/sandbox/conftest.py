"""Fixtures for the sandbox tests: a small frozen-clock sandbox and clients on its in-process
transport (helpers shared by the test modules live in sandbox_support.py)."""

from __future__ import annotations

import httpx2
import pytest
from sandbox_support import AUTH, BASE_URL, NOW

from vtex_orders_mcp.sandbox import Sandbox


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def sb() -> Sandbox:
    # 200 orders keep each test fast while still covering every status and feature of the seed.
    return Sandbox(seed=7, orders=200, now=NOW)


@pytest.fixture
async def client(sb):
    async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL, headers=AUTH) as c:
        yield c


@pytest.fixture
async def anon(sb):
    """A client without credentials."""
    async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL) as c:
        yield c
