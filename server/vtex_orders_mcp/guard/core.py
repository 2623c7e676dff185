"""The guard: how a write tool call goes from "asked" to "sent" (or to "not sent").

A guarded tool has a hidden ``approval`` parameter. Its resolver (``Guard.resolver``) decides the
channel before the tool body runs:

- the operator relaxed or switched off the guard: ``Bypass``, the body executes and says so;
- the order does not exist: ``Refused`` (nobody is asked about a write that cannot succeed);
- the client elicits: the human is asked now (elicitation.py);
- ``elicit-only`` and the client cannot elicit: ``Refused``;
- otherwise ``NeedsToken``: the body answers with a confirmation token (tokens.py).

The tool body (``Guard.write``) then acts on that outcome. An accepted elicitation answer is
checked before anything is sent (``_answer_refused``): the question must still be known, the
answer unused, and, under 2025-11-25 where the human answered inside the call, the order still
as the question showed it. ``Guard.confirm`` is the second step of the token channel.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, RequestStateSecurity
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from .. import sdk
from ..client import VtexClient
from ..config import Settings
from ..errors import VtexNotFound
from ..models import Args, as_given
from ..registry import CONFIRM_TOOL, Operation, Registry
from ..results import error, explain_validation, ok, text
from ..storage import CallRecord, Store
from .elicitation import Approval, PendingReviews, can_elicit, request_key, spend_answer
from .execution import Executor
from .policy import Policy
from .review import Review, Reviewer, question
from .sealing import derive, load_secret
from .tokens import TokenError, Tokens

__all__ = ["Bypass", "Guard", "NeedsToken", "Refused"]

# How long the SDK accepts a 2026-07-28 answer with its sealed state (RequestStateSecurity's
# default TTL), so how long a spent answer must be remembered.
ANSWER_TTL = 600.0


@dataclass(frozen=True)
class NeedsToken(Review):
    """Resolver outcome: the client cannot elicit, use the two-step token (for this review)."""


@dataclass(frozen=True)
class Bypass:
    """Resolver outcome: the operator disabled the guard for this call (``off`` or relaxed)."""

    channel: str
    summary: str


@dataclass(frozen=True)
class Refused:
    """Resolver outcome: the call cannot be approved at all (elicit-only mode, unknown order)."""

    reason: str
    summary: str = ""


class Guard:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        client: VtexClient,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.policy = Policy(settings)
        self.reviewer = Reviewer(client, registry)
        self.pending = PendingReviews()
        self.executor = Executor(settings, registry, client, store)
        self._secret = load_secret(settings)
        self.tokens = Tokens(derive(self._secret, b"confirmation-token"), store, settings.token_ttl, clock)
        self._clock = clock

    def request_state_security(self) -> RequestStateSecurity:
        """How the SDK seals 2026-07-28 request state: AES-GCM under a key derived from the secret
        (so any replica sharing VTEX_MCP_SECRET resumes a call another one started), through a
        codec that also notes which sealed state the current request carries (``spend_answer``)."""
        return RequestStateSecurity(codec=sdk.RoundNotingCodec([derive(self._secret, b"mcp-request-state")]))

    # --- before the body: the resolver ------------------------------------------------------

    def resolver(self, op: Operation) -> Callable[..., Any]:
        """A resolver for ``op``'s hidden ``approval`` parameter (see the module docstring)."""
        fields = list(op.args.model_fields)

        async def ask(ctx: Context, **kwargs: Any) -> Any:
            args = op.args.validated(**{k: kwargs[k] for k in fields})
            try:
                review = await self.reviewer.review(op, args)
            except VtexNotFound as exc:
                return Refused(str(exc))
            bypass = self.policy.bypass(op)
            if bypass:
                return Bypass(bypass, review.summary)
            if can_elicit(ctx):
                self.pending.keep(ctx, op, args, review)
                if not ctx.input_responses:  # first round only: the resolver re-runs
                    await self.store.record(
                        call_id=request_key(ctx),
                        tool=op.name,
                        event="requested",
                        channel="elicitation",
                        principal=sdk.principal(),
                        arguments=args.model_dump(mode="json", by_alias=True),
                        summary=review.summary,
                    )
                return Elicit(question(args, review), Approval)
            if self.policy.elicit_only:
                reason = "this server only approves writes through elicitation and the client did not declare it"
                return Refused(reason, review.summary)
            return NeedsToken(review.summary, review.state)

        return sdk.with_parameters(ask, fields, f"approve_{op.name}")

    # --- the body ---------------------------------------------------------------------------

    async def write(self, ctx: Context, op: Operation, args: Args, approval: Any) -> CallToolResult:
        """What a guarded tool does once its resolver has answered."""
        principal = sdk.principal()
        call_id = uuid.uuid4().hex
        outcome = approval.data if isinstance(approval, AcceptedElicitation) else None
        record = CallRecord(
            call_id=call_id, tool=op.name, principal=principal, arguments=args.model_dump(mode="json", by_alias=True)
        )

        if isinstance(outcome, Refused):
            await self.store.record(**record, event="refused", summary=outcome.summary or None, detail=outcome.reason)
            return error(f"Not executed: {outcome.reason}.")
        if isinstance(outcome, Bypass):
            await self.store.record(**record, event="bypassed", channel=outcome.channel, summary=outcome.summary)
            return await self.executor.execute(
                op, args, call_id=call_id, channel=outcome.channel, principal=principal, summary=outcome.summary
            )
        if isinstance(outcome, NeedsToken):
            await self.store.record(**record, event="token_issued", channel="token", summary=outcome.summary)
            return self._token_answer(op, args, principal, outcome)
        kept = self.pending.pop(ctx, op, args)
        summary = (kept or Review(op.title)).summary
        if isinstance(outcome, Approval):
            refusal = await self._answer_refused(ctx, op, args, kept)
            if refusal:
                detail, message = refusal
                await self.store.record(
                    **record, event="refused", channel="elicitation", summary=summary, detail=detail
                )
                return error(f"Not executed: {message}")
            await self.store.record(
                **record, event="approved", channel="elicitation", summary=summary, detail=outcome.note
            )
            return await self.executor.execute(
                op, args, call_id=call_id, channel="elicitation", principal=principal, summary=summary
            )
        action = getattr(approval, "action", "cancel")
        event = "declined" if action == "decline" else "canceled"
        await self.store.record(**record, event=event, channel="elicitation", summary=summary)
        return ok({"status": event, "summary": f"Not executed: the user {event} it. {summary}"})

    def _token_answer(self, op: Operation, args: Args, principal: str, outcome: NeedsToken) -> CallToolResult:
        token, _ = self.tokens.mint(op, args, principal, outcome.state)
        ttl = int(self.settings.token_ttl)
        confirmation = {"tool": op.name, "arguments": as_given(args), "token": token}
        message = (
            f"Approval required; nothing was sent to VTEX. {outcome.summary}. Show this to the user; only if they "
            f"approve, call {CONFIRM_TOOL} with tool, arguments and token exactly as in this confirmation "
            f"(single use, expires in {ttl} s): " + text(confirmation)
        )
        structured = {
            "status": "approval_required",
            "summary": outcome.summary,
            "confirmation": confirmation,
            "expiresIn": ttl,
        }
        return CallToolResult(content=[TextContent(text=message)], structured_content=structured)

    async def _answer_refused(
        self, ctx: Context, op: Operation, args: Args, kept: Review | None
    ) -> tuple[str, str] | None:
        """Why an accepted answer does not count, as (audit detail, message), or None when it does.

        - The question it answers is no longer known (pushed out of the bounded store by other
          callers' unanswered questions): there is nothing to check it against.
        - It was already used (``spend_answer``): one "yes", one execution.
        - Under 2025-11-25 the question is answered inside the call, after a human's pause: the
          order is read again and must still be in the state the question showed. (Under
          2026-07-28 the question was just rebuilt from live state for this very round, and the
          SDK does not accept an answer to a question that changed.)
        """
        if kept is None:
            return (
                "question no longer known",
                "the question this answer approves is no longer known to the "
                "server; call the tool again to ask the user anew.",
            )
        if not await spend_answer(self.store, ctx, self._clock() + ANSWER_TTL):
            return (
                "approval replayed",
                "this approval was already used for one execution; call the tool again to ask the user anew.",
            )
        if kept.state is None or ctx.request_state is not None:
            return None
        if (await self.reviewer.safe_review(op, args)).state != kept.state:
            stale = "the order changed while the user was deciding (or could not be read to check)"
            return stale, f"{stale}. Call the tool again so the user approves the order as it is now."
        return None

    # --- the two-step token's second step -----------------------------------------------------

    async def confirm(
        self, ctx: Context, tool: str, arguments: dict[str, Any], token: str, listed: set[str]
    ) -> CallToolResult:
        """Run the write a confirmation token approves, if it approves exactly this call."""
        op = self.registry.get(tool)
        principal = sdk.principal()
        call_id = uuid.uuid4().hex
        if op is None or op.read_only or tool not in listed:
            return error(f"Not executed: {tool!r} is not a write tool of this server.")
        try:
            args = op.args.model_validate(arguments)
        except ValidationError as exc:
            return explain_validation(tool, exc, op.args)
        try:
            self.tokens.check(token, op, args, principal)  # a forged or expired token costs no request
            review = await self.reviewer.safe_review(op, args)
            await self.tokens.redeem(token, op, args, principal, review.state)
        except TokenError as exc:
            await self.store.record(
                call_id=call_id,
                tool=tool,
                event="token_rejected",
                channel="token",
                principal=principal,
                arguments=arguments,
                detail=str(exc),
            )
            return error(f"Not executed: {exc}.")
        await self.store.record(
            call_id=call_id,
            tool=tool,
            event="approved",
            channel="token",
            principal=principal,
            arguments=args.model_dump(mode="json", by_alias=True),
            summary=review.summary,
        )
        return await self.executor.execute(
            op, args, call_id=call_id, channel="token", principal=principal, summary=review.summary
        )
