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

``serve_http`` is what ``vtex-orders-mcp serve --transport http`` runs, from the settings
(host, port, token, stateless, allowed origins: config.py). It refuses to bind a non-loopback
address without a token (a ``ConfigError``: the CLI prints it and exits 2) and routes uvicorn's
logs through the project's redacting handler (``log_config=None``) instead of uvicorn's own; the
token is a setting like any other secret, so the log filter already masks it. ``GET /healthz`` answers ``ok``
without a token, for load balancers and for scripts waiting for the server to come up.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from .errors import ConfigError
from .guard.pages import approval_routes

__all__ = ["HTTP_CLIENT_ID", "MCP_PATH", "StaticTokenVerifier", "build_http_app", "is_loopback", "serve_http"]

log = logging.getLogger("vtex_orders_mcp.http")

MCP_PATH = "/mcp"
# Everyone holding the shared token is one principal: confirmation tokens minted over HTTP are
# redeemable over HTTP (by any holder of the token) and not over stdio, and vice versa.
HTTP_CLIENT_ID = "http-bearer"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class StaticTokenVerifier:
    """The SDK's ``TokenVerifier`` protocol over one configured token.

    The ``AccessToken`` it returns lives in a contextvar for the whole request, where anything
    may print it: it carries a placeholder, never the token itself.
    """

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an empty bearer token would accept anyone")
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="***", client_id=HTTP_CLIENT_ID, scopes=[])
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


def check_bind(host: str, token: str | None) -> None:
    if is_loopback(host):
        return
    if not token:
        raise ConfigError(
            f"refusing to serve HTTP on {host} without a bearer token: set VTEX_MCP_HTTP_TOKEN "
            "(or --http-token), or bind to 127.0.0.1."
        )
    if len(token) < MIN_PUBLIC_TOKEN_LENGTH:
        # Reachable from other machines, the token is all that stands between them and the tools.
        raise ConfigError(
            f"refusing to serve HTTP on {host} with a bearer token shorter than {MIN_PUBLIC_TOKEN_LENGTH} "
            "characters: use a long random one (python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )


async def _healthz(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


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
) -> Starlette:
    """The ASGI app serving ``app.server`` (a ``server.App``) at ``/mcp``; see the module docstring."""
    check_bind(host, token)
    quiet_stateless_terminations()
    security = transport_security(host, port, list(allowed_origins or []))
    inner = app.server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=stateless, transport_security=security, host=host
    )
    middleware: list[Middleware] = []
    mcp_app: Any = inner
    if token:
        middleware = [
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(StaticTokenVerifier(token))),
            Middleware(AuthContextMiddleware),
        ]
        mcp_app = RequireAuthMiddleware(inner, required_scopes=[])
    # The approval page is served by this app (any replica can show and decide an approval kept
    # in the shared store); its links name the host the MCP request came to, unless the operator
    # set VTEX_MCP_PUBLIC_URL.
    pages = approval_routes(app.guard.approvals, app.settings, lambda: security.allowed_hosts)
    app.guard.page_base = _page_base
    # A Mount does not forward lifespan events: the session manager the inner app created is
    # run here instead (it owns the task group every MCP session lives in).
    return Starlette(
        routes=[Route("/healthz", _healthz, methods=["GET"]), *pages, Mount("/", app=mcp_app)],
        middleware=middleware,
        lifespan=lambda _: app.server.session_manager.run(),
    )


async def _page_base(ctx: Any) -> str | None:
    """The base URL approval links use: the scheme and host the MCP request came to."""
    headers = ctx.headers or {}
    host = headers.get("host")
    if not host:
        return None
    scheme = "https" if headers.get("x-forwarded-proto") == "https" else "http"
    return f"{scheme}://{host}"


def serve_http(app: Any) -> int:
    """Run the HTTP app with uvicorn until interrupted (``serve --transport http``)."""
    import uvicorn

    settings = app.settings
    token = settings.http_token.get_secret_value() if settings.http_token else None
    starlette_app = build_http_app(
        app,
        token=token,
        stateless=settings.stateless,
        allowed_origins=sorted(settings.allowed_origins or ()),
        host=settings.host,
        port=settings.port,
    )
    log.info(
        "Serving MCP over streamable HTTP at http://%s%s (%s; %s).",
        _host_header(settings.host, settings.port),
        MCP_PATH,
        "stateless" if settings.stateless else "stateful sessions",
        "bearer token required" if token else "no token: loopback only",
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
