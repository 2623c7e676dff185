"""What a human is asked to approve: one line built from the operation, the order's live state
and the arguments that matter, then every argument exactly as it will be sent.

The summary line reads like "Cancel order v…-01 — handling, R$ 44,50, 1 item, customer Ana
Silva — reason: customer asked". Its per-operation part is the operation's own ``summary``
(registry/summaries.py). Text that comes from a model or a shopper is shown with control,
format (bidi) and line-separator characters made visible, so it cannot lay out a question of its
own nor hide part of the real one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from ..client import VtexClient
from ..errors import VtexError, VtexNotFound
from ..models import Args, as_given
from ..redaction import mask_text, sensitive_values
from ..registry import Operation, Registry
from ..statuses import Refusal
from ..views import Money
from .binding import order_state

__all__ = ["Review", "Reviewer", "question", "visible"]


@dataclass(frozen=True)
class Review:
    """What a human is asked to approve: the summary line, and the order's state it describes
    (``order_state``; None for account-level writes, or when the order could not be read).
    ``refusal`` says why VTEX's documented rules refuse the write on the order as it is (the
    operation's ``rule``); ``unread`` that the order the write targets could not be read."""

    summary: str
    state: str | None = None
    refusal: Refusal | None = None
    unread: str | None = None


class Reviewer:
    """Reads the order a write targets and writes the summary a human approves."""

    def __init__(self, client: VtexClient, registry: Registry) -> None:
        self.client = client
        self.registry = registry

    async def read_order(self, op: Operation, args: Args) -> dict[str, Any] | None:
        """The order ``op`` writes to (None for account-level writes). Raises VtexError."""
        if not op.order_arg:
            return None
        read = self.registry.order_read
        # The id was validated by the write's own model, which is at least as strict.
        order = await self.client.call(read, read.args.validated(order_id=getattr(args, op.order_arg)))
        return order if isinstance(order, dict) else None

    async def review(self, op: Operation, args: Args) -> Review:
        """The summary with the order's live state.

        Raises VtexNotFound when the order the write targets does not exist: asking a human to
        approve a write that cannot succeed wastes their attention.
        """
        try:
            order = await self.read_order(op, args)
        except VtexNotFound:
            raise
        except VtexError as exc:
            return replace(summarize(op, args, None), unread=exc.message)
        return summarize(op, args, order)

    async def safe_review(self, op: Operation, args: Args) -> Review:
        """``review``, or a bare title (no state, so a state-bound approval is refused) when the
        order cannot be read."""
        try:
            return await self.review(op, args)
        except VtexError:
            return Review(op.title)


def summarize(op: Operation, args: Args, order: dict[str, Any] | None) -> Review:
    head = op.title.removesuffix(" (deprecated)")
    if op.order_arg:
        head += f" {getattr(args, op.order_arg)}"
    parts = [head]
    money = Money((order or {}).get("storePreferencesData"))
    if isinstance(order, dict):
        parts.append(_order_facts(order, money))
    if op.summary is not None:
        detail = op.summary(args, order or {}, money)
        if detail:
            # The summary goes into results, the audit and the question (which also shows every
            # argument as sent): credentials a hook URL or header carries are masked, and a reason
            # or expression of any length (the schema bounds only the whole call) is cut.
            masked = mask_text(detail, sensitive_values(as_given(args))) or ""
            parts.append(bounded(masked, SUMMARY_DETAIL))
    bound = op.state_bound and order is not None
    refusal = op.rule.refusal(order) if op.rule is not None and order is not None else None
    return Review(visible(" — ".join(parts)), order_state(order) if bound and order is not None else None, refusal)


SHOPPER_TEXT = 80  # characters of shopper data (a name) quoted in a question
SUMMARY_DETAIL = 400  # characters of the operation's own summary (the arguments line has them all)


def _order_facts(order: dict[str, Any], money: Money) -> str:
    items = order.get("items") or []
    profile = order.get("clientProfileData") or {}
    name = bounded(" ".join(str(p) for p in (profile.get("firstName"), profile.get("lastName")) if p))
    n = sum(int(i.get("quantity") or 0) for i in items)
    # A field VTEX left out (or null) is left out here too, never shown as "None".
    facts = [order.get("status"), money(order.get("value")), f"{n} item{'s' if n != 1 else ''}"]
    facts.append(f"customer {name}" if name else None)
    return ", ".join(str(f) for f in facts if f)


def bounded(text: str, limit: int = SHOPPER_TEXT) -> str:
    """Shopper text cut to ``limit`` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… (+{len(text) - limit} characters)"


def question(args: Args, review: Review) -> str:
    """The elicitation message: the summary, then every argument exactly as the call has them (the
    summary picks what matters; this line hides nothing a human approves), then a reference to
    the order's state. The SDK accepts a 2026-07-28 answer only for the very question it answers,
    so once the order changes (another replica ran this write, someone else moved the order) a
    resent answer meets a different question and the user is asked again."""
    sent = json.dumps(as_given(args), ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    ref = f" (order state {review.state[:8]})" if review.state else ""
    return f"Approve this change? {visible(review.summary)}\n" + visible(f"Arguments: {sent}{ref}")


_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
# Characters that print as nothing (or as a plain space) without being one: spaces other than
# U+0020 (no-break, ideographic, thin ...) and the fillers of Hangul and Braille.
_BLANK = frozenset({0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x180E})
_WORD = re.compile(r"\w+")


def visible(text: str) -> str:
    """Text from the model or a shopper (a reason, a name) as a human must see it in a question:
    control, format (bidi), line-separator and invisible characters shown as \\uXXXX, so it cannot
    lay out a question of its own nor hide part of the real one; and in a word that mixes scripts
    (a Cyrillic a, U+0430, inside "Cancel"), the letters of the minority script shown the same way, so a
    look-alike cannot pass for the real word. Line breaks in a question are only the ones this
    server puts between its parts."""
    shown = "".join(_escape(ch) if _hidden(ch) else ch for ch in text)
    return _WORD.sub(_unmix, shown)


def _escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def _hidden(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in _HIDDEN or (category == "Zs" and ch != " ") or ord(ch) in _BLANK


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


def _unmix(match: re.Match[str]) -> str:
    word = match.group(0)
    scripts = [s for s in map(_script, word) if s is not None]
    if len(set(scripts)) < 2:
        return word
    main = max(set(scripts), key=scripts.count)
    return "".join(_escape(ch) if _script(ch) not in (None, main) else ch for ch in word)
