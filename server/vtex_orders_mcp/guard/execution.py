"""Sending an approved write, exactly once, with the audit around it.

``executing`` is recorded *before* the request leaves, so a crash between VTEX applying a write
and the server recording it still leaves a trace; then ``executed`` (with VTEX's receipt),
``failed`` (with the status) or ``outcome_unknown``. A write whose answer was lost is never
resent (client.py); the order is read again and its state reported, so the human can check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mcp.types import CallToolResult, TextContent

from ..client import VtexClient
from ..config import Settings
from ..errors import VtexError, VtexHTTPError, VtexOutcomeUnknown
from ..models import Args
from ..redaction import redact
from ..registry import Operation, Registry
from ..results import error, ok, vtex_error
from ..storage import CallRecord, Store

__all__ = ["Executed", "Executor"]


@dataclass(frozen=True)
class Executed:
    """What sending an approved write came to: ``done``, ``failed`` (VTEX refused, nothing
    changed) or ``unknown`` (sent, answer lost), the tool result, and the outcome to keep."""

    status: Literal["done", "failed", "unknown"]
    result: CallToolResult
    outcome: dict[str, Any]


class Executor:
    def __init__(self, settings: Settings, registry: Registry, client: VtexClient, store: Store) -> None:
        self.registry = registry
        self.client = client
        self.store = store
        self._secrets = settings.secret_values()

    async def execute(
        self, op: Operation, args: Args, *, call_id: str, channel: str, principal: str, summary: str
    ) -> CallToolResult:
        """Send an approved write exactly once, auditing before and after; the tool result."""
        executed = await self.run(op, args, call_id=call_id, channel=channel, principal=principal, summary=summary)
        return executed.result

    async def run(
        self, op: Operation, args: Args, *, call_id: str, channel: str, principal: str, summary: str
    ) -> Executed:
        """Send an approved write exactly once, auditing before and after."""
        arguments = args.model_dump(mode="json", by_alias=True)
        sending = CallRecord(call_id=call_id, tool=op.name, principal=principal, arguments=arguments)
        await self.store.record(**sending, event="executing", channel=channel, summary=summary)
        record = CallRecord(call_id=call_id, tool=op.name, principal=principal, arguments=None)
        try:
            result = await self.client.call(op, args)
        except VtexOutcomeUnknown as exc:
            state = await self._current_state(op, args)
            await self.store.record(**record, event="outcome_unknown", channel=channel, detail=exc.message)
            message = (
                f"Outcome unknown: {exc.message} Nothing was resubmitted. {state} "
                "Check whether the change is there before trying again."
            )
            return Executed("unknown", error(message), {"error": message})
        except VtexError as exc:
            status = exc.status if isinstance(exc, VtexHTTPError) else None
            await self.store.record(
                **record, event="failed", channel=channel, upstream_status=status, detail=exc.message
            )
            refused = vtex_error(op, exc)
            return Executed("failed", refused, {"error": _text(refused)})
        result = redact(result, self._secrets)
        receipt = result.get("receipt") if isinstance(result, dict) else None
        await self.store.record(
            **record, event="executed", channel=channel, upstream_status=200, receipt=str(receipt) if receipt else None
        )
        done = {"status": "done", "summary": summary, "result": result}
        return Executed("done", ok(done), done)

    async def _current_state(self, op: Operation, args: Args) -> str:
        if not op.order_arg:
            return ""
        order_id = getattr(args, op.order_arg)
        read = self.registry.order_read
        try:
            order = await self.client.call(read, read.args.validated(order_id=order_id))
        except VtexError as exc:
            return f"Re-reading order {order_id} failed too ({exc.message})."
        return f"Order {order_id} is now '{order.get('status')}' (last change {order.get('lastChange')})."


def _text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))
