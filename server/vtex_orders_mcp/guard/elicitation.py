"""Approval through form elicitation: the server itself asks the human, mid-call.

Each guarded tool has a hidden ``approval`` parameter filled by a resolver
(``mcp.server.mcpserver.Resolve``; core.py builds it). The resolver reads live state, writes the
summary and returns ``Elicit(question, Approval)``. The SDK delivers it the way the negotiated
protocol wants: an ``elicitation/create`` request mid-call for 2025-11-25 clients, an
``InputRequiredResult`` with sealed ``request_state`` for 2026-07-28 clients (the resolver then
re-runs on the retry, and an answer is only accepted for the very question that was shown).

What the human was shown is kept here (``PendingReviews``) and handed to the tool body, which
checks the answer against it. An accepted answer runs the write once: under 2026-07-28 it comes
back with the sealed state of the question, which is spent like a token (``spend_answer``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from .. import sdk
from ..models import Args
from ..registry import Operation
from ..storage import Store
from .review import Review
from .sealing import canonical_args

__all__ = [
    "MAX_PENDING_SUMMARIES",
    "ApprovalForm",
    "PendingReviews",
    "can_elicit",
    "can_elicit_url",
    "request_key",
    "spend_answer",
]

MAX_PENDING_SUMMARIES = 1024


class ApprovalForm(BaseModel):
    """The elicitation form: accepting it approves; the note goes to the audit log."""

    note: str | None = Field(None, max_length=500, description="Optional note for the audit log")


def can_elicit(ctx: Context) -> bool:
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    # A bare `elicitation: {}` predates modes and means form support; url-only does not.
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def can_elicit_url(ctx: Context) -> bool:
    """The client declared URL-mode elicitation (``elicitation: {url: {}}``)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and elicitation.url is not None


def request_key(ctx: Context) -> str:
    try:
        return str(ctx.request_id)
    except Exception:  # no active request (direct calls in tests)
        return "direct"


def _connection(ctx: Context) -> int:
    try:
        return id(ctx.session)
    except Exception:  # no active request (direct calls in tests)
        return 0


class PendingReviews:
    """What the user was shown, per question, until the tool body takes it. Bounded: under
    2026-07-28 a first round that the client never resumes leaves its entry behind."""

    def __init__(self, limit: int = MAX_PENDING_SUMMARIES) -> None:
        self.limit = limit
        self._reviews: OrderedDict[str, Review] = OrderedDict()

    def __len__(self) -> int:
        return len(self._reviews)

    def clear(self) -> None:
        self._reviews.clear()

    @staticmethod
    def key(ctx: Context, op: Operation, args: Args) -> str:
        # JSON-RPC ids repeat across sessions (every client starts at 1): the key also names the
        # connection, the tool and the exact arguments, so concurrent approvals never swap texts.
        digest = hashlib.sha256(canonical_args(args).encode()).hexdigest()[:16]
        return f"{_connection(ctx)}:{request_key(ctx)}:{op.name}:{digest}"

    def keep(self, ctx: Context, op: Operation, args: Args, review: Review) -> None:
        self._reviews[self.key(ctx, op, args)] = review
        while len(self._reviews) > self.limit:
            self._reviews.popitem(last=False)

    def pop(self, ctx: Context, op: Operation, args: Args) -> Review | None:
        """What the user was shown for this call (summary and order state), once."""
        return self._reviews.pop(self.key(ctx, op, args), None)


async def spend_answer(store: Store, ctx: Context, expires_at: float) -> bool:
    """Make an elicitation answer single use, like a token. Under 2026-07-28 the answer comes back
    with the sealed request state of the question, and the SDK accepts that pair for minutes: a
    client resending the final round (a retry after a lost response) would run the write again
    on the same human "yes". Each sealed state is unique (random nonce), so it is spent here
    like a token id. False when it was already used. Answers within one request (2025-11-25)
    carry no state and cannot be replayed."""
    if ctx.request_state is None:
        return True
    sealed = sdk.sealed_state()
    if sealed is None:  # state without the codec seeing it: refuse rather than allow a replay
        return False
    return await store.spend("approval:" + sealed, expires_at)
