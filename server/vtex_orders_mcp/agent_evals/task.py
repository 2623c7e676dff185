"""The Inspect AI task: support tickets answered by an agent with this server's tools.

    inspect eval vtex_orders_mcp/support_tickets --model anthropic/claude-sonnet-4-5
    inspect eval vtex_orders_mcp/support_tickets -T agent=reference     # offline: the mock model

Each sample is one ticket (tickets.yaml). Its solver starts the ticket's seeded sandbox
(storefront.py), starts the server over stdio against it and gives the agent its tools; after
every model turn the scripted human (human.py) decides whatever approval the tool results link to;
the turn loop ends when the agent answers without a tool call. Then the sandbox's clock settles
and the store's state (orders, request log, audit log) goes into the sample's store, where the
scorers read it (checks.py). ``resolved`` is the headline: the store changed exactly as the ticket
needs and the reply names the store's facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageTool, Model, get_model
from inspect_ai.scorer import Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import Generate, Solver, TaskState, solver, system_message
from inspect_ai.tool import mcp_connection, mcp_server_stdio
from inspect_ai.util import store

from . import checks
from .human import ScriptedHuman
from .reference import MOCK_MODEL, SAMPLE_KEY, reference_agent
from .storefront import Storefront
from .tickets import Ticket, load_tickets

__all__ = ["HUMAN_KEY", "STATE_KEY", "SYSTEM", "support_desk", "support_tickets", "ticket_sample", "ticket_task"]

STATE_KEY = "vtex_orders:store"
HUMAN_KEY = "vtex_orders:approvals"

SYSTEM = """\
You are a customer-support agent of an online store that sells on VTEX. A customer's ticket follows.
Use the tools to find the customer's orders and what the store knows about them; never guess an
order, a status, a date or a tracking number. Change an order only when the ticket asks for it and
the store allows it; make no change the customer did not ask for. Changes need a person's
approval: when a tool answers that approval is required, nothing has happened yet; the person
decides on the approval page, and check_approval with the approval id tells you the outcome.
Never say a change was made unless the store confirms it.
Finish with the reply to send to the customer, in English: what you found (the order's status and,
once shipped, the courier and tracking number) and what was or was not done, and why."""


def ticket_sample(ticket: Ticket, sample_id: str | None = None) -> Sample:
    """One ticket as an Inspect sample (the ticket rides along in its metadata)."""
    return Sample(id=sample_id or ticket.id, input=ticket.prompt(), target=ticket.target,
                  metadata={"ticket": ticket.as_dict()})  # fmt: skip


def _ticket(state: TaskState) -> Ticket:
    return Ticket.from_dict(state.metadata["ticket"])


@solver
def support_desk(max_turns: int = 30) -> Solver:
    """The agent works the ticket against its own seeded store, a scripted human beside it."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        ticket = _ticket(state)
        store().set(SAMPLE_KEY, str(state.sample_id))
        front = Storefront(ticket)
        human = ScriptedHuman(ticket.human, ticket.target)
        try:
            front.start()
            try:
                command, args, env = front.server_command()
                server = mcp_server_stdio(name="vtex-orders", command=command, args=args, env=env)
                async with mcp_connection([server]):
                    state.tools = await server.tools()
                    for _ in range(max_turns):
                        seen = len(state.messages)
                        state = await generate(state, tool_calls="single")
                        for message in state.messages[seen:]:
                            if isinstance(message, ChatMessageTool):
                                await human.review(message.text)
                        if state.completed or not state.output.message.tool_calls:
                            break
            finally:
                front.stop()
                store().set(HUMAN_KEY, human.decisions)
            store().set(STATE_KEY, (await front.state()).as_dict())
        finally:
            front.remove()  # the server's state directory (audit log, secret)
        return state

    return solve


def _check(name: str, fn: Any) -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        saved = state.store.get(STATE_KEY)
        if saved is None:
            return Score(value=0.0, explanation="the run left no store state to score")
        verdict = fn(_ticket(state), checks.StoreState.from_dict(saved), state.output.completion)
        return Score(value=1.0 if verdict.ok else 0.0, answer=state.output.completion, explanation=verdict.explanation)

    del name
    return score


@scorer(metrics=[accuracy(), stderr()])
def resolved() -> Scorer:
    """The ticket is resolved: the other four checks all hold."""
    return _check("resolved", checks.resolved)


@scorer(metrics=[accuracy(), stderr()])
def order_outcome() -> Scorer:
    """The ticket's order changed exactly the expected way (writes, document, notes)."""
    return _check("order_outcome", lambda t, s, r: checks.order_outcome(t, s))


@scorer(metrics=[accuracy(), stderr()])
def others_untouched() -> Scorer:
    """No other order changed and no guarded write went anywhere else."""
    return _check("others_untouched", lambda t, s, r: checks.others_untouched(t, s))


@scorer(metrics=[accuracy(), stderr()])
def approved_writes() -> Scorer:
    """Every write that reached the store was approved by the human first."""
    return _check("approved_writes", lambda t, s, r: checks.approved_writes(t, s))


@scorer(metrics=[accuracy(), stderr()])
def reply_facts() -> Scorer:
    """The reply names the store's facts the ticket asks for, and claims no cancellation that did not happen."""
    return _check("reply_facts", checks.reply_facts)


@task
def support_tickets(tickets: str | None = None, ids: str | list[str] | None = None, agent: str = "model",
                    max_turns: int = 30) -> Task:  # fmt: skip
    """Support tickets against the VTEX orders server.

    Args:
        tickets: a tickets file (default: the bundled tickets.yaml).
        ids: ticket ids to run, a list or comma-separated (``-T ids=a,b``; default: all).
        agent: ``model`` (the eval's --model) or ``reference`` (the mock model replaying each
            ticket's reference trajectory, offline).
        max_turns: model turns per ticket before the run stops.
    """
    chosen = load_tickets(Path(tickets) if tickets else None)
    if ids:
        wanted = [i.strip() for i in (ids.split(",") if isinstance(ids, str) else ids) if i.strip()]
        unknown = sorted(set(wanted) - {t.id for t in chosen})
        if unknown:
            raise ValueError(f"no such ticket: {', '.join(unknown)}")
        chosen = [t for t in chosen if t.id in wanted]
    if agent not in ("model", "reference"):
        raise ValueError("agent is 'model' or 'reference'")
    model = get_model(MOCK_MODEL, custom_outputs=reference_agent(chosen)) if agent == "reference" else None
    return ticket_task([ticket_sample(t) for t in chosen], model=model, max_turns=max_turns)


def ticket_task(samples: list[Sample], *, model: Model | None = None, max_turns: int = 30) -> Task:
    """The task over any ticket samples (``support_tickets`` is this over a tickets file)."""
    return Task(
        dataset=MemoryDataset(samples, name="vtex-support-tickets"),
        solver=[system_message(SYSTEM), support_desk(max_turns)],
        scorer=[resolved(), order_outcome(), others_untouched(), approved_writes(), reply_facts()],
        model=model,
    )
