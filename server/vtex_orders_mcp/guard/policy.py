"""Which writes need a human's approval: every operation that is not a ``read``.

Operators may relax it per tool (``VTEX_MCP_GUARD_RELAX``) or switch it off for sandbox evals
(``--guard off``); nothing a tool *argument* says can relax it. ``elicit-only`` refuses writes
from clients that cannot elicit instead of offering them the two-step token.
"""

from __future__ import annotations

from ..config import Settings
from ..registry import Operation

__all__ = ["Policy"]


class Policy:
    def __init__(self, settings: Settings) -> None:
        self.mode = settings.guard
        self.relaxed = settings.guard_relax

    @staticmethod
    def needs_approval(op: Operation) -> bool:
        return not op.read_only

    def bypass(self, op: Operation) -> str | None:
        """The channel a write runs through without a human ("off", "relaxed"), or None."""
        if self.mode == "off":
            return "off"
        if op.name in self.relaxed:
            return "relaxed"
        return None

    @property
    def elicit_only(self) -> bool:
        return self.mode == "elicit-only"
