"""Authentication and rate limiting, the two gates every VTEX path passes before its handler.

Auth (spec: global security on all operations): either both `X-VTEX-API-AppKey` and
`X-VTEX-API-AppToken`, or a `VtexIdclientAutCookie` (header or cookie). Missing credentials answer
401 with the OMS envelope (code "1", "Unauthorized access", as the spec's start-handling 401
example); present but wrong ones answer 403 in plain text, "The credentials are not enabled to
access the service." (the spec's 403 text). A lone AppKey or AppToken counts as missing.

`Credentials.check` returns the identity the request authenticated as: the AppKey for a key+token
pair, COOKIE_KEY for the cookie. The gate stores it in the ASGI scope under IDENTITY_SCOPE_KEY, and
per-key state (feed and hook configurations) follows that identity, never the raw AppKey header: a
cookie caller that also sends someone's AppKey (without its token) is still COOKIE_KEY.

Rate limit: "Each VTEX account can make up to 6000 requests per minute." A sliding one-minute window
on the sandbox clock (so a frozen clock + `advance(60)` replenishes it deterministically); above it,
429 with Retry-After = seconds until the oldest request leaves the window. The spec lists 429 without
a body; [inference] the sandbox sends a short OMS envelope so clients can show something.
"""

from __future__ import annotations

import hmac
import math
from collections import deque
from datetime import datetime

from .state import Clock, SandboxError

FORBIDDEN_TEXT = "The credentials are not enabled to access the service."

# Credentials the sandbox accepts by default (any VTEX client can be pointed at it with these).
SANDBOX_APP_KEY = "vtexappkey-sandbox-SANDBOX"
SANDBOX_APP_TOKEN = "SANDBOXAPPTOKEN0000000000000000000000000000000000000000000000000"

# The identity shared by every caller authenticated by VtexIdclientAutCookie.
COOKIE_KEY = "VtexIdclientAutCookie"
# Where the gate records the authenticated identity in the ASGI scope.
IDENTITY_SCOPE_KEY = "vtex_sandbox.identity"


class Credentials:
    def __init__(self, app_key: str, app_token: str, auth_cookie: str | None):
        self.app_key = app_key
        self.app_token = app_token
        self.auth_cookie = auth_cookie

    def check(self, headers, cookies: dict[str, str]) -> str:
        """The identity the request authenticated as (its AppKey, or COOKIE_KEY); 401/403 otherwise."""
        key = headers.get("x-vtex-api-appkey")
        token = headers.get("x-vtex-api-apptoken")
        cookie = headers.get("vtexidclientautcookie") or cookies.get("VtexIdclientAutCookie")
        if key and token:
            if _same(key, self.app_key) and _same(token, self.app_token):
                return self.app_key
            raise SandboxError(403, "403", FORBIDDEN_TEXT, text=FORBIDDEN_TEXT)
        if cookie:
            if self.auth_cookie is not None and _same(cookie, self.auth_cookie):
                return COOKIE_KEY
            raise SandboxError(403, "403", FORBIDDEN_TEXT, text=FORBIDDEN_TEXT)
        raise SandboxError(401, "1", "Unauthorized access")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class RateLimiter:
    def __init__(self, clock: Clock, per_minute: int):
        self.clock = clock
        self.per_minute = per_minute
        self._hits: deque[datetime] = deque()

    def reset(self) -> None:
        self._hits.clear()

    def hit(self) -> None:
        now = self.clock.now()
        while self._hits and (now - self._hits[0]).total_seconds() >= 60:
            self._hits.popleft()
        if len(self._hits) >= self.per_minute:
            wait = 60 - (now - self._hits[0]).total_seconds()
            err = SandboxError(
                429, "429", f"Too many requests: the account is limited to {self.per_minute} requests per minute"
            )
            err.retry_after = max(1, math.ceil(wait))
            raise err
        self._hits.append(now)
