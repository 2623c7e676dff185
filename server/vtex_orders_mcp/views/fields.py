"""Small readers shared by the views: VTEX documents are read defensively (any field may be null,
a list may hold a null), dates are shortened to minutes (with their zone), and empty values are dropped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["address", "date", "dicts", "instant", "line", "name", "obj", "prune"]


_EMPTY: tuple[Any, ...] = (None, "", [], {})


def prune(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty dicts, recursively."""
    # (containers only are descended into: every list row and view goes through here)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, dict | list):
                v = prune(v)
            if v not in _EMPTY:
                out[k] = v
        return out
    if isinstance(value, list):
        return [v for v in (prune(v) if isinstance(v, dict | list) else v for v in value) if v not in _EMPTY]
    return value


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a VTEX list field; a null list, or a null inside one, is skipped."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})")
_OFFSET = re.compile(r"([+-]\d{2}:\d{2}|Z)$", re.IGNORECASE)
_UTC_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]00:00)")


def date(value: Any) -> str | None:
    """A VTEX timestamp to the minute in ISO 8601 with its zone: ``2019-02-06T20:46Z`` (UTC),
    ``2024-05-01T11:30-03:00``; a stamp without an offset (the ``yyyy-mm-dd hh:mm`` form VTEX
    asks for in tracking updates, deliveredDate) is UTC, as ``instant`` reads it."""
    if not value or not isinstance(value, str):
        return None
    utc = _UTC_STAMP.fullmatch(value)  # what VTEX writes nearly everywhere: one match, not two
    if utc:
        return f"{utc.group(1)}T{utc.group(2)}Z"
    m = _TIMESTAMP.match(value)
    if not m:
        return value
    offset = _OFFSET.search(value)
    zone = "Z" if not offset or offset.group(1) in ("Z", "+00:00", "-00:00") else offset.group(1)
    return f"{m.group(1)}T{m.group(2)}{zone}"


def instant(value: Any) -> float | None:
    """A timestamp as seconds since the epoch, offsets applied (no offset: read as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().upper())  # "z" is UTC too
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def name(profile: dict[str, Any] | None) -> str | None:
    if not profile:
        return None
    if profile.get("isCorporate") and profile.get("corporateName"):
        return str(profile["corporateName"])
    return " ".join(str(p) for p in (profile.get("firstName"), profile.get("lastName")) if p) or None


def address(where: dict[str, Any]) -> str:
    street = " ".join(str(x) for x in (where.get("street"), where.get("number")) if x)
    parts = (
        street,
        where.get("complement"),
        where.get("neighborhood"),
        where.get("city"),
        where.get("state"),
        where.get("postalCode"),
    )
    return ", ".join(str(p) for p in parts if p)


def line(*parts: Any, sep: str = " · ") -> str:
    """The non-empty parts of one line of text, joined."""
    return sep.join(str(p) for p in parts if p not in (None, "", [], {}))
