"""The guard: how a write tool call goes from "asked" to "sent" (or to "not sent").

A guarded tool has a hidden ``approval`` parameter. Its resolver (``Guard.resolver``) reads the
order the write targets and decides before the tool body runs:

- the order does not exist, cannot be read (for a write bound to its state), or VTEX's rules
  refuse the write in the order's state: ``Refused``, nobody is asked and nothing is sent;
- the operator relaxed or switched off the guard: ``Bypass``, the body executes and says so;
- otherwise the strongest channel to a human the client offers (``Guard.channel``):
  1. form elicitation: the human is asked now (elicitation.py);
  2. the MCP Apps approval card, for hosts that declared ``io.modelcontextprotocol/ui``;
  3. URL elicitation: the client opens the approval page (-32042) and retries the call;
  4. the approval page: the answer is a link the model shows the human (approvals.py, pages.py);
  5. the two-step token, only when the operator chose ``--guard token`` (tokens.py);
  ``elicit-only`` refuses every client that cannot elicit.

The tool body (``Guard.write``) acts on that outcome. An accepted elicitation answer is checked
before anything is sent (``_answer_refused``); a declined one is spent too, so a later "accept"
resent with the same sealed state does not count. Card, URL and page approvals are decided
outside the call and executed by the handler that receives the decision (approvals.py).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, RequestStateSecurity
from mcp.shared.exceptions import UrlElicitationRequiredError
from mcp.types import CallToolResult, ElicitRequestURLParams, TextContent
from pydantic import ValidationError

from ..arguments import contract, refusal_text
from .. import sdk
from ..client import VtexClient
from ..config import Settings
from ..errors import VtexNotFound
from ..models import Args, as_given
from ..redaction import redact
from ..registry import CONFIRM_TOOL, Operation, Registry
from ..results import error, explain_validation, ok, sentence, text
from ..storage import Approval, CallRecord, Store
from .approvals import Approvals
from .elicitation import ApprovalForm, PendingReviews, can_elicit, can_elicit_url, spend_answer
from .execution import Executor
from .policy import Policy
from .review import Review, Reviewer, question
from .sealing import args_digest, derive, load_secret
from .tokens import TokenError, Tokens

__all__ = ["APPROVAL_CARD", "Bypass", "Guard", "NeedsHuman", "NeedsToken", "Refused"]

# How long the SDK accepts a 2026-07-28 answer with its sealed state (RequestStateSecurity's
# default TTL), so how long a spent answer must be remembered.
ANSWER_TTL = 600.0
APPROVAL_CARD = "ui://vtex-orders/approval"
# The protocol era without ``notifications/elicitation/complete`` (its client simply retries).
MODERN = "2026-07-28"


@dataclass(frozen=True)
class NeedsToken(Review):
    """Resolver outcome: the operator chose the two-step token for clients that cannot elicit."""


@dataclass(frozen=True)
class NeedsHuman(Review):
    """Resolver outcome: a human decides outside the call: ``channel`` is app, url or page.
    ``waiting``: the URL-elicitation approval of this very call, still pending (a retry)."""

    channel: str = "page"
    waiting: Approval | None = None


@dataclass(frozen=True)
class Decided:
    """Resolver outcome: a retried URL-elicitation call whose approval was decided meanwhile."""

    approval: Approval


@dataclass(frozen=True)
class Bypass:
    """Resolver outcome: the operator disabled the guard for this call (``off`` or relaxed)."""

    channel: str
    summary: str


@dataclass(frozen=True)
class Refused:
    """Resolver outcome: the call cannot be approved (elicit-only mode, unknown order, VTEX's rules)."""

    reason: str
    summary: str = ""


# Above this many characters of confirmation JSON, a token answer names the arguments instead of
# echoing them (the model has them: they are its own call's).
CONFIRMATION_TEXT = 4_000
SAME_ARGUMENTS = "the arguments of the call that asked, unchanged"


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
        # Every key is derived for this account: a token, a sealed elicitation answer, a page link or
        # a CSRF token issued for one account's server is never valid on another's (accounts.py).
        self._secret = derive(load_secret(settings), b"account:" + settings.account.encode())
        self.tokens = Tokens(derive(self._secret, b"confirmation-token"), store, settings.token_ttl, clock)
        self.approvals = Approvals(settings, registry, store, self.executor, self.reviewer, self._secret, clock)
        self._clock = clock
        # Where approval pages are served: set by the server (a loopback server over stdio, the
        # HTTP app's own routes over HTTP). Returns the base URL for this call, or None.
        self.page_base: Callable[[Context], Any] | None = None
        self.page_prefix = "/approvals"  # the page's path: one per account when a server has several

    def request_state_security(self) -> RequestStateSecurity:
        """How the SDK seals 2026-07-28 request state: AES-GCM under a key derived from the secret
        (so any replica sharing VTEX_MCP_SECRET resumes a call another one started), through a
        codec that also notes which sealed state the current request carries (``spend_answer``)."""
        return RequestStateSecurity(codec=sdk.RoundNotingCodec([derive(self._secret, b"mcp-request-state")]))

    # --- which channel ----------------------------------------------------------------------

    def channel(self, ctx: Context) -> str:
        """The strongest way to reach a human this session offers (see the module docstring)."""
        if can_elicit(ctx):
            return "elicitation"
        if self.policy.elicit_only:
            return "refuse"
        if self.policy.mode == "token":
            return "token"
        # The card cannot sign approvers in: with approver tokens configured, the page decides.
        if client_supports_apps(ctx) and not self.settings.approver_tokens:
            return "app"
        if can_elicit_url(ctx):
            return "url"
        return "page"

    # --- before the body: the resolver ------------------------------------------------------

    def resolver(self, op: Operation) -> Callable[..., Any]:
        """A resolver for ``op``'s hidden ``approval`` parameter (see the module docstring)."""
        fields = list(op.args.model_fields)

        async def ask(ctx: Context, **kwargs: Any) -> Any:
            args = op.args.validated(**{k: kwargs[k] for k in fields})
            channel = self.channel(ctx)
            if channel == "url":
                # A URL-elicitation client retries the call once the human is done on the page
                # (-32042): the retry finds the approval of this very call, before anything else.
                found = await self._url_approval(op, args)
                if isinstance(found, Decided) or (found is not None and found.waiting is not None):
                    return found
            try:
                review = await self.reviewer.review(op, args)
            except VtexNotFound as exc:
                return Refused(str(exc))
            bypass = self.policy.bypass(op)
            refused = _refusal(op, review, asking=not bypass)
            if refused is not None:
                return refused
            if bypass:
                return Bypass(bypass, review.summary)
            if channel == "elicitation":
                return await self._elicit(ctx, op, args, review)
            if channel == "refuse":
                reason = "this server only approves writes through elicitation and the client did not declare it"
                return Refused(reason, review.summary)
            if channel == "token":
                return NeedsToken(review.summary, review.state)
            return NeedsHuman(review.summary, review.state, channel=channel)

        return sdk.with_parameters(ask, fields, f"approve_{op.name}")

    async def _url_approval(self, op: Operation, args: Args) -> NeedsHuman | Decided | None:
        """The pending or decided (and not yet reported) URL approval of exactly this call."""
        found = await self.store.find_approval(self.settings.account, sdk.principal(), op.name, args_digest(args))
        if found is None or found.channel != "url":
            return None
        if found.status == "approved":  # still running, or abandoned by a process that died (approvals.get)
            found = await self.approvals.get(found.id) or found
        if found.status == "pending":
            if found.expired(self._clock()):
                return None
            return NeedsHuman(found.summary, found.state, channel="url", waiting=found)
        if found.status != "approved" and await self.store.report_approval(found.id):
            return Decided(found)
        return None

    async def _elicit(self, ctx: Context, op: Operation, args: Args, review: Review) -> Elicit[ApprovalForm]:
        asked = question(args, review)
        self.pending.keep(ctx, op, args, review)
        if not ctx.input_responses:  # first round only: the resolver re-runs
            await self.store.record(
                **_elicitation_call(op, args, asked), event="requested", channel="elicitation", summary=review.summary
            )
        return Elicit(asked, ApprovalForm)

    # --- the body ---------------------------------------------------------------------------

    async def write(self, ctx: Context, op: Operation, args: Args, approval: Any) -> CallToolResult:
        """What a guarded tool does once its resolver has answered."""
        principal = sdk.principal()
        outcome = approval.data if isinstance(approval, AcceptedElicitation) else None
        record = CallRecord(
            call_id=uuid.uuid4().hex,
            tool=op.name,
            principal=principal,
            arguments=args.model_dump(mode="json", by_alias=True),
        )

        if isinstance(outcome, Refused):
            await self.store.record(**record, event="refused", summary=outcome.summary or None, detail=outcome.reason)
            return error(f"Not executed: {outcome.reason}")
        if isinstance(outcome, Bypass):
            await self.store.record(**record, event="bypassed", channel=outcome.channel, summary=outcome.summary)
            done = await self.executor.execute(
                op,
                args,
                call_id=record["call_id"],
                channel=outcome.channel,
                principal=principal,
                summary=outcome.summary,
            )
            return _bypassed(done, outcome.channel)
        if isinstance(outcome, NeedsToken):
            await self.store.record(**record, event="token_issued", channel="token", summary=outcome.summary)
            return self._token_answer(op, args, principal, outcome)
        if isinstance(outcome, Decided):
            return approval_result(outcome.approval)
        if isinstance(outcome, NeedsHuman):
            return await self._human_elsewhere(ctx, op, args, principal, outcome)
        return await self._elicited(ctx, op, args, approval, outcome)

    async def _elicited(self, ctx: Context, op: Operation, args: Args, answer: Any, form: Any) -> CallToolResult:
        kept = self.pending.pop(ctx, op, args)
        summary = (kept or Review(op.title)).summary
        asked = question(args, kept) if kept is not None else ""
        record = _elicitation_call(op, args, asked)
        if isinstance(form, ApprovalForm):
            refusal = await self._answer_refused(ctx, op, args, kept)
            if refusal:
                detail, message = refusal
                await self.store.record(
                    **record, event="refused", channel="elicitation", summary=summary, detail=detail
                )
                return error(f"Not executed: {message}")
            await self.store.record(
                **record, event="approved", channel="elicitation", summary=summary, detail=form.note
            )
            return await self.executor.execute(
                op,
                args,
                call_id=record["call_id"],
                channel="elicitation",
                principal=record["principal"],
                summary=summary,
            )
        # Declined or dismissed: the answer is spent too, so the same sealed question cannot be
        # answered "accept" later and run the write.
        await spend_answer(self.store, ctx, self._clock() + ANSWER_TTL)
        action = getattr(answer, "action", "cancel")
        event = "declined" if action == "decline" else "dismissed"
        await self.store.record(**record, event=event, channel="elicitation", summary=summary)
        said = "declined" if event == "declined" else "dismissed the question without deciding"
        return ok({"status": event, "summary": f"Not executed: the user {said}. {summary}"})

    def _token_answer(self, op: Operation, args: Args, principal: str, outcome: NeedsToken) -> CallToolResult:
        token, _ = self.tokens.mint(op, args, principal, outcome.state)
        ttl = int(self.settings.token_ttl)
        confirmation: dict[str, Any] = {"tool": op.name, "arguments": as_given(args), "token": token}
        shown = text(confirmation)
        if len(shown) > CONFIRMATION_TEXT:
            # Arguments may be 256 KiB: the answer does not echo what the model just sent.
            confirmation["arguments"] = SAME_ARGUMENTS
            shown = text(confirmation)
        message = (
            f"Approval required; nothing was sent to VTEX. {sentence(outcome.summary)} Show this to the user; "
            f"only if they approve, call {CONFIRM_TOOL} with tool, arguments and token exactly as in this confirmation "
            f"(single use, expires in {ttl} s). The operator chose this two-step channel (guard mode 'token'): "
            "the server cannot tell who confirms. " + shown
        )
        structured = {
            "status": "approval_required",
            "summary": outcome.summary,
            "channel": "token",
            "confirmation": confirmation,
            "expiresIn": ttl,
        }
        return CallToolResult(content=[TextContent(text=message)], structured_content=structured)

    # --- a human elsewhere: card, URL, page -------------------------------------------------------

    async def _human_elsewhere(
        self, ctx: Context, op: Operation, args: Args, principal: str, outcome: NeedsHuman
    ) -> CallToolResult:
        if outcome.waiting is not None:  # retried before the human decided: back to the same page
            raise await self._url_required(ctx, outcome.waiting)
        if outcome.channel == "app":
            approval = await self.approvals.open(op, args, outcome, principal, "app")
            return self._card_answer(approval)
        base = await self._page_base(ctx)
        if base is None:  # fail closed: no page to send the human to
            return error(
                "Not executed: this server has no approval page to send the user to, and the client "
                "cannot ask them itself. Ask the operator to serve it over HTTP or from a terminal."
            )
        approval = await self.approvals.open(op, args, outcome, principal, outcome.channel)
        if outcome.channel == "url":
            if ctx.protocol_version != MODERN:  # 2026-07-28 removed the notification: the retry is all
                self._notify_on_decision(ctx, approval)
            raise await self._url_required(ctx, approval)
        return self._page_answer(approval, base)

    def _notify_on_decision(self, ctx: Context, approval: Approval) -> None:
        """Once the human decides on the page, tell the client it may retry (the spec's
        ``notifications/elicitation/complete``, 2025-11-25). The session is held until then (or
        until the approval expires), bounded by ``approvals.MAX_WATCHERS``."""
        session = ctx.session

        async def complete() -> None:
            await session.send_elicit_complete(approval.id)

        self.approvals.when_decided(approval.id, complete)

    async def _page_base(self, ctx: Context) -> str | None:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return await self.page_base(ctx) if self.page_base is not None else None

    def page_url(self, base: str, approval: Approval) -> str:
        return f"{base}{self.page_prefix}/{approval.id}/{self.approvals.key(approval.id)}"

    async def _url_required(self, ctx: Context, approval: Approval) -> UrlElicitationRequiredError:
        base = await self._page_base(ctx) or ""
        return UrlElicitationRequiredError(
            [
                ElicitRequestURLParams(
                    message=f"Approve this change? {approval.summary}",
                    url=self.page_url(base, approval),
                    elicitation_id=approval.id,
                )
            ],
            message="The user must approve this change on the approval page; retry the call when they are done.",
        )

    def _page_answer(self, approval: Approval, base: str) -> CallToolResult:
        url = self.page_url(base, approval)
        ttl = int(approval.expires_at - approval.created_at)
        message = (
            f"Approval required; nothing was sent to VTEX. {sentence(approval.summary)} Show the user this link "
            f"to approve or decline it themselves: {url} (expires in {ttl // 60} min). The change runs when they "
            f"approve it there; call check_approval with approval_id {approval.id} to learn the outcome."
        )
        structured = {
            "status": "approval_required",
            "summary": approval.summary,
            "channel": "page",
            "approval": {"id": approval.id, "url": url, "expiresIn": ttl},
        }
        return CallToolResult(content=[TextContent(text=message)], structured_content=structured)

    def _card_answer(self, approval: Approval) -> CallToolResult:
        ttl = int(approval.expires_at - approval.created_at)
        structured = {
            "status": "approval_required",
            "summary": approval.summary,
            "channel": "app",
            "approval": {
                "id": approval.id,
                "tool": approval.tool,
                "arguments": approval.arguments,
                "orderState": approval.state,
                "expiresIn": ttl,
            },
        }
        message = (
            f"Approval required; nothing was sent to VTEX. {sentence(approval.summary)} The user approves or declines "
            f"it on the approval card; call check_approval with approval_id {approval.id} for the outcome."
        )
        return CallToolResult(
            content=[TextContent(text=message)],
            structured_content=structured,
            _meta={"ui": {"resourceUri": APPROVAL_CARD}},
        )

    async def status(self, approval_id: str) -> CallToolResult:
        """``check_approval``: where an approval stands, and its outcome once decided. Executes nothing."""
        approval = await self.approvals.get(approval_id)
        if approval is None or approval.principal != sdk.principal():
            return error(f"failed to check approval {approval_id}: this client has no such approval.")
        return approval_result(approval, now=self._clock())

    async def decide_on_card(self, ctx: Context, approval_id: str, approve: bool) -> CallToolResult:
        """The approval card's buttons (an app-only tool): only a session that declared MCP Apps,
        only for an approval this client asked for on the card."""
        if not client_supports_apps(ctx):
            return error("Not executed: only the approval card decides through this tool.")
        approval = await self.approvals.get(approval_id)
        if approval is None or approval.channel != "app" or approval.principal != sdk.principal():
            return error(f"No approval card {approval_id!r} for this client.")
        decision = await self.approvals.decide(approval_id, approve=approve, by="card")
        if decision.approval is None or not decision.taken:
            return error(decision.message)
        return approval_result(decision.approval, message=decision.message)

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
        problems = contract(op.args).problems(arguments)  # the write tool's own schema, as if called
        if problems:
            return error(refusal_text(tool, problems))
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
            return error(sentence(f"Not executed: {exc}"))
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


def _refusal(op: Operation, review: Review, *, asking: bool) -> Refused | None:
    """Nobody is asked about a write that cannot succeed, nor about one whose order cannot be shown
    (an approval is bound to what the human saw; without the order there is nothing to bind to)."""
    if review.refusal is not None:
        hint = f" {op.hint}" if op.hint and review.refusal.hinted else ""
        return Refused(f"{review.refusal.reason}; nothing was asked or sent.{hint}", review.summary)
    if review.unread is not None and op.state_bound and asking:
        return Refused(
            f"the order could not be read to show the user what they would approve ({review.unread}); "
            "nothing was asked or sent. Try again in a moment.",
            review.summary,
        )
    return None


def _elicitation_call(op: Operation, args: Args, asked: str) -> CallRecord:
    """The audit rows of one elicited write share a call id made from the question itself: the
    SDK asks the same question on every round of a 2026-07-28 call (it accepts no answer to a
    changed one), so the rows of the request and of the decision carry the same id, even when the
    rounds reach different replicas."""
    principal = sdk.principal()
    digest = hashlib.sha256(f"{principal}\0{op.name}\0{args_digest(args)}\0{asked}".encode()).hexdigest()[:32]
    return CallRecord(
        call_id=digest, tool=op.name, principal=principal, arguments=args.model_dump(mode="json", by_alias=True)
    )


def _bypassed(result: CallToolResult, channel: str) -> CallToolResult:
    """An executed write that no human approved says so, in its text and its structured result."""
    why = "the guard is off" if channel == "off" else "the operator exempted this tool from approval"
    note = f"Executed without a human's approval: {why}."
    if result.structured_content is not None:
        result.structured_content = {**result.structured_content, "guard": note}
    result.content = [*result.content, TextContent(text=note)]
    return result


def approval_result(approval: Approval, *, now: float | None = None, message: str = "") -> CallToolResult:
    """An approval as the model reads it: where it stands and, once it ran, VTEX's answer."""
    status: str = approval.status
    if now is not None and approval.expired(now):
        status = "expired"
    said = (
        message
        or {
            "pending": "Waiting for the user to decide; nothing was sent.",
            "approved": "Approved; the change is being sent.",
            "declined": "The user declined: nothing was sent.",
            "done": "The user approved and the change was sent to VTEX.",
            "failed": "The user approved, but it was not applied (see the outcome).",
            "unknown": "The user approved and it was sent, but VTEX's answer was lost: check the order.",
            "expired": "Nobody decided in time: nothing was sent. Ask again if it is still wanted.",
        }[status]
    )
    structured = {"status": status, "approvalId": approval.id, "summary": approval.summary, "message": said}
    if approval.outcome is not None:
        structured["outcome"] = redact(approval.outcome)
    failed = status in ("failed", "unknown")
    return CallToolResult(
        content=[TextContent(text=f"{said} {text(structured)}")], structured_content=structured, is_error=failed
    )
