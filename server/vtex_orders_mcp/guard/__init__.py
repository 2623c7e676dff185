"""The confirmation guard: no write reaches VTEX until a human approves that exact call.

Policy comes from one fact, ``Operation.kind``: every operation that is not a ``read`` is guarded
(policy.py). How the human is asked depends on what the client declared:

    core.py         the flow: resolver (which channel), tool body (act on the answer), confirm step
    elicitation.py  form elicitation, both protocol eras; pending questions; single-use answers
    approvals.py    writes a human decides outside the call (card, URL elicitation, page)
    pages.py        the approval page (HTTP routes; a loopback server over stdio)
    card.py         the MCP Apps approval card (a self-contained ui:// app)
    tokens.py       the two-step confirmation token (only with --guard token)
    review.py       the summary and question a human approves, from the order's live state
    binding.py      the order-state digest an approval is bound to
    sealing.py      the secret, derived keys, token seals (PyJWT)
    execution.py    sending an approved write once, audited before and after
    policy.py       which writes need approval; operator relaxations

tools.py builds the tools and hands guarded calls here; nothing in this package builds tools.
"""

from __future__ import annotations

from .binding import order_state
from .core import APPROVAL_CARD, Bypass, Guard, NeedsHuman, NeedsToken, Refused
from .elicitation import MAX_PENDING_SUMMARIES, ApprovalForm
from .review import Review, question, visible
from .tokens import TokenError

__all__ = [
    "APPROVAL_CARD",
    "MAX_PENDING_SUMMARIES",
    "ApprovalForm",
    "Bypass",
    "Guard",
    "NeedsHuman",
    "NeedsToken",
    "Refused",
    "Review",
    "TokenError",
    "order_state",
    "question",
    "visible",
]
