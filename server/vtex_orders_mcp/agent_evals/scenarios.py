"""A ticket's reference trajectory as a scenario for the scenario runner.

The same ticket, the same seeded store (seed, orders, frozen clock), the same calls: the runner
replays the reference's tool calls in memory, deterministically, with the ticket's human answering
through form elicitation instead of the approval page (so the ``check_approval`` turns an agent
needs with the page drop out), and checks the ticket's expectations on the order and the guarded
writes. ``vtex-orders-mcp eval --tickets`` runs every ticket this way; the agent evals' checks
(checks.py) can read the run's ``Transcript.final_state`` as well.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..evalrunner import Transcript, arun_scenario
from ..registry import CHECK_TOOL, OPERATIONS, REGISTRY
from .checks import SETTLE_SECONDS, StoreState
from .tickets import Ticket

__all__ = ["reference_reply", "replay", "ticket_scenario"]

_OPERATIONS = {op.name: op for op in OPERATIONS}


def _answer(ticket: Ticket, arguments: dict[str, Any]) -> str:
    if ticket.human == "approve_if_target":
        return "accept" if arguments.get("order_id") == ticket.target else "decline"
    return "accept" if ticket.human == "approve" else "decline"


def ticket_scenario(ticket: Ticket) -> dict[str, Any]:
    """The scenario document (evals/scenario.schema.json) of ``ticket``'s reference."""
    steps: list[dict[str, Any]] = []
    unguarded: Counter[str] = Counter()
    for turn in ticket.reference:
        name = turn.get("call")
        if name is None or name == CHECK_TOOL:
            continue
        step: dict[str, Any] = {"call": name, "arguments": turn.get("arguments") or {}}
        op = _OPERATIONS.get(name)
        if op is not None and op.kind != "read":
            step["approve"] = _answer(ticket, step["arguments"])
        elif op is not None and op.method != "GET":  # a read sent as POST (a preview): still in the log
            unguarded[f"{op.method} {op.path}"] += 1
        steps.append(step)
    # What the storefront does before the checks: the clock moves on and pending work settles (the
    # sandbox processes it on its next request, here a read of the order).
    read = REGISTRY.order_read
    steps += [{"advance": SETTLE_SECONDS}, {"call": read.name, "arguments": {"order_id": ticket.target}}]
    after: dict[str, Any] = {"equals": {"write_routes": {**unguarded, **(ticket.expect.get("writes") or {})}}}
    for operator, spec in (ticket.expect.get("order") or {}).items():
        prefix = f'orders["{ticket.target}"].'
        if isinstance(spec, list):
            after.setdefault(operator, []).extend(prefix + p for p in spec)
        else:
            after.setdefault(operator, {}).update({prefix + p: v for p, v in spec.items()})
    scenario: dict[str, Any] = {
        "name": f"ticket.{ticket.id}",
        "description": f"Agent-eval ticket {ticket.id} ({ticket.workflow}): its reference trajectory.",
        "tags": ["agent-eval", ticket.workflow],
        "sandbox": {"seed": ticket.seed, "orders": ticket.orders, "now": ticket.now},
        "steps": steps,
        "after": after,
    }
    if ticket.toolsets:
        scenario["server"] = {"toolsets": list(ticket.toolsets)}
    return scenario


def reference_reply(ticket: Ticket) -> str:
    """The reference's last reply: what a good agent tells the customer."""
    return next((t["reply"] for t in reversed(ticket.reference) if "reply" in t), "")


async def replay(ticket: Ticket) -> tuple[Transcript, StoreState]:
    """Run the ticket's scenario; the transcript and the store afterwards, as the checks read it."""
    from .storefront import seeded_digests

    transcript = await arun_scenario(ticket_scenario(ticket))
    final = transcript.final_state or {}
    state = StoreState.build(orders=final["orders"], seeded=seeded_digests(ticket), requests=final["requests"],
                             audit=final["audit"], targets=ticket.targets)  # fmt: skip
    return transcript, state
