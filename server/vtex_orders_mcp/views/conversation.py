"""The conversation view: e-mails exchanged with the customer, newest first, bodies as text."""

from __future__ import annotations

import html
import re
from typing import Any

from .fields import date, dicts, instant, prune

__all__ = ["compact_conversation", "conversation_text", "html_to_text"]

# HTML to text. VTEX e-mails are table layouts, so structure is kept in the text: each table cell
# is marked where it opens (a closing tag is optional in HTML), rows, list items, headings and
# blocks start new lines, and cells on one line are joined by " | " (empty spacer cells dropped).
_HIDDEN = re.compile(r"<!--.*?-->|<(script|style|head|title)\b.*?</\1\s*>", re.S | re.I)
_CELL = re.compile(r"<t[dh]\b[^>]*>", re.I)
_BREAK = re.compile(r"<br\s*/?>|<hr\b[^>]*>|</?(?:p|div|tr|li|ul|ol|h[1-6]|table|blockquote)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_LOOKS_HTML = re.compile(r"<(?:[a-z][a-z0-9]*\b[^>]*|/[a-z][a-z0-9]*\s*|!--.*?--)>", re.S | re.I)
_CELL_MARK = "\x1f"  # ASCII unit separator: cannot come from the body (removed from it first)


def html_to_text(body: str | None) -> str:
    if not body or not isinstance(body, str):
        return ""
    text = body.replace(_CELL_MARK, " ")
    if _LOOKS_HTML.search(text):
        # In HTML, line breaks in the source are spaces; only the markup breaks lines.
        text = re.sub(r"\s+", " ", _HIDDEN.sub("", text))
        text = _TAG.sub("", _BREAK.sub("\n", _CELL.sub(_CELL_MARK, text)))
    lines = []
    for line in text.split("\n"):
        # Entities are decoded per cell, after the split, so none can forge a line or a cell break.
        cells = (re.sub(r"[ \t]+", " ", html.unescape(cell)).strip() for cell in line.split(_CELL_MARK))
        line = " | ".join(c for c in cells if c)
        if line:
            lines.append(line)
    return "\n".join(lines)


def _who(p: Any) -> str | None:
    if isinstance(p, dict):
        return p.get("name") or p.get("email")
    if isinstance(p, list):
        return ", ".join(filter(None, (_who(x) for x in p))) or None
    return p if isinstance(p, str) else None


def _message(msg: dict[str, Any]) -> dict[str, Any]:
    return prune(
        {
            "date": date(msg.get("date")),
            "from": _who(msg.get("from")),
            "to": _who(msg.get("to")),
            "subject": msg.get("subject"),
            "body": html_to_text(msg.get("body")) or msg.get("firstWords"),
            "attachments": msg.get("attachmentNames") if msg.get("hasAttachment") else None,
        }
    )


def compact_conversation(messages: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Messages newest first (by instant, offsets applied; undated ones last), bodies as plain text."""
    dated = [(instant(msg.get("date")), _message(msg)) for msg in dicts(messages)]
    dated.sort(key=lambda pair: (pair[0] is not None, pair[0] or 0.0), reverse=True)
    return [row for _, row in dated]


def conversation_text(order_id: str, messages: list[dict[str, Any]]) -> str:
    if not messages:
        return f"Order {order_id}: no messages exchanged with the customer."
    out = [f"Order {order_id}: {len(messages)} message(s), newest first."]
    for m in messages:
        parts = (
            m.get("date") or "(no date)",
            f"from {m.get('from') or '?'} to {m.get('to') or '?'}",
            m.get("subject") or "(no subject)",
        )
        out += ["", " — ".join(parts), m.get("body") or "(empty)"]
        if m.get("attachments"):
            out.append("Attachments: " + ", ".join(map(str, m["attachments"])))
    return "\n".join(out)
