"""The confirmation guard: no write reaches VTEX until a human approves it.

Policy comes from one fact, ``Operation.kind``: every operation that is not a ``read`` is
guarded. Operators may relax it per tool (``VTEX_MCP_GUARD_RELAX``) or switch it off for
sandbox evals (``--guard off``); nothing a tool *argument* says can relax it.

Two approval channels:

1. **Elicitation**, when the client declared form elicitation. Each guarded tool has a hidden
   ``approval`` parameter filled by a resolver (``mcp.server.mcpserver.Resolve``). The resolver
   reads live state, writes a one-line human summary ("Cancel order v…-01: handling, R$ 44,50,
   1 item, customer …; reason: …") and returns ``Elicit(summary, Approval)``. The SDK delivers
   it the way the negotiated protocol wants: an ``elicitation/create`` request mid-call for
   2025-11-25 clients, an ``InputRequiredResult`` with sealed ``request_state`` for 2026-07-28
   clients (the resolver then re-runs on the retry, and an answer is only accepted for the very
   question that was shown). Accept executes; decline or cancel sends nothing. An accepted answer
   runs the write once: the sealed state it came back with is spent like a token
   (``spend_approval``), so a client resending the final round cannot run it again.

2. **Two-step token**, when the client cannot elicit (MCP Inspector, many IDE clients). The write
   tool executes nothing and returns the summary with a confirmation token; ``confirm_write``
   (annotated destructive, so the client's own approval prompt shows the human the tool and
   arguments) executes it. Tokens are HMAC-SHA256 sealed with a server secret kept in the state
   directory (so they survive a restart), bound to the tool, a digest of the exact arguments
   and the principal, expire after ``token_ttl`` and are single use (spent ids live in the
   audit database). A token for a write to an order is also bound to the order's state as the
   summary showed it (status, value, items, invoices, changes: ``order_state``): if the order
   changed before the confirmation, the approval is stale and the token is refused. That also
   stops a second redemption on a replica with another state directory, since the first one
   changed the order. Nothing the model can write approves a call: a ``confirm: true`` argument
   is refused by the input schema like any other unknown field.

``--guard elicit-only`` refuses writes from clients that cannot elicit. ``--read-only`` removes
write tools from the server altogether (tools.py).
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import inspect
import json
import os
import secrets
import time
import unicodedata
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .config import Settings
from .errors import VtexError, VtexNotFound
from .models import Args, GetOrder, as_given
from .registry import BY_NAME, Operation
from .views import Money

__all__ = [
    "Approval",
    "Review",
    "order_state",
    "Guard",
    "NeedsToken",
    "Bypass",
    "Refused",
    "TokenError",
    "canonical_args",
    "principal_of",
]


MAX_PENDING_SUMMARIES = 1024


class Approval(BaseModel):
    """The elicitation form: accepting it approves; the note goes to the audit log."""

    note: str | None = Field(None, max_length=500, description="Optional note for the audit log")


@dataclass(frozen=True)
class Review:
    """What a human is asked to approve: the summary line, and the order's state it describes
    (``order_state``; None for account-level writes, or when the order could not be read)."""

    summary: str
    state: str | None = None


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


class TokenError(Exception):
    """A confirmation token was refused; the message says why (never echoing the token)."""


def canonical_args(args: Args) -> str:
    """The exact arguments as a canonical JSON string (defaults included, keys sorted)."""
    return json.dumps(args.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(settings: Settings) -> bytes:
    """The token-sealing secret: configured, or generated once into the state directory (0600)."""
    if settings.secret is not None:
        return hashlib.sha256(settings.secret.get_secret_value().encode()).digest()
    path = Path(settings.state_dir) / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        return key


class Guard:
    def __init__(self, settings: Settings, client: Any, audit: Any, *, clock: Any = time.time) -> None:
        self.settings = settings
        self.client = client
        self.audit = audit
        self._secret = load_secret(settings)
        self._clock = clock
        # Summary shown in an elicitation, keyed by JSON-RPC request id, handed to the tool body.
        # Bounded: under 2026-07-28 a first round that the client never resumes leaves its entry.
        self._summaries: OrderedDict[str, Review] = OrderedDict()

    def derived_key(self, purpose: bytes) -> bytes:
        """A key for another purpose, derived from the token secret (never the secret itself)."""
        return hmac.new(self._secret, purpose, hashlib.sha256).digest()

    def _summary_key(self, ctx: Any, op: Operation, args: Args) -> str:
        # JSON-RPC ids repeat across sessions (every client starts at 1): the key also names the
        # connection, the tool and the exact arguments, so concurrent approvals never swap texts.
        connection = id(getattr(getattr(ctx, "request_context", None), "session", None))
        digest = hashlib.sha256(canonical_args(args).encode()).hexdigest()[:16]
        return f"{connection}:{_request_key(ctx)}:{op.name}:{digest}"

    def _keep_review(self, ctx: Any, op: Operation, args: Args, review: Review) -> None:
        self._summaries[self._summary_key(ctx, op, args)] = review
        while len(self._summaries) > MAX_PENDING_SUMMARIES:
            self._summaries.popitem(last=False)

    def pop_review(self, ctx: Any, op: Operation, args: Args) -> Review | None:
        """What the user was shown for this call (summary and order state), once."""
        return self._summaries.pop(self._summary_key(ctx, op, args), None)

    def request_state_security(self) -> Any:
        """How the SDK seals 2026-07-28 request state: AES-GCM under a key derived from the token
        secret (so any replica sharing VTEX_MCP_SECRET resumes a call another one started), through
        a codec that also notes which sealed state the current request carries (``spend_approval``)."""
        from mcp.server.mcpserver import RequestStateSecurity

        return RequestStateSecurity(codec=_RoundNotingCodec([self.derived_key(b"mcp-request-state")]))

    def spend_approval(self, ctx: Any) -> bool:
        """Make an elicitation answer single use, like a token. Under 2026-07-28 the answer comes
        back with the sealed request state of the question, and the SDK accepts that pair for
        minutes: a client resending the final round (a retry after a lost response) would run the
        write again on the same human "yes". Each sealed state is unique (random nonce), so it is
        spent here like a token id. False when it was already used. Answers within one request
        (2025-11-25) carry no state and cannot be replayed."""
        if getattr(ctx, "request_state", None) is None:
            return True
        sealed = _SEALED_STATE.get()
        if sealed is None:  # state without the codec seeing it: refuse rather than allow a replay
            return False
        return bool(self.audit.spend_token("approval:" + sealed))

    # --- policy ---------------------------------------------------------------------------

    def guarded(self, op: Operation) -> bool:
        return not op.read_only

    def bypass_channel(self, op: Operation) -> str | None:
        if self.settings.guard == "off":
            return "off"
        if op.name in self.settings.guard_relax:
            return "relaxed"
        return None

    # --- tokens ---------------------------------------------------------------------------

    def mint(self, op: Operation, args: Args, principal: str, state: str | None = None) -> tuple[str, float]:
        expires = self._clock() + self.settings.token_ttl
        payload = {
            "v": 1,
            "jti": uuid.uuid4().hex,
            "tool": op.name,
            "args": hashlib.sha256(canonical_args(args).encode()).hexdigest(),
            "sub": hashlib.sha256(principal.encode()).hexdigest()[:32],
            "exp": round(expires, 3),
            "st": state,
        }
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        sig = hmac.new(self._secret, raw, hashlib.sha256).digest()
        return f"vtx1.{_b64(raw)}.{_b64(sig)}", expires

    def redeem(self, token: str, op: Operation, args: Args, principal: str, state: str | None = None) -> str:
        """Check and spend ``token`` for exactly this call, with the order now in ``state``; its id
        on success, TokenError otherwise."""
        payload = self.check(token, op, args, principal)
        if self.audit.token_spent(payload["jti"]):  # said first: a used token also finds the order changed
            raise TokenError("the confirmation token was already used")
        bound = payload.get("st")
        if bound is not None and bound != state:
            raise TokenError(
                "the order changed since the user was asked (or could not be read to check): the approval "
                "is stale. Call the tool again so the user approves the order as it is now"
            )
        if not self.audit.spend_token(payload["jti"]):
            raise TokenError("the confirmation token was already used")
        return str(payload["jti"])

    def check(self, token: str, op: Operation, args: Args, principal: str) -> dict[str, Any]:
        """Everything about ``token`` but its state and single use: seal, tool, arguments, principal,
        expiry. Its payload on success, TokenError otherwise."""
        try:
            prefix, raw_b64, sig_b64 = token.split(".")
            raw, sig = _unb64(raw_b64), _unb64(sig_b64)
        except ValueError:
            raise TokenError("the confirmation token is malformed") from None
        expected = hmac.new(self._secret, raw, hashlib.sha256).digest()
        if prefix != "vtx1" or not hmac.compare_digest(sig, expected):
            raise TokenError("the confirmation token was not issued by this server")
        payload = json.loads(raw)
        if payload.get("tool") != op.name:
            raise TokenError(f"the confirmation token was issued for {payload.get('tool')}, not {op.name}")
        digest = hashlib.sha256(canonical_args(args).encode()).hexdigest()
        if not hmac.compare_digest(str(payload.get("args")), digest):
            raise TokenError("the arguments differ from the ones the token was issued for")
        if payload.get("sub") != hashlib.sha256(principal.encode()).hexdigest()[:32]:
            raise TokenError("the confirmation token was issued to another client")
        if float(payload.get("exp", 0)) < self._clock():
            raise TokenError("the confirmation token has expired: call the tool again for a new one")
        return payload

    # --- summaries ------------------------------------------------------------------------

    async def review(self, op: Operation, args: Args) -> Review:
        """One line a human can approve (the action, the order's live state, the key arguments),
        with the order's state it shows.

        Raises VtexNotFound when the order the write targets does not exist: asking a human to
        approve a write that cannot succeed wastes their attention.
        """
        order = None
        if op.order_arg:
            order_id = getattr(args, op.order_arg)
            try:
                order = await self.client.call(BY_NAME["get_order"], GetOrder(orderId=order_id))
            except VtexNotFound:
                raise
            except VtexError:
                order = None  # summary without live state; the write itself will report the failure
        head = f"{op.title.removesuffix(' (deprecated)')}"
        if op.order_arg:
            head += f" {getattr(args, op.order_arg)}"
        parts = [head]
        money = Money((order or {}).get("storePreferencesData"))
        if isinstance(order, dict):
            items = order.get("items") or []
            name = " ".join(
                filter(None, ((order.get("clientProfileData") or {}).get(k) for k in ("firstName", "lastName")))
            )
            n = sum(int(i.get("quantity") or 0) for i in items)
            parts.append(
                f"{order.get('status')}, {money(order.get('value'))}, {n} item{'s' if n != 1 else ''}"
                + (f", customer {name}" if name else "")
            )
        detail = _DETAILS.get(op.name)
        if detail is not None:
            text = detail(args, order or {}, money)
            if text:
                parts.append(text)
        bound = op.state_bound and isinstance(order, dict)
        return Review(visible(" — ".join(parts)), order_state(order) if bound else None)

    # --- the resolver ---------------------------------------------------------------------

    def resolver(self, op: Operation) -> Any:
        """A resolver for ``op``'s hidden ``approval`` parameter.

        The SDK passes tool arguments to resolvers by name, so the function gets a signature
        listing ``op``'s fields (plus the Context) built from the registry, not written by hand.
        """
        from mcp.server.mcpserver import Context, Elicit

        guard = self
        fields = list(op.args.model_fields)

        async def ask(ctx: Context, **kwargs: Any) -> Any:
            args = op.args.model_construct(**{k: kwargs[k] for k in fields})
            bypass = guard.bypass_channel(op)
            try:
                review = await guard.review(op, args)
            except VtexNotFound as exc:
                return Refused(str(exc))
            summary = review.summary
            if bypass:
                return Bypass(bypass, summary)
            if _can_elicit(ctx):
                guard._keep_review(ctx, op, args, review)
                if not getattr(ctx, "input_responses", None):  # first round only: the resolver re-runs
                    guard.audit.record(
                        call_id=_request_key(ctx), tool=op.name, event="requested", channel="elicitation",
                        principal=principal_of(ctx), arguments=args.model_dump(mode="json", by_alias=True),
                        summary=summary,
                    )
                return Elicit(question(op, args, review), Approval)
            if guard.settings.guard == "elicit-only":
                return Refused(
                    "this server only approves writes through elicitation and the client did not declare it",
                    summary,
                )
            return NeedsToken(summary, review.state)

        params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
        params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in fields]
        ask.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        ask.__annotations__ = {"ctx": Context}
        ask.__qualname__ = f"approve_{op.name}"
        return ask


def question(op: Operation, args: Args, review: Review) -> str:
    """The elicitation message: the summary, then every argument exactly as the call has them (the
    summary picks what matters; this line hides nothing a human approves), then a reference to
    the order's state. The SDK accepts a 2026-07-28 answer only for the very question it answers,
    so once the order changes (another replica ran this write, someone else moved the order) a
    resent answer meets a different question and the user is asked again."""
    sent = json.dumps(as_given(args), ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    ref = f" (order state {review.state[:8]})" if review.state else ""
    return f"Approve this change? {visible(review.summary)}\n" + visible(f"Arguments: {sent}{ref}")


def visible(text: str) -> str:
    """Control, format (bidi) and line-separator characters shown as \\uXXXX: text from the model
    or a shopper (a reason, a name) cannot lay out a question of its own, nor hide part of the
    real one. Line breaks in a question are only the ones this server puts between its parts."""
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch for ch in text)


_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})


def order_state(order: dict[str, Any]) -> str:
    """A digest of what an approval of a write to ``order`` relies on: its status, value, items,
    invoices (with tracking) and recorded changes. Every write to an order changes at least one
    of them, except an interaction note, which VTEX keeps outside the order document."""
    packages = (order.get("packageAttachment") or {}).get("packages") or []
    facts = {
        "status": order.get("status"),
        "lastChange": order.get("lastChange"),
        "value": order.get("value"),
        "items": [(i.get("id"), i.get("quantity"), i.get("price")) for i in order.get("items") or []],
        "invoices": [(p.get("invoiceNumber"), p.get("type"), p.get("invoiceValue"), p.get("trackingNumber"),
                      p.get("courier"), json.dumps(p.get("courierStatus"), sort_keys=True, default=str))
                     for p in packages],  # fmt: skip
        "changes": len((order.get("changesAttachment") or {}).get("changesData") or []),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:32]


# The digest of the sealed request state the current request carried, set while the SDK unseals
# it (its middleware then calls the tool in the same context). Only read when the request has a
# request state, so a value left from an earlier request on the same task is never used.
_SEALED_STATE: contextvars.ContextVar[str | None] = contextvars.ContextVar("vtex_sealed_state", default=None)


class _RoundNotingCodec:
    """The SDK's AES-GCM request-state codec, noting which sealed state it opened."""

    def __init__(self, keys: list[bytes]) -> None:
        from mcp.server.request_state import AESGCMRequestStateCodec

        self._inner = AESGCMRequestStateCodec(keys)

    def seal(self, payload: bytes) -> str:
        return self._inner.seal(payload)

    def unseal(self, token: str) -> bytes:
        payload = self._inner.unseal(token)
        _SEALED_STATE.set(hashlib.sha256(token.encode()).hexdigest())
        return payload


def principal_of(ctx: Any) -> str:
    """Who is calling: the authenticated identity on HTTP ("client", or "client/issuer/subject"
    when the token verifier supplies them), "local" on stdio and in-memory."""
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.auth.provider import principal_components

    try:
        token = get_access_token()
    except Exception:  # outside a request (direct calls in tests): no authenticated identity
        token = None
    if token is None:
        return "local"
    client, issuer, subject = principal_components(token)
    if issuer is None and subject is None:
        return client
    return "/".join(part or "-" for part in (client, issuer, subject))  # positions kept: distinct stays distinct


def _request_key(ctx: Any) -> str:
    try:
        return str(ctx.request_id)
    except Exception:  # no active request (direct calls in tests)
        return "direct"


def _can_elicit(ctx: Any) -> bool:
    caps = getattr(ctx, "client_capabilities", None)
    elicitation = getattr(caps, "elicitation", None) if caps is not None else None
    # A bare `elicitation: {}` predates modes and means form support; url-only does not.
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


# --- per-operation detail for summaries (only where the arguments carry what matters) ----------


def _reason(args: Any, order: dict[str, Any], money: Money) -> str:
    return f"reason: {args.reason}"


def _invoice(args: Any, order: dict[str, Any], money: Money) -> str:
    n_items = sum(i.quantity for i in args.items)
    of = sum(int(i.get("quantity") or 0) for i in order.get("items") or [])
    kind = "return (Input) invoice" if args.type == "Input" else "invoice"
    of_part = f" of {of}" if of else ""
    return f"{kind} {args.invoiceNumber} for {money(args.invoiceValue)}, {n_items}{of_part} items"


def _changes(args: Any, order: dict[str, Any], money: Money) -> str:
    delta = args.incrementValue - args.discountValue
    delta += sum(i.price * i.quantity for i in args.itemsAdded) - sum(i.price * i.quantity for i in args.itemsRemoved)
    return f"value change {money(delta)}; reason: {args.reason}"


def _modification(args: Any, order: dict[str, Any], money: Money) -> str:
    parts = []
    for r in args.replace or []:
        parts.append(
            "replace "
            + ", ".join(f"{i.quantity}x {i.id}" for i in r.from_)
            + " with "
            + ", ".join(f"{i.quantity}x {i.id}" for i in r.to)
        )
    if args.add:
        parts.append("add " + ", ".join(f"{i.quantity}x {i.id}" for i in args.add))
    if args.remove:
        parts.append("remove " + ", ".join(f"{i.quantity}x {i.id}" for i in args.remove))
    return "; ".join(parts + [f"reason: {args.reason}"])


def _fields(*names: str) -> Any:
    def detail(args: Any, order: dict[str, Any], money: Money) -> str:
        return ", ".join(f"{n}: {getattr(args, n)}" for n in names if getattr(args, n, None) is not None)

    return detail


def _as_sent(args: Any, order: dict[str, Any], money: Money) -> str:
    # Account-wide settings: the human sees every value that will be sent, not a title.
    return "sets " + json.dumps(as_given(args), separators=(", ", ": "))


_DETAILS = {
    "cancel_order": _reason,
    "register_order_changes": _changes,
    "add_order_interaction": _fields("source", "message"),
    "create_order_modification": _modification,
    "retry_order_modification": _fields("changeRequestId", "reason"),
    "cancel_order_modification": _fields("changeRequestId", "reason"),
    "invoice_order": _invoice,
    "update_invoice_tracking": _fields("invoiceNumber", "courier", "trackingNumber"),
    "update_tracking_status": _fields("invoiceNumber", "isDelivered", "deliveredDate"),
    "send_payment_notification": _fields("paymentId"),
    "set_feed_config": lambda a, o, m: f"filter {a.filter.type}" + (
        f" {a.filter.status}" if a.filter.status else f" {a.filter.expression!r}" if a.filter.expression else ""
    ),
    "set_hook_config": lambda a, o, m: f"filter {a.filter.type}, POST to {a.hook.url}",
    "commit_feed_items": lambda a, o, m: f"{len(a.handles)} handle(s)",
    "set_change_seller_window": _fields("waitingTime"),
    "update_order_modification_settings": _as_sent,
}
