"""Streamable HTTP transport: one server shared by a team, behind a bearer token.

``build_http_app`` wraps the SDK's own streamable HTTP app (``MCPServer.streamable_http_app``,
served at ``/mcp``) in three layers, outermost first:

1. **Bearer token**, with the SDK's auth plumbing rather than a home-made check: Starlette's
   ``AuthenticationMiddleware`` with the SDK's ``BearerAuthBackend`` over ``StaticTokenVerifier``
   (one configured token, compared with ``hmac.compare_digest``), then ``AuthContextMiddleware``
   (puts the caller's ``AccessToken`` in a contextvar, which is what
   ``mcp.server.request_state.authenticated_principal`` reads, so confirmation tokens and sealed
   request state are bound to the HTTP caller rather than to "local"), then
   ``RequireAuthMiddleware`` in front of ``/mcp``: a missing or wrong token gets 401 with
   ``WWW-Authenticate: Bearer error="invalid_token"``. No OAuth metadata is advertised: the
   token is static configuration, and a ``resource_metadata`` hint would send OAuth-capable
   clients looking for an authorization server that does not exist.
2. **DNS-rebinding protection**, the SDK's ``TransportSecuritySettings``: the ``Host`` header
   must name the bind address with its port (or a loopback alias when bound to loopback, or the
   host of an ``--allowed-origin``), else 421; a browser ``Origin`` that is not the server's own
   or an ``--allowed-origin`` gets 403. Requests without ``Origin`` (every non-browser client)
   pass. These checks run after authentication, so a foreign page without the token sees 401.
3. **Stateless mode** (``--stateless``): no session id, every request stands alone, so several
   replicas can sit behind a load balancer. Clients speaking protocol 2026-07-28 still get
   elicitation (it travels inside the tool result); legacy 2025-11-25 clients declare no
   capabilities there, so the guard answers writes with its two-step confirmation token.

4. **Several accounts** (accounts.py): each account's server at ``/mcp/{account}``, with its
   approval page under ``/approvals/{account}/``. A token listed for an account carries the scope
   ``account:NAME``; each endpoint's ``RequireAuthMiddleware`` demands its own, so a token of
   another account gets 403. ``VTEX_MCP_HTTP_TOKEN`` carries every account's scope.

``serve_http`` is what ``vtex-orders-mcp serve --transport http`` runs, from the settings
(host, port, token, stateless, allowed origins: config.py). It refuses to bind a non-loopback
address without a token (a ``ConfigError``: the CLI prints it and exits 2) and routes uvicorn's
logs through the project's redacting handler (``log_config=None``) instead of uvicorn's own; the
token is a setting like any other secret, so the log filter already masks it. The app's lifespan
opens the store first (PostgreSQL: connect and migrate; a database that does not answer stops the
start) and closes it last. For load balancers, without a token: ``GET /healthz`` answers ``ok``
while the process is up, ``GET /readyz`` answers ``ready`` when the store answers and the
configuration still loads (503 and the reason otherwise).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import anyio

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .errors import ConfigError
from .guard.pages import approval_routes
from .guard.principals import HTTP_CLIENT_ID, principal_of

__all__ = [
    "HTTP_CLIENT_ID",
    "MCP_PATH",
    "StaticTokenVerifier",
    "build_http_app",
    "is_loopback",
    "serve_http",
]

log = logging.getLogger("vtex_orders_mcp.http")
READY_TIMEOUT = 5.0  # seconds /readyz waits for the store

MCP_PATH = "/mcp"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class StaticTokenVerifier:
    """The SDK's ``TokenVerifier`` protocol over the configured tokens.

    One token (``VTEX_MCP_HTTP_TOKEN``) or several, each with the scopes it grants: with several
    accounts (accounts.py), ``account:NAME`` for every account whose endpoint it opens. The
    ``AccessToken`` it returns lives in a contextvar for the whole request, where anything may
    print it: it carries a placeholder, never the token itself.
    """

    def __init__(self, tokens: str | Mapping[str, Iterable[str]], names: Mapping[str, str] | None = None) -> None:
        given = {tokens: ()} if isinstance(tokens, str) else tokens
        if not given or any(not t for t in given):
            raise ValueError("an empty bearer token would accept anyone")
        names = names or {}
        self._tokens = [(t.encode(), sorted(scopes), principal_of(names.get(t))) for t, scopes in given.items()]

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        found = None
        for known, scopes, client in self._tokens:  # every one compared, in constant time each
            if hmac.compare_digest(offered, known):
                found = (scopes, client)
        if found is not None:
            return AccessToken(token="***", client_id=found[1], scopes=list(found[0]))
        # Worth an operator's attention (access logs are off below DEBUG); never the token itself.
        log.warning("Refused an HTTP request: wrong bearer token.")
        return None


def is_loopback(host: str) -> bool:
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


def _own_names() -> list[str]:
    name = socket.gethostname()
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
    except OSError:  # a hostname that does not resolve: its name alone is still a valid Host
        addresses = set()
    return [name, *sorted(addresses)]


def _host_header(host: str, port: int) -> str:
    """How a client spells ``host:port`` in its Host header (IPv6 literals in brackets)."""
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


def transport_security(host: str, port: int, allowed_origins: list[str]) -> TransportSecuritySettings:
    """Host/Origin allow-lists for the SDK's DNS-rebinding check (exact ports, no wildcards)."""
    names = [_host_header(host, port)]
    if is_loopback(host):
        names += [f"{name}:{port}" for name in _LOOPBACK_NAMES]
    elif _is_wildcard(host):
        # Bound to every interface: accept this machine's own names; public names behind a
        # proxy come from --allowed-origin.
        names += [_host_header(name, port) for name in (*_LOOPBACK_NAMES, *_own_names())]
    hosts = list(dict.fromkeys(names))
    origins = [f"http://{h}" for h in hosts]
    for origin in allowed_origins:
        origin = origin.rstrip("/")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"--allowed-origin {origin!r} is not an origin like https://host[:port]")
        origins.append(origin)
        # Behind a reverse proxy the Host header is the public name the origin names.
        hosts.append(parts.netloc)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys(hosts)),
        allowed_origins=list(dict.fromkeys(origins)),
    )


MIN_PUBLIC_TOKEN_LENGTH = 16


def check_bind(host: str, token: str | None, others: Iterable[str] = ()) -> None:
    if is_loopback(host):
        return
    tokens = [t for t in (token, *others) if t]
    if not tokens:
        raise ConfigError(
            f"refusing to serve HTTP on {host} without a bearer token: set VTEX_MCP_HTTP_TOKEN "
            "(or --http-token), or bind to 127.0.0.1."
        )
    if any(len(t) < MIN_PUBLIC_TOKEN_LENGTH for t in tokens):
        # Reachable from other machines, the token is all that stands between them and the tools.
        raise ConfigError(
            f"refusing to serve HTTP on {host} with a bearer token shorter than {MIN_PUBLIC_TOKEN_LENGTH} "
            "characters: use a long random one (python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )


async def _healthz(_: Request) -> PlainTextResponse:
    """The process is up (liveness): no database, no VTEX, no token."""
    return PlainTextResponse("ok")


def _readyz(store: Any, check: Callable[[], Awaitable[None]] | None) -> Callable[[Request], Awaitable[Response]]:
    """Ready for traffic: the store answers and the configuration still loads. 503 says which is
    not (never a secret: connection errors are reduced to their kind)."""

    async def readyz(_: Request) -> Response:
        try:
            with anyio.fail_after(READY_TIMEOUT):
                await store.ping()
        except Exception as exc:
            log.warning("Not ready: the store does not answer (%s).", type(exc).__name__)
            return PlainTextResponse(f"not ready: the store does not answer ({type(exc).__name__})", status_code=503)
        if check is not None:
            try:
                await check()
            except ConfigError as exc:
                return PlainTextResponse(f"not ready: configuration: {exc}", status_code=503)
        return PlainTextResponse("ready")

    return readyz


class _NoSessionTermination(logging.Filter):
    """Drops the SDK's "Terminating session: None": a stateless transport has no session, yet the
    SDK logs its end at INFO after every request. A real session's termination (an id) still logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Terminating session: None"


def quiet_stateless_terminations() -> None:
    sdk_log = logging.getLogger("mcp.server.streamable_http")
    if not any(isinstance(f, _NoSessionTermination) for f in sdk_log.filters):
        sdk_log.addFilter(_NoSessionTermination())


def build_http_app(
    app: Any,
    *,
    token: str | None,
    stateless: bool = False,
    allowed_origins: list[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    accounts: Mapping[str, Any] | None = None,
    account_tokens: Mapping[str, Iterable[str]] | None = None,
    store: Any = None,
    ready: Callable[[], Awaitable[None]] | None = None,
    token_names: Mapping[str, str] | None = None,
) -> Starlette:
    """The ASGI app serving ``app.server`` (a ``server.App``) at ``/mcp``, or, with ``accounts``
    ({name: App}, accounts.py), each account's server at ``/mcp/{name}`` behind the tokens
    ``account_tokens`` ({name: tokens}) lists for it (``token`` opens every one); see the
    module docstring. ``store``: the store every server shares (default: ``app``'s), opened at
    start-up (migrations) and closed at shutdown; ``ready``: an extra readiness check;
    ``token_names``: the person a token stands for (its principal, ``principal_of``)."""
    served: dict[str, Any] = (
        {MCP_PATH: app} if accounts is None else {f"{MCP_PATH}/{n}": a for n, a in accounts.items()}
    )
    grants: dict[str, set[str]] = {token: set() if accounts is None else {"*"}} if token else {}
    for name, tokens in (account_tokens or {}).items():
        for t in tokens:
            grants.setdefault(t, set()).add(name)
    check_bind(host, token, grants)
    quiet_stateless_terminations()
    security = transport_security(host, port, list(allowed_origins or []))
    scopes = {t: ([f"account:{n}" for n in (accounts or {})] if "*" in g else [f"account:{n}" for n in g])
              for t, g in grants.items()}  # fmt: skip
    routes: list[Any] = []
    for path, one in served.items():
        inner = one.server.streamable_http_app(
            streamable_http_path=path, stateless_http=stateless, transport_security=security, host=host
        )
        # With several accounts a token opens only the endpoints of the accounts it is listed for.
        needed = [] if accounts is None else [f"account:{path.rsplit('/', 1)[1]}"]
        routes.append(Route(path, endpoint=RequireAuthMiddleware(inner, required_scopes=needed) if grants else inner))
        # The approval page is served by this app (any replica can show and decide an approval kept
        # in the shared store); its links name the host the MCP request came to, unless the operator
        # set VTEX_MCP_PUBLIC_URL. With several accounts each has its own page prefix.
        prefix = "/approvals" if accounts is None else f"/approvals/{path.rsplit('/', 1)[1]}"
        routes += approval_routes(one.guard.approvals, one.settings, lambda: security.allowed_hosts, prefix=prefix)
        one.guard.page_base = _page_base
        one.guard.page_prefix = prefix
    middleware: list[Middleware] = []
    if grants:
        middleware = [
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(StaticTokenVerifier(scopes, token_names))),
            Middleware(AuthContextMiddleware),
        ]
    shared = store if store is not None else app.store

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Migrations run here, before the first request; an unreachable database stops the start.
        await shared.open()
        try:
            async with contextlib.AsyncExitStack() as stack:
                # A Route does not forward lifespan events: each session manager an inner app
                # created is run here (it owns the task group every MCP session lives in).
                for one in served.values():
                    await stack.enter_async_context(one.server.session_manager.run())
                yield
        finally:
            await shared.aclose()

    return Starlette(
        routes=[
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/readyz", _readyz(shared, ready), methods=["GET"]),
            *routes,
        ],
        middleware=middleware,
        lifespan=lifespan,
    )


async def _page_base(ctx: Any) -> str | None:
    """The base URL approval links use: the scheme and host the MCP request came to."""
    headers = ctx.headers or {}
    host = headers.get("host")
    if not host:
        return None
    scheme = "https" if headers.get("x-forwarded-proto") == "https" else "http"
    return f"{scheme}://{host}"


def serve_http(settings: Any, app: Any = None, **accounts: Any) -> int:
    """Run the HTTP app with uvicorn until interrupted (``serve --transport http``): ``app``, or the
    servers of several accounts (``accounts``, ``account_tokens``, ``store``, ``ready``: see
    ``build_http_app``), with the serving ``settings``."""
    import uvicorn

    token = settings.http_token.get_secret_value() if settings.http_token else None
    starlette_app = build_http_app(
        app,
        token=token,
        stateless=settings.stateless,
        allowed_origins=sorted(settings.allowed_origins or ()),
        host=settings.host,
        port=settings.port,
        **accounts,
    )
    names = sorted(accounts.get("accounts") or ())
    log.info(
        "Serving MCP over streamable HTTP at http://%s%s (%s; %s).",
        _host_header(settings.host, settings.port),
        f"{MCP_PATH}/{{{','.join(names)}}}" if names else MCP_PATH,
        "stateless" if settings.stateless else "stateful sessions",
        "bearer token required" if token or accounts.get("account_tokens") else "no token: loopback only",
    )
    config = uvicorn.Config(
        starlette_app,
        host=settings.host.strip("[]"),
        port=settings.port,
        log_config=None,
        log_level=settings.log_level.lower(),
        # One line per POST costs throughput and says less than the audit log: DEBUG turns it on.
        access_log=settings.log_level == "DEBUG",
    )
    uvicorn.Server(config).run()
    return 0
