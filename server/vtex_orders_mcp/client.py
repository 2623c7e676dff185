"""VtexClient: one shared ``httpx2.AsyncClient`` that speaks to VTEX (or to the sandbox).

The transport is the seam. Real VTEX uses httpx2's default transport; the embedded sandbox is
an in-process ASGI transport; unit tests pass a ``MockTransport``. Nothing here knows which one
it is talking to.

Retry policy, derived from the registry (``Operation.retries``):

* **reads** are retried on 429, 5xx, timeouts and connection failures, with exponential backoff
  and full jitter, honouring ``Retry-After`` (up to ``MAX_RETRY_AFTER``; a longer wait is
  reported to the model instead of slept through);
* **idempotent writes** (PUT settings, tracking, configuration) are retried at most once, and
  only when VTEX provably did not apply the first attempt: it never left (connect error) or VTEX
  refused it before processing (429, 502, 503, 504);
* **other writes are never retried.** A write whose answer was lost after it was sent raises
  ``VtexOutcomeUnknown``: the caller re-reads state and reports, nothing resubmits. A write that
  provably never left raises ``VtexUnavailable``.

Each attempt runs under ``anyio.fail_after(timeout)`` as well as httpx's own timeouts, because
in-process transports do not enforce httpx timeouts. Secrets live only in the client's default
headers; no log line, error or repr here includes a header.
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
)
from .models import Args
from .registry import Operation, Request, build_request

__all__ = ["VtexClient", "RETRY_STATUSES"]

log = logging.getLogger("vtex_orders_mcp.client")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that mean "not processed": the only failures after which a write may be resent.
UNPROCESSED_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 30.0  # seconds we are willing to sleep inside one tool call
BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
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
        self.base_url = settings.vtex_base_url if not settings.uses_sandbox else "http://sandbox.vtexcommercestable.com.br"
        # Built on first use: the default transport's TLS context costs ~60 ms, which start-up
        # (and a client's first tools/list) should not pay.
        self._make_http = lambda: httpx2.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx2.Timeout(settings.timeout, connect=min(5.0, settings.timeout)),
            limits=httpx2.Limits(max_connections=settings.max_concurrency * 2, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self._client: httpx2.AsyncClient | None = None
        self._slots = anyio.Semaphore(settings.max_concurrency)
        self._sleep = sleep or anyio.sleep
        self._rng = rng or random.Random()

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
        timeout = op.timeout or self.settings.timeout
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
        started = time.perf_counter()
        try:
            async with self._slots:
                with anyio.fail_after(timeout):
                    request = self._http.build_request(
                        req.method,
                        req.path,
                        params=req.query or None,
                        content=json.dumps(req.body).encode() if req.body is not None else None,
                    )
                    sent = True
                    response = await self._http.send(request)
                    body = await response.aread()
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
            raise VtexUnavailable(
                f"failed to {action}: could not reach VTEX ({type(exc).__name__}).", operation=op.name
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
        log.debug("%s %s -> %s (%.0f ms)", req.method, op.path, response.status_code, elapsed)
        if response.status_code >= 400:
            raise http_error_for(
                response.status_code,
                body,
                operation=op.name,
                action=action,
                headers={k.lower(): v for k, v in response.headers.items()},
            )
        return _parse(body, response.headers.get("content-type", ""), op, action)


def _parse(body: bytes, content_type: str, op: Operation, action: str) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        if "json" in content_type or body.lstrip()[:1] in (b"{", b"["):
            raise VtexBadResponse(f"failed to {action}: VTEX answered with malformed JSON.", operation=op.name) from None
        return body.decode("utf-8", "replace")


def _describe(op: Operation, req: Request) -> str:
    """"cancel order v1-01"-style text for error messages (ids only, never bodies or headers)."""
    verb = op.title.removesuffix(" (deprecated)")
    verb = verb[0].lower() + verb[1:]
    return f"{verb} {req.subject}".strip()
