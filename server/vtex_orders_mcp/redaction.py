"""Keeping secrets out of everything the server writes: errors, results, logs and the audit.

``scrub`` replaces every configured secret value inside a text; ``redact`` walks a JSON-like
value, masking keys that name credentials (``headers``, ``appToken``, ``password`` ...) and
scrubbing every string. Errors, tool results of configuration reads, the audit log and the log
filter all use these two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["redact", "scrub"]

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
    """A copy of ``value`` with secret-looking keys masked and any configured secret replaced."""
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
            return scrub(v, known)
        return v

    return walk(value)
