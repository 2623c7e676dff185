"""The sandbox's ASGI application: VTEX routes behind the gate every request passes.

`build_app(sandbox, routes)` returns a Starlette app whose outermost layer, `Gate`, does for each
request on a VTEX path, in this order:

1. log it (`sandbox.requests`, appended first so even a hanging request is visible; its final status
   is filled in when the response goes out);
2. inject the faults that fire (faults.py) - before auth, as network/infrastructure failures would;
3. check credentials (401/403) and the per-minute rate limit (429 + Retry-After) - access.py;
4. run the route; SandboxError raised by a handler becomes VTEX's OMS envelope (or plain text).

Admin paths under /_sandbox (reset, request log, faults, clock) need the same credentials but are
neither logged, rate limited nor subject to faults.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route

from .access import IDENTITY_SCOPE_KEY
from .bodies import loads
from .faults import Fault, InjectedReset
from .requestlog import LoggedRequest
from .state import SandboxError

if TYPE_CHECKING:
    from .core import Sandbox

ADMIN_PREFIX = "/_sandbox"


def render_error(error: SandboxError, trace: str = "") -> Response:
    """The error in its shape: plain text, RFC 9110 problem JSON, or VTEX's OMS envelope.

    ``trace`` seeds a problem document's traceId (W3C traceparent form, as in VTEX's example),
    derived rather than drawn from the store's rng so that errors do not shift the seeded ids."""
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if error.text is not None:
        return PlainTextResponse(error.text, status_code=error.status, headers=headers)
    if error.problem:
        digest = hashlib.sha256(f"{trace}:{error.status}:{error.message}".encode()).hexdigest()
        document = error.problem_document(f"00-{digest[:32]}-{digest[32:48]}-00")
        return JSONResponse(document, status_code=error.status, headers=headers)
    return JSONResponse(error.envelope(), status_code=error.status, headers=headers)


def problem_json(endpoint: Any) -> Any:
    """Marks a route's endpoint as answering errors as RFC 9110 problem JSON, the gate's own 401
    included (VTEX documents the change summary's 401 so)."""
    endpoint.problem_json = True
    return endpoint


async def _sandbox_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxError)
    if getattr(request.scope.get("endpoint"), "problem_json", False):
        exc.problem = True
    return render_error(exc, trace=f"{request.method} {request.url.path}")


def build_app(sandbox: Sandbox, routes: list[Route]) -> Starlette:
    return Starlette(
        routes=routes,
        middleware=[Middleware(Gate, sandbox=sandbox, routes=routes)],
        exception_handlers={SandboxError: _sandbox_error_handler},
    )


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class Gate:
    """Pure-ASGI middleware implementing the request pipeline described in the module docstring."""

    def __init__(self, app, sandbox: Sandbox, routes: list[Route]):
        self.app = app
        self.sandbox = sandbox
        self.routes = routes

    def template(self, scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return f"{scope['method']} {route.path}"
        return f"{scope['method']} {scope['path']}"

    def allowed(self, scope) -> tuple[bool, set[str]]:
        """(whether a route serves this method and path, the methods the path's routes serve).

        One Route per method and path: Starlette's own 405 names only the first route's methods
        (GET, HEAD on the feed configuration, which also serves POST and DELETE)."""
        methods: set[str] = set()
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return True, methods
            if match is Match.PARTIAL:
                methods |= set(route.methods or ())
        return False, methods

    def problem_json(self, scope) -> bool:
        """Whether the route this request reaches answers errors as problem JSON (see problem_json)."""
        return any(
            getattr(route, "endpoint", None) is not None
            and getattr(route.endpoint, "problem_json", False)
            and route.matches(scope)[0] is not Match.NONE
            for route in self.routes
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = _replay(body, receive)
        request = Request(scope)
        sb = self.sandbox

        if scope["path"] == ADMIN_PREFIX or scope["path"].startswith(ADMIN_PREFIX + "/"):
            try:
                sb.credentials.check(request.headers, request.cookies)
                response = await Admin(sb).dispatch(request, body)
            except SandboxError as exc:
                response = render_error(exc)
            await response(scope, replay, send)
            return

        method, path = scope["method"], scope["path"]
        entry = LoggedRequest(
            method=method,
            path=path,
            query=parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True),
            body=_parse_body(body),
            time=sb.store.iso(),
            status=0,
            route=self.template(scope),
        )
        sb.log(entry)

        async def logged_send(message):
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        delays, fault = sb.faults.pick(method, path)
        for latency in delays:
            await anyio.sleep(latency.delay or 0)
        if fault is not None:
            entry.fault = fault.kind

        if fault is not None and not fault.after:
            if fault.kind == "timeout":
                await anyio.sleep(fault.delay or 0)  # then answer normally, if anyone still listens
            else:
                await _inject(fault, None, logged_send, entry)
                return

        async def handle(out_send):
            try:
                scope[IDENTITY_SCOPE_KEY] = sb.credentials.check(request.headers, request.cookies)
                sb.rate_limiter.hit()
                sb.tick()
            except SandboxError as exc:
                exc.problem = exc.problem or self.problem_json(scope)
                await render_error(exc, trace=f"{method} {path}")(scope, replay, out_send)
                return
            served, methods = self.allowed(scope)
            if not served and methods:
                allow = ", ".join(sorted(methods))
                await PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": allow})(
                    scope, replay, out_send
                )
                return
            await self.app(scope, replay, out_send)

        if fault is None or not fault.after:
            await handle(logged_send)
            return
        # after=True: the handler runs (the write happens), then the client sees the failure.
        captured = _Captured()
        await handle(captured.send)
        if fault.kind == "timeout":
            await anyio.sleep(fault.delay or 0)
            await captured.replay(logged_send)
        else:
            await _inject(fault, captured, logged_send, entry)


class _Captured:
    def __init__(self):
        self.messages: list[dict] = []

    async def send(self, message):
        self.messages.append(message)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")

    async def replay(self, send):
        for message in self.messages:
            await send(message)


async def _inject(fault: Fault, captured: _Captured | None, send, entry: LoggedRequest) -> None:
    if fault.kind == "status":
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        if fault.retry_after is not None:
            headers.append(
                (
                    b"retry-after",
                    str(
                        int(fault.retry_after) if float(fault.retry_after).is_integer() else fault.retry_after
                    ).encode(),
                )
            )
        text = f"Sandbox injected fault: HTTP {fault.status}".encode()
        headers.append((b"content-length", str(len(text)).encode()))
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": text})
    elif fault.kind == "malformed":
        real = captured.body if captured is not None else b""
        broken = real[: max(1, len(real) // 2)] if len(real) > 2 else b'{"orderId": "'
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(broken)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": broken})
    elif fault.kind == "reset":
        # Promise a body, send a piece of it, then drop the connection (over HTTP the server
        # closes the socket mid-response; the in-process transport maps this to an httpx2 error).
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        entry.status = 0  # the client never got a response
        raise InjectedReset(after=fault.after)
    else:  # pragma: no cover - kinds are validated by Fault
        raise AssertionError(fault.kind)


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class Admin:
    """/_sandbox endpoints for standalone use (tests in-process use the Sandbox object directly)."""

    def __init__(self, sandbox: Sandbox):
        self.sb = sandbox

    async def dispatch(self, request: Request, raw: bytes) -> Response:
        sb = self.sb
        method = request.method
        tail = request.url.path[len(ADMIN_PREFIX) :].strip("/")
        if tail == "reset" and method == "POST":
            sb.reset()
            return JSONResponse({"reset": True, "orders": len(sb.store.orders), "now": sb.store.iso()})
        if tail == "requests" and method == "GET":
            return JSONResponse([r.to_dict() for r in sb.requests])
        if tail == "requests" and method == "DELETE":
            sb.clear_log()
            return Response(status_code=204)
        if tail == "faults" and method == "GET":
            return JSONResponse([f.to_dict() for f in sb.faults])
        if tail == "faults" and method == "POST":
            data = self._json(raw)
            try:
                fault = sb.faults.add(Fault.from_dict(data))
            except (TypeError, ValueError) as exc:
                raise SandboxError(400, "1", f"Invalid fault: {exc}") from None
            return JSONResponse(fault.to_dict(), status_code=201)
        if tail == "faults" and method == "DELETE":
            sb.faults.clear()
            return Response(status_code=204)
        if tail == "clock" and method == "GET":
            return JSONResponse({"now": sb.store.iso(), "frozen": sb.store.clock.frozen})
        if tail == "clock" and method == "POST":
            data = self._json(raw)
            try:
                if "now" in data:
                    sb.store.clock.set(datetime.fromisoformat(str(data["now"]).replace("Z", "+00:00")))
                elif "advance" in data:
                    sb.store.clock.advance(float(data["advance"]))
                else:
                    raise ValueError('send {"now": "<iso datetime>"} or {"advance": <seconds>}')
            except (TypeError, ValueError) as exc:
                raise SandboxError(400, "1", f"Invalid clock change: {exc}") from None
            return JSONResponse({"now": sb.store.iso(), "frozen": sb.store.clock.frozen})
        parts = tail.split("/")
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "interactions" and method == "GET":
            order = sb.store.order(parts[1])
            return JSONResponse(sb.store.meta.get(order["orderId"], {}).get("interactions") or [])
        raise SandboxError(404, "1", f"Unknown sandbox admin endpoint: {method} {request.url.path}")

    @staticmethod
    def _json(raw: bytes) -> dict:
        try:
            data = loads(raw or b"{}")
        except ValueError:
            raise SandboxError(400, "1", "The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise SandboxError(400, "1", "The request body must be a JSON object")
        return data
