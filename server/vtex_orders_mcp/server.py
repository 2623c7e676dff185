"""build_server(settings): composes the pieces, nothing more.

Backend choice happens once, here: with no credentials the embedded sandbox's in-process
transport and its own credentials are handed to the same ``VtexClient`` that would talk to
VTEX. Nothing downstream knows which one it is.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, InputRequiredResult

from .audit import AuditLog
from .client import VtexClient
from .config import Settings
from .guard import Guard
from .resources import text_companion
from .tools import Runtime, build_tools

__all__ = ["App", "build_server", "INSTRUCTIONS"]

log = logging.getLogger("vtex_orders_mcp")

INSTRUCTIONS = (
    "Tools for a VTEX store's orders. Read freely; every write (cancel, invoice, modifications, "
    "configuration) needs the user's approval, asked by the server itself: if a write answers "
    "'approval_required', show the summary to the user and call confirm_write only after they agree. "
    "Money arguments are in cents. Resources: vtex://orders/{orderId}, .../conversation, "
    ".../payment-transaction (add .txt for readable text), vtex://reference/order-statuses (what each "
    "status allows), vtex://audit/recent."
)


class VtexMCPServer(MCPServer):
    """MCPServer whose JSON resource reads also carry their text rendering (see resources.py), and
    whose unknown prompts are the client's error (-32602, as MCP says), not an internal one."""

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        if self._prompt_manager.get_prompt(name) is None:
            offered = ", ".join(sorted(p.name for p in self._prompt_manager.list_prompts())) or "none"
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name!r}; this server offers: {offered}")
        return await super().get_prompt(name, arguments, context)

    async def read_resource(self, uri: Any, context: Any = None) -> Any:
        contents = await super().read_resource(uri, context)
        if isinstance(contents, InputRequiredResult):
            return contents
        contents = list(contents)
        return contents + text_companion(str(uri), contents)


@dataclass
class App:
    """The server and what it was built from (tests and the CLI reach in here)."""

    server: MCPServer
    settings: Settings
    runtime: Runtime
    sandbox: Any | None  # vtex_orders_mcp.sandbox.Sandbox when running on the embedded sandbox

    @property
    def client(self) -> VtexClient:
        return self.runtime.client

    @property
    def audit(self) -> AuditLog:
        return self.runtime.audit

    async def aclose(self) -> None:
        await self.runtime.client.aclose()


def build_server(
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    sandbox: Any | None = None,
) -> App:
    settings = settings or Settings.from_env()
    credentials = None
    if settings.uses_sandbox and transport is None:
        from .sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Sandbox

        if sandbox is None:
            sandbox = Sandbox(seed=settings.sandbox_seed, orders=settings.sandbox_orders)
            log.warning(
                "No VTEX credentials configured: serving the embedded sandbox (%d simulated orders, seed %d).",
                settings.sandbox_orders,
                settings.sandbox_seed,
            )
        transport = sandbox.transport()
        credentials = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}

    client = VtexClient(settings, transport, credentials=credentials)
    audit = AuditLog(Path(settings.state_dir) / "audit.sqlite3", secrets=settings.secret_values())
    guard = Guard(settings, client, audit)
    runtime = Runtime(settings=settings, client=client, guard=guard, audit=audit)

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        yield None

    server = VtexMCPServer(
        # Elicitation state under 2026-07-28 rides the client in sealed `request_state`; sealing it
        # with a key derived from the guard's secret lets any replica sharing VTEX_MCP_SECRET resume
        # a call another one started (the SDK's default key is per process).
        request_state_security=guard.request_state_security(),
        name="vtex-orders",
        title="VTEX Orders",
        instructions=INSTRUCTIONS,
        version=_version(),
        tools=build_tools(runtime),
        lifespan=lifespan,
    )
    # MCPServer sets up root logging at INFO when the embedding program has not (the CLI has, see
    # logs.py). httpx2 would then log a line per request next to our client's own line for the
    # operation; quiet it unless the embedder chose a level for it.
    for name in ("httpx2", "httpx"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    app = App(server=server, settings=settings, runtime=runtime, sandbox=sandbox)
    _extend(app)
    return app


def _extend(app: App) -> None:
    """Resources and prompts register themselves on the server (resources.py, prompts.py)."""
    from .prompts import register_prompts
    from .resources import register_resources

    register_resources(app)
    register_prompts(app)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vtex-orders-mcp")
    except PackageNotFoundError:
        return "0"
