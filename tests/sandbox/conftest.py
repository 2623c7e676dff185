"""Fixtures for the sandbox tests: a small frozen-clock sandbox and clients on its in-process
transport (helpers shared by the test modules live in sandbox_support.py)."""

from __future__ import annotations

import pytest
from sandbox_support import NOW, http

from vtex_orders_mcp.sandbox import Sandbox


@pytest.fixture(scope="session")
def _shared_sandbox() -> Sandbox:
    # 200 orders keep each test fast while still covering every status and feature of the seed.
    return Sandbox(seed=7, orders=200, now=NOW)


@pytest.fixture
def sb(_shared_sandbox) -> Sandbox:
    """The seeded sandbox in its seeded state (one shared instance: building one per test costs
    more than the tests themselves)."""
    yield _shared_sandbox
    # Reseed only after a test that may have changed state (an accepted write, a write behind a
    # fault, a request outside the OMS read routes, a moved clock, a fault); tests that only read
    # or only had writes refused (which change nothing) just clear the log and the rate window.
    dirty = (
        any(
            not r.path.startswith("/api/oms/") or (r.method != "GET" and (r.status < 400 or r.fault))
            for r in _shared_sandbox.requests
        )
        or _shared_sandbox.clock.now() != NOW
        or len(_shared_sandbox.faults)
    )
    if dirty:
        _shared_sandbox.reset()
    else:
        _shared_sandbox.clear_log()
        _shared_sandbox.rate_limiter.reset()
        _shared_sandbox.faults.reset()


@pytest.fixture
async def client(sb):
    async with http(sb) as c:
        yield c


@pytest.fixture
async def anon(sb):
    """A client without credentials."""
    async with http(sb, auth=False) as c:
        yield c
