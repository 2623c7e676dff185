"""The confirmation guard: no write reaches VTEX until a human approves that exact call.

Policy comes from one fact, ``Operation.kind``: every operation that is not a ``read`` is guarded
(policy.py). How the human is asked depends on what the client declared:

    core.py         the flow: resolver (which channel), tool body (act on the answer), confirm step
    elicitation.py  form elicitation, both protocol eras; pending questions; single-use answers
    tokens.py       the two-step confirmation token for clients that cannot elicit
    review.py       the summary and question a human approves, from the order's live state
    binding.py      the order-state digest an approval is bound to
    sealing.py      the secret, derived keys, token seals (PyJWT)
    execution.py    sending an approved write once, audited before and after
    policy.py       which writes need approval; operator relaxations

tools.py builds the tools and hands guarded calls here; nothing in this package builds tools.
"""

from __future__ import annotations

from .binding import order_state
from .core import Bypass, Guard, NeedsToken, Refused
from .elicitation import MAX_PENDING_SUMMARIES, Approval
from .review import Review, question, visible
from .tokens import TokenError

__all__ = [
    "MAX_PENDING_SUMMARIES",
    "Approval",
    "Bypass",
    "Guard",
    "NeedsToken",
    "Refused",
    "Review",
    "TokenError",
    "order_state",
    "question",
    "visible",
]
