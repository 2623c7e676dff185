"""The recent audit log as text (the JSON form is the records themselves)."""

from __future__ import annotations

from typing import Any

from .fields import line

__all__ = ["audit_text"]


def _event_text(e: dict[str, Any]) -> str:
    outcome = line(
        f"HTTP {e['upstream_status']}" if e.get("upstream_status") else None,
        f"receipt {e['receipt']}" if e.get("receipt") else None,
        e.get("detail"),
    )
    head = " ".join(
        x
        for x in (
            e.get("time"),
            e.get("tool"),
            e.get("event"),
            f"via {e['channel']}" if e.get("channel") else None,
            f"by {e['principal']}" if e.get("principal") else None,
        )
        if x
    )
    return head + (f" — {e['summary']}" if e.get("summary") else "") + (f" ({outcome})" if outcome else "")


def audit_text(events: list[dict[str, Any]]) -> str:
    if not events:
        return "No guarded calls recorded yet."
    return "\n".join([f"Last {len(events)} audit event(s), newest first.", *(_event_text(e) for e in events)])
