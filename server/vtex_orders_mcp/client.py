"""VtexClient: one shared ``httpx2.AsyncClient`` that speaks to VTEX (or to the sandbox).

The transport is the seam. Real VTEX uses httpx2's default transport; the embedded sandbox is
an in-process ASGI transport; unit tests pass a ``MockTransport``. Nothing here knows which one
it is talking to.

What counts as an answer:

* **2xx** with an empty body is ``None`` (start-handling's 204, retry's 204, the 200s "without
  content"); otherwise the body must be JSON, and for the operations with a compact view the
  container that view reads (an object, or a list for order groups and conversations). Anything
  else (an HTML maintenance or login page from a proxy, truncated JSON, a body whose
  Content-Encoding does not decode) is not VTEX's document: a read raises ``VtexBadResponse``; a
  write raises ``VtexOutcomeUnknown``, because the request went out and a 2xx from something in
  between proves neither that VTEX applied it nor that it did not. The operations VTEX documents
  as answering without content (``Operation.answers_document`` false) may still carry stray
  plain text, which is returned as is; an HTML page is refused for them too.
* **3xx** is an error (``VtexRedirected``), never followed: VTEX's APIs do not redirect, so it
  means a wrong account or base URL, or a login page for bad credentials. The message names where
  it pointed, host and path only (a query string can carry a token). A 303 answering a write
  means "done, see elsewhere" in HTTP, so it is reported as outcome unknown, not as a failure.
* **4xx/5xx** raise the typed ``http_error_for`` errors. VTEX's own error text is copied into
  the message with every configured secret masked.

Retry policy, derived from the registry (``Operation.retries``):

* **reads** are retried on 429, 5xx, timeouts, connection failures and unreadable 2xx bodies
  (``VtexBadResponse``: proxies and truncated answers are transient), with exponential backoff
  and full jitter, honouring ``Retry-After`` (up to ``MAX_RETRY_AFTER``; a longer wait is
  reported to the model instead of slept through); never on 3xx or other 4xx;
* **idempotent writes** (PUT settings, tracking, configuration) are retried at most once, and
  only when VTEX provably did not apply the first attempt: it never left (connect error) or VTEX
  refused it before processing (429, 502, 503, 504);
* **other writes are never retried.** A write whose answer was lost or unreadable after it was
  sent raises ``VtexOutcomeUnknown``: the caller re-reads state and reports, nothing resubmits. A
  write that provably never left raises ``VtexUnavailable``.

Timeouts: an operation's deadline is ``max(Operation.timeout, Settings.timeout)`` (the registry's
figure is VTEX's recommendation for its slow writes, a floor, not a cap on what the operator
configured). It is passed to httpx on every request (read, write and pool; connect at most
``CONNECT_TIMEOUT``), since a client-wide httpx timeout would cut a 20 s modification at the
default 10 s read timeout, and it also bounds the whole attempt through ``anyio.fail_after``,
because in-process transports do not enforce httpx timeouts and httpx's are per read, not
overall. Secrets live only in the client's default headers; no log line, error or repr here
includes a header.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

import anyio
import httpx2

from .config import Settings
from .errors import (
    VtexBadResponse,
    VtexError,
    VtexHTTPError,
    VtexOutcomeUnknown,
    VtexRateLimited,
    VtexTimeout,
    VtexUnavailable,
    http_error_for,
    redirect_error,
)
from .models import Args
from .registry import Operation, Request, build_request

__all__ = ["RETRY_STATUSES", "VtexClient"]

log = logging.getLogger("vtex_orders_mcp.client")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that mean "not processed": the only failures after which a write may be resent.
UNPROCESSED_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 30.0  # seconds we are willing to sleep inside one tool call
BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
CONNECT_TIMEOUT = 5.0
USER_AGENT = "vtex-orders-mcp/0.1"


class VtexClient:
    def __init__(
        self,
        settings: Settings,
        transport: httpx2.AsyncBaseTransport | None = None,
        *,
        credentials: dict[str, str] | None = None,
        sleep: Any = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        headers = {"Accept": "application/json", "Content-Type": "application/json", "User-Agent": USER_AGENT}
        headers.update(credentials if credentials is not None else self._credential_headers(settings))
        self.base_url = (
            settings.vtex_base_url if not settings.uses_sandbox else "http://sandbox.vtexcommercestable.com.br"
        )
        # Built on first use: the default transport's TLS context costs ~60 ms, which start-up
        # (and a client's first tools/list) should not pay.
        self._make_http = lambda: httpx2.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=_timeouts(settings.timeout),  # each request passes its operation's own
            limits=httpx2.Limits(max_connections=settings.max_concurrency * 2, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self._client: httpx2.AsyncClient | None = None
        self._slots = anyio.Semaphore(settings.max_concurrency)
        self._sleep = sleep or anyio.sleep
        self._rng = rng or random.Random()
        self._secrets = tuple(settings.secret_values())

    def __repr__(self) -> str:  # never the headers
        return f"VtexClient(base_url={self.base_url!r})"

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._client is None:
            self._client = self._make_http()
        return self._client

    @staticmethod
    def _credential_headers(settings: Settings) -> dict[str, str]:
        if settings.app_key and settings.app_token:
            return {
                "X-VTEX-API-AppKey": settings.app_key.get_secret_value(),
                "X-VTEX-API-AppToken": settings.app_token.get_secret_value(),
            }
        if settings.auth_cookie:
            return {"VtexIdclientAutCookie": settings.auth_cookie.get_secret_value()}
        return {}

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def call(self, op: Operation, args: Args) -> Any:
        """Run ``op`` with validated ``args``; the parsed JSON body (None for empty answers)."""
        return await self.send(op, build_request(op, args, self.settings.account))

    async def send(self, op: Operation, req: Request) -> Any:
        timeout = max(op.timeout or 0.0, self.settings.timeout)
        attempts = 1 + op.retries(self.settings.max_retries)
        action = _describe(op, req)
        for attempt in range(1, attempts + 1):
            try:
                return await self._attempt(op, req, timeout, action)
            except VtexError as exc:
                delay = self._retry_delay(op, exc, attempt, attempts)
                if delay is None:
                    raise
                log.info("retrying %s %s in %.2fs after: %s", req.method, op.path, delay, exc.message)
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_delay(self, op: Operation, exc: VtexError, attempt: int, attempts: int) -> float | None:
        if attempt >= attempts:
            return None
        if not op.read_only:
            unprocessed = isinstance(exc, VtexUnavailable) or (
                isinstance(exc, VtexHTTPError) and exc.status in UNPROCESSED_STATUSES
            )
            if not unprocessed:
                return None
        if isinstance(exc, VtexHTTPError) and exc.status not in RETRY_STATUSES:
            return None
        if not isinstance(exc, VtexHTTPError | VtexTimeout | VtexUnavailable | VtexBadResponse):
            return None
        backoff = self._rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))
        if isinstance(exc, VtexRateLimited) and exc.retry_after is not None:
            if exc.retry_after > MAX_RETRY_AFTER:
                return None  # too long to wait inside a tool call: tell the model instead
            return max(exc.retry_after, backoff)
        return backoff

    async def _attempt(self, op: Operation, req: Request, timeout: float, action: str) -> Any:
        sent = False
        undecodable = False
        started = time.perf_counter()
        try:
            async with self._slots:
                with anyio.fail_after(timeout):
                    request = self._http.build_request(
                        req.method,
                        req.path,
                        params=req.query or None,
                        content=json.dumps(req.body).encode() if req.body is not None else None,
                        timeout=_timeouts(timeout),
                    )
                    sent = True
                    response = await self._http.send(request, stream=True)
                    try:
                        body = await response.aread()
                    except httpx2.DecodingError:
                        # The answer came (its status is known) but its Content-Encoding does not
                        # decode. Not a TransportError: without this it would escape every handler.
                        body, undecodable = b"", True
                    finally:
                        await response.aclose()
        except httpx2.DecodingError:
            # Transports that build the whole response at once (in-process ones) decode it before
            # ``send`` returns, so the status is lost with the body.
            raise _unreadable(op, action, None, _UNDECODABLE) from None
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.UnsupportedProtocol) as exc:
            # The host only (never a URL's user or password): which VTEX it tried is half the diagnosis.
            host = httpx2.URL(self.base_url).host or self.base_url
            raise VtexUnavailable(
                f"failed to {action}: could not reach VTEX at {host} ({type(exc).__name__}).", operation=op.name
            ) from None
        except (TimeoutError, httpx2.TimeoutException, httpx2.TransportError) as exc:
            kind = "timed out" if isinstance(exc, TimeoutError | httpx2.TimeoutException) else "lost the connection"
            if sent and not op.read_only:
                raise VtexOutcomeUnknown(
                    f"failed to {action}: VTEX {kind} after the request was sent.", operation=op.name
                ) from None
            cls = VtexTimeout if "timed out" in kind else VtexUnavailable
            raise cls(f"failed to {action}: VTEX {kind} (after {timeout:g} s limit).", operation=op.name) from None
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        log.debug("%s %s -> %s (%.0f ms)", req.method, op.path, status, elapsed)
        if 300 <= status < 400:
            if status == 303 and not op.read_only:
                raise VtexOutcomeUnknown(
                    f"failed to {action}: VTEX answered 303 See Other, which in HTTP means the request was "
                    "processed, but no confirmation came back.",
                    operation=op.name,
                )
            location = _where(request.url, response.headers.get("location"))
            raise redirect_error(status, location, operation=op.name, action=action, secrets=self._secrets)
        if status >= 400:
            raise http_error_for(
                status,
                body,
                operation=op.name,
                action=action,
                headers={k.lower(): v for k, v in response.headers.items()},
                secrets=self._secrets,
            )
        if undecodable:
            raise _unreadable(op, action, status, _UNDECODABLE)
        return _parse(body, response.headers.get("content-type", ""), op, action, status)


def _timeouts(seconds: float) -> httpx2.Timeout:
    """httpx's timeouts for one attempt: the whole deadline for read, write and pool; connecting
    gets at most CONNECT_TIMEOUT (a host that does not accept a connection in 5 s will not)."""
    return httpx2.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds))


def _where(base: httpx2.URL, location: str | None) -> str | None:
    """Host and path of a redirect target (relative ones resolved against the request), never the
    query or fragment: a login redirect often carries a return URL or a token there."""
    if not location:
        return None
    try:
        url = base.join(location.strip())
    except (httpx2.InvalidURL, ValueError):
        return None
    return f"{url.host}{url.path}" if url.host else url.path or None


_UNDECODABLE = "a body that does not decode as its Content-Encoding says"


def _unreadable(op: Operation, action: str, status: int | None, what: str) -> VtexError:
    """A 2xx that is not VTEX's document. A read may simply be retried; a write went out, and a
    2xx from whatever answered does not prove VTEX applied it, nor that it did not."""
    answered = f"VTEX answered {status} with {what}" if status else f"VTEX answered with {what}"
    if op.read_only:
        return VtexBadResponse(f"failed to {action}: {answered}.", operation=op.name)
    return VtexOutcomeUnknown(
        f"failed to {action}: {answered}, so whether it was applied is unknown.", operation=op.name
    )


def _parse(body: bytes, content_type: str, op: Operation, action: str, status: int) -> Any:
    if not body.strip():
        # A write VTEX answers with a document (a receipt) answered with nothing came from
        # something else: done or not is unknown. Reads and content-less writes may be empty.
        if op.answers_document and not op.read_only and status != 204:
            raise _unreadable(op, action, status, "an empty answer where VTEX sends a document")
        return None
    content_type = content_type.lower()
    try:
        data = json.loads(body)
    except RecursionError:
        raise _unreadable(op, action, status, "JSON nested too deeply to read") from None
    except ValueError:
        start = body.lstrip()[:1]
        if "json" in content_type or start in (b"{", b"["):
            raise _unreadable(op, action, status, "malformed JSON") from None
        if "html" in content_type or start == b"<":
            page = "an HTML page instead of JSON (a proxy, maintenance or login page)"
            raise _unreadable(op, action, status, page) from None
        if not op.answers_document:
            return body.decode("utf-8", "replace")
        kind = content_type.split(";")[0].strip() or "no content type"
        raise _unreadable(op, action, status, f"a body that is not JSON ({kind})") from None
    # The JSON container the operation's view reads; anything else would crash the projection.
    expected = op.view.container
    if expected is not None and data is not None and not isinstance(data, expected):
        got, wanted = _JSON_TYPES[type(data)], _JSON_TYPES[expected]
        raise _unreadable(op, action, status, f"a JSON {got} where an {wanted} was expected")
    return data


_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _describe(op: Operation, req: Request) -> str:
    """ "cancel order v1-01"-style text for error messages (ids only, never bodies or headers)."""
    verb = op.title.removesuffix(" (deprecated)")
    verb = verb[0].lower() + verb[1:]
    return f"{verb} {req.subject}".strip()
