"""The approval page: where a person approves or declines a write the client could not ask about.

``GET /approvals/{id}/{key}`` shows what the approval card shows: the summary, every argument
exactly as it will be sent, the order's state and when the approval expires. ``POST`` to the same
URL decides, once. Over HTTP the routes live in the server's own app (http.py); over stdio a
loopback-only server on an ephemeral port serves them (``LoopbackPages``), started the first time
a link is needed.

What protects a decision:

- the URL is a capability (approvals.py): without the key derived from the server secret, 404;
- a POST must carry the page's CSRF token and come from the page's own origin (``Origin``), to a
  host the server answers to (``Host``): another site, or a DNS-rebinding page, cannot decide;
- approver sign-in (team option, ``VTEX_MCP_APPROVERS``): the form asks for an approver token and
  the audit records the approver's name; with four-eyes rules (``VTEX_MCP_FOUR_EYES``) the
  approver must not be the principal that asked for the write;
- a decision is taken once and only before expiry (the store enforces both atomically);
- responses are ``no-store``, sent with ``Referrer-Policy: same-origin`` (the key is in the URL:
  it goes nowhere but back to this server; ``no-referrer`` would also make browsers send
  ``Origin: null`` with the form's POST, which the Origin check then refuses), and a
  Content-Security-Policy that allows no script at all and forms only to this server.
  Untrusted text (the summary quotes shopper data) is HTML-escaped; the page loads nothing.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import json
import logging
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anyio
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..config import Settings
from ..storage import Approval
from .approvals import Approvals, Decision
from .principals import person_of

__all__ = ["LoopbackPages", "approval_routes", "page_path"]

log = logging.getLogger("vtex_orders_mcp.guard.pages")

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "pre{background:#f4f4f4;padding:.8rem;overflow:auto;white-space:pre-wrap;word-break:break-word}"
    ".summary{font-size:1.1rem;font-weight:600}.muted{color:#666}.outcome{padding:.8rem;background:#eef6ee}"
    "button{font-size:1rem;padding:.5rem 1.4rem;margin-right:1rem}"
)


def page_path(approval: Approval, key: str) -> str:
    return f"/approvals/{approval.id}/{key}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{_STYLE}</style></head><body>{body}</body></html>'
    )
    return HTMLResponse(doc, status_code=status, headers=HEADERS)


def _remaining(approval: Approval, now: float) -> str:
    seconds = int(approval.expires_at - now)
    return f"{seconds // 60} min {seconds % 60} s" if seconds > 0 else "expired"


def _details(approval: Approval, now: float) -> str:
    sent = json.dumps({"tool": approval.tool, "arguments": approval.arguments}, indent=2, ensure_ascii=False)
    state = f"order state {approval.state[:8]}" if approval.state else "not bound to an order's state"
    return (
        f'<p class="summary">{html.escape(approval.summary)}</p>'
        f"<p>Exactly this will be sent to VTEX:</p><pre>{html.escape(sent)}</pre>"
        f'<p class="muted">Asked by {html.escape(approval.principal)} · {html.escape(state)} · '
        f"approval {html.escape(approval.id)} · {_remaining(approval, now)} left</p>"
    )


def _form(approvals: Approvals, approval: Approval, sign_in: bool) -> str:
    token = (
        '<p><label>Approver token <input type="password" name="approver" autocomplete="off" required></label></p>'
        if sign_in
        else ""
    )
    return (
        f'<form method="post"><input type="hidden" name="csrf" value="{approvals.csrf(approval.id)}">{token}'
        '<button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="decline">Decline</button></form>'
    )


def _outcome(approval: Approval) -> str:
    if approval.status == "pending":
        return ""
    said = {
        "approved": "Approved; sending to VTEX…",
        "declined": "Declined: nothing was sent to VTEX.",
        "done": "Approved and sent to VTEX.",
        "failed": "Approved, but VTEX did not apply it.",
        "unknown": "Approved and sent, but VTEX's answer was lost: check the order.",
    }[approval.status]
    detail = json.dumps(approval.outcome, indent=2, ensure_ascii=False) if approval.outcome else ""
    by = f" by {approval.decided_by}" if approval.decided_by else ""
    return f'<div class="outcome"><p>{html.escape(said + by)}</p>' + (
        f"<pre>{html.escape(detail)}</pre></div>" if detail else "</div>"
    )


class _Checks:
    """Host and Origin rules for the page: the names this server answers to."""

    def __init__(self, hosts: Callable[[], Iterable[str]]) -> None:
        self._hosts = hosts

    def host_ok(self, request: Request) -> bool:
        return request.headers.get("host", "") in set(self._hosts())

    def origin_ok(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        return origin is not None and origin in (f"http://{host}", f"https://{host}")


def approval_routes(
    approvals: Approvals,
    settings: Settings,
    hosts: Callable[[], Iterable[str]],
    clock: Callable[[], float] = time.time,
    *,
    prefix: str = "/approvals",
) -> list[Route]:
    """The page's routes, for the HTTP app or the loopback server (``prefix``: one per account
    when one server serves several, accounts.py)."""
    checks = _Checks(hosts)
    approvers = settings.approver_tokens

    async def load(request: Request) -> Approval | Response:
        if not checks.host_ok(request):
            return Response("Invalid Host header", status_code=421, headers=HEADERS)
        approval_id, key = request.path_params["approval_id"], request.path_params["key"]
        if not approvals.key_matches(approval_id, key):
            return _page("Not found", "<p>There is no such approval.</p>", 404)
        approval = await approvals.get(approval_id)
        if approval is None:
            return _page("Not found", "<p>There is no such approval.</p>", 404)
        return approval

    async def show(request: Request) -> Response:
        approval = await load(request)
        if isinstance(approval, Response):
            return approval
        now = clock()
        if approval.status == "pending" and not approval.expired(now):
            actions = _form(approvals, approval, sign_in=bool(approvers))
        elif approval.expired(now):
            actions = "<p>This approval expired: nothing was sent. Ask the assistant to try again.</p>"
        else:
            actions = _outcome(approval)
        return _page("Approve a change", "<h1>Approve this change?</h1>" + _details(approval, now) + actions)

    async def decide(request: Request) -> Response:
        approval = await load(request)
        if isinstance(approval, Response):
            return approval
        form = await request.form()
        if not checks.origin_ok(request) or not approvals.csrf_matches(approval.id, str(form.get("csrf", ""))):
            log.warning("Refused a decision on approval %s: wrong origin or CSRF token.", approval.id)
            return _page("Refused", "<p>This decision did not come from the approval page.</p>", 403)
        by = _approver(approvers, str(form.get("approver", "")))
        if by is None:
            return _page("Refused", "<p>Unknown approver token.</p>", 403)
        if _needs_second_person(settings, approval) and by == person_of(approval.principal):
            return _page("Refused", "<p>This change needs a second person: the requester cannot approve it.</p>", 403)
        decision = await approvals.decide(approval.id, approve=form.get("decision") == "approve", by=by)
        return _decided(decision, clock())

    return [
        Route(prefix + "/{approval_id}/{key}", show, methods=["GET"]),
        Route(prefix + "/{approval_id}/{key}", decide, methods=["POST"]),
    ]


def _approver(approvers: dict[str, str], token: str) -> str | None:
    """Who decides: the signed-in approver (team option), else the person at the page."""
    if not approvers:
        return "page"
    return next((name for known, name in approvers.items() if _same(known, token)), None)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _needs_second_person(settings: Settings, approval: Approval) -> bool:
    tools, amount, account = settings.four_eyes_rules
    if approval.tool in tools:
        return True
    value = approval.arguments.get("invoiceValue") or approval.arguments.get("invoice_value")
    if amount is not None and isinstance(value, int) and value > amount:
        return True
    return account and approval.state is None


def _decided(decision: Decision, now: float) -> Response:
    approval = decision.approval
    body = f"<h1>{html.escape(decision.message)}</h1>"
    if approval is not None:
        body += _details(approval, now) + _outcome(approval)
    return _page("Decision", body, 200 if approval is not None else 404)


class LoopbackPages:
    """The approval page over stdio: a server on 127.0.0.1 and an ephemeral port, started in an
    MCP server lifespan's task group the first time a link is needed, and stopped with it. (An
    in-memory server can run several lifespans at once, one per connection: the page lives in one
    of them and is started again in another when that one ends.)"""

    def __init__(self, routes: Callable[[Callable[[], Iterable[str]]], list[Route]]) -> None:
        self._routes = routes
        self._groups: list[TaskGroup] = []
        self._serving: TaskGroup | None = None
        self._port: int | None = None
        self._lock = anyio.Lock()

    def attach(self, group: TaskGroup) -> None:
        self._groups.append(group)

    def detach(self, group: TaskGroup) -> None:
        self._groups.remove(group)
        if group is self._serving:
            self._serving, self._port = None, None

    def hosts(self) -> list[str]:
        return [f"{name}:{self._port}" for name in ("127.0.0.1", "localhost")] if self._port else []

    async def base_url(self) -> str | None:
        """``http://127.0.0.1:PORT``, starting the server if needed; None outside any lifespan."""
        async with self._lock:
            if self._port is None and self._groups:
                self._serving = self._groups[-1]
                self._port = await self._serving.start(self._serve)
        return f"http://127.0.0.1:{self._port}" if self._port else None

    async def _serve(self, *, task_status: Any) -> None:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        app = Starlette(routes=self._routes(self.hosts))
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", log_level="warning")

        class PageServer(uvicorn.Server):
            """uvicorn without its signal handling: the MCP server, not the page, owns Ctrl-C."""

            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        server = PageServer(config)
        task_status.started(int(sock.getsockname()[1]))
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()
