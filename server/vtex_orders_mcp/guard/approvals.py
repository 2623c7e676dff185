"""Approvals decided outside the MCP client: on the approval page, or on the MCP Apps card.

When the client cannot ask the human itself, the guard keeps the write as a pending ``Approval``
(storage/) and shows the human where to decide: a link to the server's approval page, or the
approval card an MCP Apps host renders. The human's decision is taken once (the store moves a
pending, unexpired approval to approved or declined in one statement), and an approved write runs
right then, exactly once, from the handler that received the decision. Nothing the model can call
decides: the model only reads the outcome (``confirm_write`` with the approval id).

Before an approved write runs, the order is read again: if it changed since the human was shown
it (another agent invoiced it, another approval already ran), the approval is stale and nothing is
sent. A decision after expiry does nothing.

The page link is a capability: ``/approvals/{id}/{key}``, where ``key`` is an HMAC of the id under
a key derived from the server secret, so it cannot be guessed from the id (which the audit log and
tool results carry) and needs no storage. Forms carry a CSRF token derived the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..config import Settings
from ..models import Args, as_given
from ..registry import Operation, Registry
from ..storage import Approval, CallRecord, Store
from .execution import Executor
from .review import Review, Reviewer
from .sealing import args_digest, derive

__all__ = ["Approvals", "Decision"]

log = logging.getLogger("vtex_orders_mcp")

# Completion callbacks kept at most (one per URL elicitation waiting in this process).
MAX_WATCHERS = 1024
# Seconds past the longest an approved write's execution can take (see ``_abandoned``).
EXECUTION_MARGIN = 5.0
ABANDONED = (
    "The server sending this write stopped before VTEX's answer was recorded: it may or may not have "
    "been applied. Nothing was resent. Check the order before asking again."
)


class Decision:
    """What happened to a decision: the approval as it now stands, a line for the human, and
    whether this decision was the one taken (False: it was decided before, expired, or unknown)."""

    def __init__(self, approval: Approval | None, message: str, *, taken: bool = True) -> None:
        self.approval = approval
        self.message = message
        self.taken = taken


class Approvals:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        store: Store,
        executor: Executor,
        reviewer: Reviewer,
        secret: bytes,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.executor = executor
        self.reviewer = reviewer
        self._page_key = derive(secret, b"approval-page")
        self._csrf_key = derive(secret, b"approval-csrf")
        self._clock = clock
        # approval id -> (expiry, what to do once it is decided); see ``when_decided``.
        self._watchers: dict[str, tuple[float, Callable[[], Awaitable[None]]]] = {}

    # --- keys ---------------------------------------------------------------------------------

    def key(self, approval_id: str) -> str:
        """The capability part of an approval's page URL."""
        return hmac.new(self._page_key, approval_id.encode(), hashlib.sha256).hexdigest()[:32]

    def key_matches(self, approval_id: str, key: str) -> bool:
        return hmac.compare_digest(self.key(approval_id), key)

    def csrf(self, approval_id: str) -> str:
        return hmac.new(self._csrf_key, approval_id.encode(), hashlib.sha256).hexdigest()

    def csrf_matches(self, approval_id: str, token: str) -> bool:
        return hmac.compare_digest(self.csrf(approval_id), token)

    # --- the life of an approval ----------------------------------------------------------------

    async def open(self, op: Operation, args: Args, review: Review, principal: str, channel: str) -> Approval:
        """Keep the write as pending and audit the request (the approval id is the call id of
        every audit row of this write, from ``requested`` to ``executed``)."""
        now = self._clock()
        approval = Approval(
            id=uuid.uuid4().hex,
            account=self.settings.account,
            tool=op.name,
            arguments=as_given(args),
            digest=args_digest(args),
            summary=review.summary,
            state=review.state,
            principal=principal,
            channel=channel,
            created_at=now,
            expires_at=now + self.settings.approval_ttl,
        )
        await self.store.create_approval(approval)
        await self.store.record(
            **self._call(approval, arguments=args.model_dump(mode="json", by_alias=True)),
            event="requested",
            channel=channel,
            summary=review.summary,
        )
        return approval

    def when_decided(self, approval_id: str, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` once this approval is decided here (and its write has run): the URL
        elicitation's completion notification. In-process and best effort: a decision taken by
        another replica sends none, and the client's retry finds the outcome all the same."""
        now = self._clock()
        for key in [k for k, (expires, _) in self._watchers.items() if expires <= now]:
            del self._watchers[key]
        if len(self._watchers) >= MAX_WATCHERS:
            self._watchers.pop(next(iter(self._watchers)))
        self._watchers[approval_id] = (now + self.settings.approval_ttl, callback)

    async def _decided(self, approval_id: str) -> None:
        watcher = self._watchers.pop(approval_id, None)
        if watcher is None:
            return
        try:
            await watcher[1]()
        except Exception as exc:  # the client went away: it learns the outcome when it retries
            log.info("Could not notify the client that approval %s was decided: %s", approval_id, type(exc).__name__)

    async def get(self, approval_id: str) -> Approval | None:
        """The approval as it stands; one abandoned mid-execution is reported as ``unknown``."""
        approval = await self.store.get_approval(approval_id)
        if approval is not None and self._abandoned(approval):
            # Whoever reads it first records it (any replica); the write itself is never resent.
            if await self.store.finish_approval(approval.id, "unknown", {"error": ABANDONED}):
                await self.store.record(
                    **self._call(approval), event="outcome_unknown", channel=approval.channel, detail=ABANDONED
                )
            approval = await self.store.get_approval(approval_id)
        return approval

    def _abandoned(self, approval: Approval) -> bool:
        """Approved, but still not finished long after any execution would have: the process
        running it died (a replica killed mid-write). The deadline covers the order's re-read, one
        attempt, one resend of an idempotent write and the re-read after a lost answer, each
        bounded by the operation's timeout (client.py)."""
        if approval.status != "approved" or approval.decided_at is None:
            return False
        op = self.registry.get(approval.tool)
        limit = max((op.timeout if op is not None else None) or 0.0, self.settings.timeout)
        return self._clock() > approval.decided_at + 4 * limit + EXECUTION_MARGIN

    async def decide(self, approval_id: str, *, approve: bool, by: str) -> Decision:
        """The human's decision. Taken once; an approval runs the write right away."""
        now = self._clock()
        decided = await self.store.decide_approval(approval_id, approve=approve, by=by, now=now)
        if decided is None:
            current = await self.store.get_approval(approval_id)
            return Decision(current, _not_pending(current, now), taken=False)
        await self.store.record(
            **self._call(decided),
            event="approved" if approve else "declined",
            channel=decided.channel,
            summary=decided.summary,
            detail=f"by {by}",
        )
        if not approve:
            decision = Decision(decided, "Declined: nothing was sent to VTEX.")
        else:
            decision = await self._execute(decided)
        await self._decided(approval_id)
        return decision

    async def _execute(self, approval: Approval) -> Decision:
        op = self.registry.get(approval.tool)
        if op is None:  # a registry without this tool (another version of the server)
            await self.store.finish_approval(approval.id, "failed", {"error": "unknown tool"})
            return Decision(approval, f"Not executed: this server has no tool {approval.tool}.")
        args = op.args.model_validate(approval.arguments)
        if approval.state is not None and (await self.reviewer.safe_review(op, args)).state != approval.state:
            stale = "the order changed since it was shown (or could not be read to check)"
            await self.store.record(**self._call(approval), event="refused", channel=approval.channel, detail=stale)
            await self.store.finish_approval(approval.id, "failed", {"error": f"Not executed: {stale}."})
            return Decision(await self.get(approval.id), f"Not executed: {stale}. Ask again with the order as it is.")
        executed = await self.executor.run(
            op,
            args,
            call_id=approval.id,
            channel=approval.channel,
            principal=approval.principal,
            summary=approval.summary,
        )
        await self.store.finish_approval(approval.id, executed.status, executed.outcome)
        done = executed.status == "done"
        message = "Approved: the change was sent to VTEX." if done else str(executed.outcome.get("error", ""))
        return Decision(await self.get(approval.id), message)

    def _call(self, approval: Approval, arguments: Any = None) -> CallRecord:
        return CallRecord(call_id=approval.id, tool=approval.tool, principal=approval.principal, arguments=arguments)


def _not_pending(approval: Approval | None, now: float) -> str:
    if approval is None:
        return "There is no such approval."
    if approval.expired(now):
        return "This approval expired before a decision: nothing was sent. Ask the assistant to try again."
    return f"This approval was already decided ({approval.status})."
