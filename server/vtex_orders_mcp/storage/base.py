"""What the server keeps beyond one call: the audit log and the set of spent approvals.

One interface (``Store``), one implementation per database (sqlite.py today). Every method is
async: a database round trip never runs on the event loop, so one durable audit write (an fsync)
does not stall every other session of an HTTP server.

- The **audit log** is append-only: one row per event of a guarded call's life (guard/ says
  which). Arguments and details are redacted before they are stored.
- **Spent ids** make approvals single use: ``spend(key, expires_at)`` claims a key atomically
  (a unique key, so two concurrent claims cannot both win) and answers whether this call won.
  A key is kept until its approval could no longer be presented anyway (``expires_at``), then
  pruned.
- **Pending approvals** are writes waiting for a human on the approval page or the MCP Apps card
  (guard/approvals.py): the exact call, what the human is shown, and the decision. A decision is
  taken once: ``decide_approval`` moves a pending, unexpired approval to approved or declined in
  one statement, so of two concurrent deciders (two replicas, two clicks) exactly one wins, and
  only the winner executes.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from ..redaction import mask_text, redact, sensitive_values

__all__ = ["Approval", "ApprovalStatus", "AuditRecord", "CallRecord", "Store"]

ApprovalStatus = Literal["pending", "approved", "declined", "done", "failed", "unknown"]


class CallRecord(TypedDict):
    """What every audit row of one call repeats: ``store.record(**call, event=...)``."""

    call_id: str
    tool: str
    principal: str
    arguments: Any


@dataclass(frozen=True)
class AuditRecord:
    id: int
    time: str
    call_id: str
    tool: str
    event: str
    channel: str | None
    principal: str | None
    arguments: Any
    summary: str | None
    upstream_status: int | None
    receipt: str | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Approval:
    """A write waiting for (or decided by) a human outside the MCP client.

    ``arguments`` are the call's arguments exactly as the tool got them (what runs); ``digest``
    their canonical digest; ``state`` the order's state the human is shown (None for account-level
    writes); ``principal`` who asked; ``outcome`` what the execution answered, once it ran.
    """

    id: str
    account: str
    tool: str
    arguments: dict[str, Any]
    digest: str
    summary: str
    state: str | None
    principal: str
    channel: str
    created_at: float
    expires_at: float
    status: ApprovalStatus = "pending"
    decided_by: str | None = None
    decided_at: float | None = None
    outcome: dict[str, Any] | None = None
    reported: bool = False

    def expired(self, now: float) -> bool:
        return self.status == "pending" and now >= self.expires_at


class Store(ABC):
    """The audit log and the spent ids, over one database."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = [s for s in secrets if s]

    async def record(
        self,
        *,
        call_id: str,
        tool: str,
        event: str,
        channel: str | None = None,
        principal: str | None = None,
        arguments: Any = None,
        summary: str | None = None,
        upstream_status: int | None = None,
        receipt: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Append one audit row (durable when this returns)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        args_json = json.dumps(redact(arguments, self._secrets), sort_keys=True) if arguments is not None else None
        # A summary quotes arguments (a hook URL, a note, shopper data): it is masked like them.
        hidden = [*self._secrets, *sensitive_values(arguments)]
        summary, detail = mask_text(summary, hidden), mask_text(detail, hidden)
        row = (
            now,
            call_id,
            tool,
            event,
            channel,
            principal,
            args_json,
            summary,
            upstream_status,
            receipt,
            detail,
        )
        await self._append(row)

    @abstractmethod
    async def _append(self, row: tuple[Any, ...]) -> None:
        """Insert (time, call_id, tool, event, channel, principal, arguments, summary,
        upstream_status, receipt, detail)."""

    @abstractmethod
    async def recent(self, limit: int = 50, *, tool: str | None = None) -> list[AuditRecord]:
        """The newest ``limit`` audit rows, newest first (of one tool when given)."""

    @abstractmethod
    async def spend(self, key: str, expires_at: float) -> bool:
        """Claim ``key`` for good (until ``expires_at``); False when it was claimed already."""

    @abstractmethod
    async def is_spent(self, key: str) -> bool:
        """Whether ``key`` was claimed (a read; ``spend`` is the atomic step)."""

    @abstractmethod
    async def prune(self, now: float) -> int:
        """Forget spent keys whose approvals expired before ``now``; how many were dropped."""

    @abstractmethod
    async def create_approval(self, approval: Approval) -> None:
        """Keep a new pending approval."""

    @abstractmethod
    async def get_approval(self, approval_id: str) -> Approval | None: ...

    @abstractmethod
    async def decide_approval(self, approval_id: str, *, approve: bool, by: str, now: float) -> Approval | None:
        """Approve or decline a pending approval that has not expired, atomically; the decided record,
        or None when it was not pending any more (decided already, expired, unknown)."""

    @abstractmethod
    async def find_approval(self, account: str, principal: str, tool: str, digest: str) -> Approval | None:
        """The newest approval of this very call (account, principal, tool, arguments) not reported yet."""

    @abstractmethod
    async def report_approval(self, approval_id: str) -> bool:
        """Mark a decided approval as reported to the call that waited for it; False if it was already."""

    @abstractmethod
    async def finish_approval(self, approval_id: str, status: ApprovalStatus, outcome: dict[str, Any]) -> None:
        """Record what the approved write's execution answered (``done``, ``failed``, ``unknown``)."""

    @abstractmethod
    def close(self) -> None: ...
