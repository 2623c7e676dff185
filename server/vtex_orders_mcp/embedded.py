"""The embedded sandbox (no VTEX credentials), imported and built when the first request reaches it.

The README's first run lists tools before it reads any order. Importing the simulator (Starlette,
JSONata) and generating its orders at start would delay that first answer for nothing, so the
server gets a transport that builds the sandbox on its first request and hands every request the
sandbox's own credentials (those of a real store come from the settings, client.py). A sandbox
handed to ``build_server`` (tests, evals, the demo) is used as it is.
"""

from __future__ import annotations

from typing import Any

import httpx2

__all__ = ["EmbeddedSandbox"]


class EmbeddedSandbox:
    """One embedded sandbox: given, or built from ``seed`` and ``orders`` on first use."""

    def __init__(self, seed: int, orders: int, sandbox: Any | None = None) -> None:
        self._seed, self._orders = seed, orders
        self._sandbox = sandbox

    @property
    def sandbox(self) -> Any:
        """The vtex_orders_mcp.sandbox.Sandbox, built now if it was not yet."""
        if self._sandbox is None:
            from .sandbox import Sandbox

            self._sandbox = Sandbox(seed=self._seed, orders=self._orders)
        return self._sandbox

    def transport(self) -> httpx2.AsyncBaseTransport:
        return _FirstUse(self)


class _FirstUse(httpx2.AsyncBaseTransport):
    def __init__(self, embedded: EmbeddedSandbox) -> None:
        self._embedded = embedded
        self._inner: httpx2.AsyncBaseTransport | None = None
        self._credentials: dict[str, str] = {}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._inner is None:
            from .sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN

            self._inner = self._embedded.sandbox.transport()
            self._credentials = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}
        request.headers.update(self._credentials)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()
