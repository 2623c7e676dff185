"""Keeping secrets out of everything the server writes: errors, results, logs and the audit.

``scrub`` replaces every configured secret value inside a text; ``redact`` walks a JSON-like
value, masking keys that name credentials (``headers``, ``appToken``, ``password`` ...) and
scrubbing every string. Errors, tool results of configuration reads, the audit log and the log
filter all use these two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["mask_text", "redact", "scrub", "sensitive_values"]

# Keys whose values are credentials: exact names, plus anything containing the fragments below.
_SENSITIVE_NAMES = frozenset({"headers", "token", "authorization", "cookie", "appkey", "apptoken"})
_SENSITIVE_PARTS = ("apptoken", "appkey", "password", "secret", "autcookie")


def scrub(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """``text`` with every secret value replaced by ``***`` (longest first, so a secret that
    contains another is masked whole)."""
    if not text:
        return text
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _sensitive(key: str) -> bool:
    key = key.lower().replace("-", "").replace("_", "")
    return key in _SENSITIVE_NAMES or any(part in key for part in _SENSITIVE_PARTS)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``value`` with secret-looking keys masked, any configured secret replaced, and the
    credentials a URL can carry masked (``mask_text``)."""
    known = [s for s in secrets if s]

    def walk(v: Any, key: str = "") -> Any:
        if key and _sensitive(key):
            if isinstance(v, dict):
                return dict.fromkeys(v, "***")
            return "***" if v not in (None, "") else v
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if isinstance(v, str):
            return mask_text(v, known)
        return v

    return walk(value)


def sensitive_values(value: Any) -> list[str]:
    """The strings held under credential-like keys in ``value`` (hook headers, tokens, ...)."""
    found: list[str] = []

    def walk(v: Any, key: str = "") -> None:
        if key and _sensitive(key):
            found.extend(s for s in (v.values() if isinstance(v, dict) else [v]) if isinstance(s, str) and s)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)

    walk(value)
    return found


_URL_USER = re.compile(r"(?i)\b(https?://)[^/\s@]+@")
_URL_SECRET_PARAM = re.compile(r"(?i)([?&](?:[\w-]*(?:token|key|secret|password|signature|sig|auth)[\w-]*)=)[^&#\s]+")


def mask_text(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """Free text (an approval summary, a detail) as the audit keeps it: configured secrets and
    the given credential values replaced, and the credentials a URL can carry (``user:pass@``,
    ``?token=``) masked."""
    if not text:
        return text
    masked = scrub(text, [s for s in secrets if len(s) >= 4]) or ""
    masked = _URL_USER.sub(r"\1***@", masked)
    return _URL_SECRET_PARAM.sub(r"\1***", masked)
