"""build_server(settings): composes the pieces, nothing more.

Backend choice happens once, here: with no credentials the embedded sandbox's in-process
transport and its own credentials are handed to the same ``VtexClient`` that would talk to
VTEX (the sandbox itself is built on its first request, embedded.py). Nothing downstream knows
which one it is.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from mcp.server.apps import Apps, ResourceCsp, client_supports_apps
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, InputRequiredResult
from mcp.types import Tool as MCPTool

from .client import VtexClient
from .config import Settings
from .embedded import EmbeddedSandbox
from .guard import APPROVAL_CARD, Guard
from .guard.card import CARD_HTML
from .guard.pages import LoopbackPages, approval_routes
from .logs import quiet_libraries
from .registry import CHECK_TOOL, CONFIRM_TOOL, REGISTRY, Registry
from .sdk import SessionToolsServer
from .resources import JSON, TEXT, Readable, as_json
from .storage import Store, open_store
from .tools import Runtime, build_tools

__all__ = ["INSTRUCTIONS", "App", "VtexMCPServer", "build_server"]

log = logging.getLogger("vtex_orders_mcp")

INSTRUCTIONS = (
    "Tools for a VTEX store's orders. Read freely; every write (cancel, invoice, modifications, "
    "configuration) needs the user's approval, asked by the server itself. If a write answers "
    "'approval_required', show the user its summary and, when there is one, its approval link; they decide "
    f"there, and {CHECK_TOOL} tells the outcome ({CONFIRM_TOOL}, when listed, runs a write only after the "
    "user agreed). Money arguments are in cents. Resources: vtex://orders/{order_id}, .../conversation, "
    ".../payment-transaction (add .txt for readable text), vtex://reference/order-statuses (what each "
    "status allows), vtex://audit/recent."
)


class VtexMCPServer(SessionToolsServer):
    """MCPServer whose JSON resource reads also carry their text rendering (``Readable``s, see
    resources.py), whose unknown prompts are the client's error (-32602, as MCP says), not an
    internal one, and whose tools/list depends on the session: the approval card's app-only
    tool is listed only to sessions that declared MCP Apps, and to those the write tools name
    the card they render (``_meta.ui.resourceUri``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.readables: list[Readable] = []

    async def list_tools_for(self, ctx: ServerRequestContext[Any, Any]) -> list[MCPTool]:
        tools = await self.list_tools()
        if not client_supports_apps(ctx):
            return [t for t in tools if ((t.meta or {}).get("ui") or {}).get("visibility", ["model"])[0] != "app"]
        return [_with_card(t) for t in tools]

    def add_readable(self, readable: Readable) -> None:
        self.readables.append(readable)

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        offered = sorted(p.name for p in await self.list_prompts())
        if name not in offered:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown prompt: {name!r}; this server offers: " + (", ".join(offered) or "none"),
            )
        return await super().get_prompt(name, arguments, context)

    async def read_resource(
        self, uri: Any, context: Context[Any, Any] | None = None
    ) -> list[ReadResourceContents] | InputRequiredResult:
        for readable in self.readables:
            match = readable.pattern.fullmatch(str(uri))
            if match:
                data, text = await readable.read(match.groupdict())
                return [
                    ReadResourceContents(content=as_json(data), mime_type=JSON),
                    ReadResourceContents(content=text, mime_type=TEXT),
                ]
        contents = await super().read_resource(uri, context)
        return contents if isinstance(contents, InputRequiredResult) else list(contents)


def _with_card(tool: MCPTool) -> MCPTool:
    """A guarded write tool, for an MCP Apps host: its result renders on the approval card."""
    meta = tool.meta or {}
    if "vtex" not in meta or (tool.annotations is not None and tool.annotations.read_only_hint):
        return tool
    return tool.model_copy(update={"meta": {**meta, "ui": {"resourceUri": APPROVAL_CARD}}})


@dataclass
class App:
    """The server and what it was built from (tests and the CLI reach in here)."""

    server: VtexMCPServer
    settings: Settings
    runtime: Runtime
    embedded: EmbeddedSandbox | None  # when running on the embedded sandbox
    pages: LoopbackPages
    owns_store: bool = True  # False when the store is shared by several accounts' servers (accounts.py)

    @property
    def sandbox(self) -> Any | None:
        """The vtex_orders_mcp.sandbox.Sandbox when running on the embedded sandbox (built now
        if no request has reached it yet)."""
        return self.embedded.sandbox if self.embedded is not None else None

    @property
    def client(self) -> VtexClient:
        return self.runtime.client

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def guard(self) -> Guard:
        return self.runtime.guard

    async def aclose(self) -> None:
        await self.runtime.client.aclose()
        if self.owns_store:
            await self.runtime.store.aclose()


def build_server(
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    sandbox: Any | None = None,
    registry: Registry = REGISTRY,
    store: Store | None = None,
) -> App:
    """The server for one VTEX account. ``store``: a store shared with other accounts' servers
    (accounts.py), scoped to this account here; by default the settings' own store."""
    settings = settings or Settings.from_env()
    credentials: dict[str, str] | None = None
    embedded = None
    if settings.uses_sandbox and transport is None:
        embedded = EmbeddedSandbox(settings.sandbox_seed, settings.sandbox_orders, sandbox)
        if sandbox is None:
            log.warning(
                "No VTEX credentials configured: serving the embedded sandbox (%d simulated orders, seed %d).",
                settings.sandbox_orders,
                settings.sandbox_seed,
            )
        transport = embedded.transport()  # it sends the sandbox's own credentials
        credentials = {}

    client = VtexClient(settings, transport, credentials=credentials)
    owns_store = store is None
    # Every audit row and approval names the account; reads see only this account's.
    store = (store or open_store(settings)).scoped(settings.account, settings.secret_values())
    guard = Guard(settings, registry, client, store)
    runtime = Runtime(settings=settings, registry=registry, client=client, guard=guard, store=store)
    # Over stdio (and in memory) the approval page is a loopback server started on first use in
    # the server's lifespan; http.py serves the same routes from the HTTP app instead.
    pages = LoopbackPages(lambda hosts: approval_routes(guard.approvals, settings, hosts))
    guard.page_base = lambda ctx: pages.base_url()

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        async with anyio.create_task_group() as group:
            pages.attach(group)
            try:
                yield {}
            finally:
                pages.detach(group)
                group.cancel_scope.cancel()

    apps = Apps()
    apps.add_html_resource(
        APPROVAL_CARD,
        CARD_HTML,
        name="approval-card",
        title="Approve a change",
        description="The card a write waiting for approval renders on (MCP Apps hosts).",
        csp=ResourceCsp(),
        prefers_border=True,
    )
    _announce_relaxed(settings)
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
        extensions=[apps],
        lifespan=lifespan,
    )
    quiet_libraries()
    app = App(server=server, settings=settings, runtime=runtime, embedded=embedded, pages=pages, owns_store=owns_store)
    _extend(app)
    return app


def _announce_relaxed(settings: Settings) -> None:
    """Writes that run without a human are said at start, where the operator looks."""
    if settings.guard == "off":
        log.warning(
            "GUARD OFF: writes reach %s WITHOUT human approval.", "the sandbox" if settings.uses_sandbox else "VTEX"
        )
    elif settings.guard_relax:
        log.warning(
            "GUARD RELAXED: %s run WITHOUT human approval (VTEX_MCP_GUARD_RELAX).",
            ", ".join(sorted(settings.guard_relax)),
        )


def _extend(app: App) -> None:
    """Resources and prompts register themselves on the server (resources.py, prompts.py)."""
    from .prompts import register_prompts
    from .resources import register_resources

    register_resources(app)
    register_prompts(app)


def _version() -> str:
    from ._version import __version__

    return __version__
