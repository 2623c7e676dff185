"""What can go wrong, typed by who is to blame.

    VtexError                       anything this package raises about a VTEX call
    ├── VtexRequestError            no HTTP answer: connection failed, deadline passed
    │   ├── VtexUnavailable         the request never left (connect error): safe to say "nothing changed"
    │   ├── VtexTimeout             the deadline passed while waiting for the answer
    │   └── VtexOutcomeUnknown      a *write* was sent but no readable answer came: it may or may not have happened
    ├── VtexHTTPError               VTEX answered 3xx/4xx/5xx (carries status, VTEX code and message)
    │   ├── VtexRedirected          3xx: an API does not redirect; wrong account, base URL or credentials
    │   ├── VtexAuthError           401/403: credentials missing, wrong, or lacking the License Manager resource
    │   ├── VtexNotFound            404
    │   ├── VtexConflict            409 and the 400s VTEX uses for refused transitions
    │   ├── VtexRateLimited         429 (carries retry_after seconds when VTEX sent Retry-After)
    │   └── VtexServerError         5xx
    └── VtexBadResponse             a read answered 2xx with a body that is not the JSON it should be
                                    (a *write* answered so raises VtexOutcomeUnknown: see client.py)

Every message is built from the operation, the status and VTEX's own error text; none carries
a header value, so AppKey, AppToken and cookies cannot leak through an error. VTEX's text is
upstream data and may echo a credential (License Manager refusals name the appKey), so
``http_error_for`` masks every configured secret in it (``scrub``) before it reaches a message.
``hint`` is the "what to do next" sentence the tool layer appends for the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .redaction import scrub
from datetime import UTC

__all__ = [
    "ConfigError",
    "VtexAuthError",
    "VtexBadResponse",
    "VtexConflict",
    "VtexError",
    "VtexHTTPError",
    "VtexNotFound",
    "VtexOutcomeUnknown",
    "VtexRateLimited",
    "VtexRedirected",
    "VtexRequestError",
    "VtexServerError",
    "VtexTimeout",
    "VtexUnavailable",
    "first_failure",
    "http_error_for",
    "redirect_error",
    "scrub",
]


class ConfigError(ValueError):
    """The configuration is incomplete or contradictory; raised at start-up, never mid-call."""


class VtexError(Exception):
    """Base class. ``operation`` is the tool name, ``hint`` what the model should do next."""

    hint: str = ""

    def __init__(self, message: str, *, operation: str = "", hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class VtexRequestError(VtexError):
    """No HTTP answer came back."""


class VtexUnavailable(VtexRequestError):
    hint = "Nothing was sent to VTEX; try again in a moment."


class VtexTimeout(VtexRequestError):
    hint = "VTEX did not answer in time; try again in a moment."


class VtexOutcomeUnknown(VtexRequestError):
    """A write went out and its answer was lost. It must not be resubmitted automatically."""

    hint = "The request may or may not have been applied: re-read the order before trying again."


class VtexHTTPError(VtexError):
    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        vtex_message: str | None = None,
        operation: str = "",
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, operation=operation, hint=hint)
        self.status = status
        self.code = code
        self.vtex_message = vtex_message
        self.request_id = request_id


class VtexRedirected(VtexHTTPError):
    """3xx. VTEX's APIs answer; a redirect (usually to a login page) means the request went to
    the wrong place or was not authenticated. Never followed: it would resend a write elsewhere."""

    hint = (
        "VTEX's APIs answer rather than redirect: the account name (VTEX_ACCOUNT_NAME or VTEX_BASE_URL) or "
        "the credentials (VTEX_APP_KEY/VTEX_APP_TOKEN or the auth cookie) are probably wrong."
    )


class VtexAuthError(VtexHTTPError):
    hint = (
        "Check VTEX_APP_KEY/VTEX_APP_TOKEN (or the auth cookie) and that the key's role has the "
        "License Manager resource this operation needs."
    )


class VtexNotFound(VtexHTTPError):
    hint = "Check the id (an orderId looks like v502556llux-01 or 1172452900788-01)."


class VtexConflict(VtexHTTPError):
    """400/409/412/422: VTEX refused the request as sent or in the order's current state."""

    hint = "VTEX refused it as sent or in the order's current state: read its message and the order's status."


class VtexRateLimited(VtexHTTPError):
    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after
        wait = f"{retry_after:g} s" if retry_after is not None else "a few seconds"
        self.hint = f"VTEX is rate limiting this account; wait {wait} before trying again."


class VtexServerError(VtexHTTPError):
    hint = "VTEX failed on its side; try again later."


class VtexBadResponse(VtexError):
    hint = "VTEX answered with an unreadable body; try again."


def _status_class(status: int) -> type[VtexHTTPError]:
    if 300 <= status < 400:
        return VtexRedirected
    if status in (401, 403):
        return VtexAuthError
    if status == 404:
        return VtexNotFound
    if status == 429:
        return VtexRateLimited
    if status >= 500:
        return VtexServerError
    if status in (400, 409, 412, 422):
        return VtexConflict
    return VtexHTTPError


QUOTED = 240  # characters of VTEX's own message quoted in a tool error


def parse_error_body(body: bytes) -> tuple[str | None, str | None]:
    """(code, message) from the shapes VTEX uses: the OMS envelope, RFC 9110 problem JSON, plain text."""
    import json

    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None, None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, text[:500]
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            code, message = err.get("code"), err.get("message")
            if message is not None and not isinstance(message, str):  # VTEX's own shape is a string
                message = json.dumps(message, ensure_ascii=False)[:500]
            return (str(code) if code is not None else None), message or None
        if isinstance(err, str):
            return None, err
        # RFC 9110/9457 problem JSON: `detail` says what happened ("Order not found."), `title`
        # only repeats the status ("Not Found").
        for key in ("message", "Message", "detail", "title"):
            if isinstance(data.get(key), str):
                return None, data[key]
    return None, text[:500]


def http_error_for(
    status: int,
    body: bytes,
    *,
    operation: str,
    action: str,
    headers: dict[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> VtexHTTPError:
    """The typed error for a VTEX 4xx/5xx answer. ``action`` reads like "cancel order v1-01".

    ``secrets`` are masked in VTEX's text twice: in the raw body, before it is parsed and cut to
    500 characters (a secret straddling the cut would otherwise leak its first half), and in the
    parsed code and message (a JSON \\uXXXX escape inside a secret hides it from the first pass)."""
    secrets = tuple(secrets)
    raw = scrub(body.decode("utf-8", "replace"), secrets) or ""
    code, vtex_message = parse_error_body(raw.encode())
    code, vtex_message = scrub(code, secrets), scrub(vtex_message, secrets)
    cls = _status_class(status)
    # VTEX's words, cut to an excerpt: the tool error stays short whatever VTEX sent back.
    shown = vtex_message if vtex_message is None or len(vtex_message) <= QUOTED else vtex_message[: QUOTED - 1] + "…"
    detail = f": {shown.rstrip('.')}" if shown else ""
    code_part = f" [{code}]" if code else ""
    message = f"failed to {action}: VTEX answered {status}{code_part}{detail}."
    headers = headers or {}
    request_id = headers.get("x-request-id") or headers.get("x-vtex-request-id")
    kwargs: dict[str, Any] = dict(
        status=status, code=code, vtex_message=vtex_message, operation=operation, request_id=request_id
    )
    if cls is VtexRateLimited:
        return VtexRateLimited(message, retry_after=parse_retry_after(headers.get("retry-after")), **kwargs)
    return cls(message, **kwargs)


def redirect_error(
    status: int, location: str | None, *, operation: str, action: str, secrets: Iterable[str] = ()
) -> VtexHTTPError:
    """The error for a 3xx answer. ``location`` is reduced to host and path by the caller (a
    query string can carry a token); it is masked here as well, like any upstream text."""
    where = f", a redirect to {scrub(location, secrets)}" if location else ", a redirect"
    message = f"failed to {action}: VTEX answered {status}{where}, instead of answering the request."
    return VtexRedirected(message, status=status, operation=operation)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@contextmanager
def first_failure() -> Iterator[None]:
    """Around a task group of reads (pages, ranges): one failed read fails the whole with that
    read's error (the others are cancelled), told the way any failed read is, instead of escaping
    as an ExceptionGroup (nested task groups nest their groups)."""
    try:
        yield
    except BaseExceptionGroup as group:
        failed = group.subgroup(VtexError)
        if failed is None:
            raise
        first: BaseException = failed
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
