"""What the server keeps beyond one call: the audit log and the set of spent approvals.

One interface (``Store``), one implementation per database: SQLite in the state directory
(sqlite.py, the embedded default) and PostgreSQL (postgres.py, shared by replicas when
``VTEX_MCP_DATABASE_URL`` is set). The same tests run against both. Every method is async: a
database round trip never runs on the event loop, so one durable audit write (an fsync) does not
stall every other session of an HTTP server.

A store is opened once per process and shared; ``scoped(account)`` gives the view one VTEX
account's server uses (several stores in one server, accounts.py): its audit rows and approvals
carry that account, and it reads only that account's. An unscoped store (the ``audit`` command)
reads every account's.

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
- **Spent ids and decisions are claimed in the database**, in one statement, before any upstream
  request: across replicas on one PostgreSQL the loser sends nothing.
"""

from __future__ import annotations

import copy
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable
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
    account: str | None = None

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


# Audit rows read per round trip when exporting (``Store.export``).
EXPORT_BATCH = 500


class Store(ABC):
    """The audit log, the spent ids and the pending approvals, over one database."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = [s for s in secrets if s]
        self.account: str | None = None  # see ``scoped``

    def scoped(self, account: str, secrets: Iterable[str] = ()) -> Store:
        """This store as one account's server sees it (same database, same connections): rows it
        writes carry ``account``, and it reads that account's audit rows and approvals only."""
        view = copy.copy(self)
        view.account = account
        view._secrets = [*self._secrets, *(s for s in secrets if s)]
        return view

    async def open(self) -> None:  # noqa: B027 - optional: a database that needs no start-up step
        """Connect and bring the schema up to date (migrations): done at start-up by servers, and
        on first use otherwise."""

    async def ping(self) -> None:
        """Raise unless the database answers (``/readyz``)."""
        await self.recent(1)

    async def export(self, after_id: int = 0) -> AsyncIterator[AuditRecord]:
        """Every audit row after ``after_id``, oldest first, read in batches (``audit --export``)."""
        while True:
            rows = await self.audit_after(after_id, EXPORT_BATCH)
            for row in rows:
                yield row
            if len(rows) < EXPORT_BATCH:
                return
            after_id = rows[-1].id

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
            self.account,
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
        """Insert (account, time, call_id, tool, event, channel, principal, arguments, summary,
        upstream_status, receipt, detail)."""

    @abstractmethod
    async def recent(self, limit: int = 50, *, tool: str | None = None) -> list[AuditRecord]:
        """The newest ``limit`` audit rows, newest first (of one tool when given)."""

    @abstractmethod
    async def audit_after(self, after_id: int, limit: int) -> list[AuditRecord]:
        """Up to ``limit`` audit rows with an id above ``after_id``, oldest first."""

    @abstractmethod
    async def prune_audit(self, before: datetime) -> int:
        """Delete audit rows recorded before ``before`` (the retention setting; run by the
        ``audit --prune`` command, never by a serving process); how many were deleted."""

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
    async def finish_approval(self, approval_id: str, status: ApprovalStatus, outcome: dict[str, Any]) -> bool:
        """Record what the approved write's execution answered (``done``, ``failed``, ``unknown``),
        once: False when the approval was not ``approved`` any more (finished already)."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release the database (the root store only: scoped views share it)."""
