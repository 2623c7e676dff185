"""The agent evals' dataset: enough tickets across the workflows and traps, each one well formed,
about orders the seeded store has, and each reference trajectory right by the store's own account.

Every reference runs through the scenario runner (in memory, the ticket's seeded store, the human's
answers through form elicitation) and then through the same checks the Inspect scorers apply, so
a ticket whose expectations or reference drift from the store fails here, without a model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from importlib.metadata import entry_points

import anyio
import pytest
import yaml

from vtex_orders_mcp.agent_evals import TICKETS_PATH, TicketError, load_tickets
from vtex_orders_mcp.agent_evals import checks
from vtex_orders_mcp.agent_evals.scenarios import reference_reply, replay, ticket_scenario
from vtex_orders_mcp.agent_evals.storefront import seeded_digests
from vtex_orders_mcp.cli import main
from vtex_orders_mcp.evalrunner.loading import validate
from vtex_orders_mcp.evalrunner.runner import DEFAULT_NOW, DEFAULT_ORDERS, DEFAULT_SEED
from vtex_orders_mcp.registry import CHECK_TOOL, OPERATIONS

TICKETS = load_tickets()
BY_NAME = {op.name: op for op in OPERATIONS}


def test_at_least_30_tickets_across_every_workflow_with_the_traps():
    assert len(TICKETS) >= 30
    workflows = Counter(t.workflow for t in TICKETS)
    assert set(workflows) == {"where_is_my_order", "cancel", "partial_return", "wrong_address",
                              "duplicate_charge", "modify_items"}  # fmt: skip
    assert min(workflows.values()) >= 4, workflows
    traps = Counter(trap for t in TICKETS for trap in t.traps)
    assert traps["two_orders"] >= 5 and traps["cannot_cancel"] >= 2 and traps["not_allowed"] >= 4, traps
    assert {t.human for t in TICKETS} == {"approve", "decline", "approve_if_target"}
    writing = [t for t in TICKETS if t.expect.get("writes")]
    assert 8 <= len(writing) < len(TICKETS), "some tickets change the store, others must not"


def test_tickets_start_from_the_scenario_runners_store():
    """One source of truth for seeds: the same defaults, so an order id means the same order."""
    assert {(t.seed, t.orders, t.now) for t in TICKETS} == {(DEFAULT_SEED, DEFAULT_ORDERS, DEFAULT_NOW)}
    seeded = seeded_digests(TICKETS[0])
    for t in TICKETS:
        assert t.target in seeded, t.id
        assert t.order_id is None or t.order_id in seeded, t.id


@pytest.mark.parametrize("ticket", TICKETS, ids=[t.id for t in TICKETS])
def test_each_reference_is_well_formed(ticket):
    turns = list(ticket.reference)
    assert "reply" in turns[-1] and all("call" in t for t in turns[:-1]), "tool calls, then one reply"
    asked = False
    for turn in turns[:-1]:
        name, arguments = turn["call"], turn.get("arguments") or {}
        if name == CHECK_TOOL:
            assert asked and arguments == {"approval_id": {"$ref": "approval.id"}}, "check_approval after a write"
            continue
        op = BY_NAME[name]  # a tool of the server
        op.args.model_validate(arguments)  # arguments the tool accepts
        assert op.group in ticket.toolsets, f"{name} is not among the agent's toolsets"
        asked = asked or op.kind != "read"
    scenario = ticket_scenario(ticket)
    validate(scenario, ticket.id)  # a valid scenario for the scenario runner


@pytest.mark.parametrize("ticket", TICKETS, ids=[t.id for t in TICKETS])
def test_each_reference_resolves_its_ticket_by_the_stores_account(ticket):
    transcript, state = anyio.run(replay, ticket)
    assert transcript.passed, transcript.failures
    verdict = checks.resolved(ticket, state, reference_reply(ticket))
    assert verdict.ok, verdict.explanation
    if ticket.expect.get("writes"):
        assert state.guarded(), "a write ticket changed the store"
    else:
        assert state.guarded() == [] and state.changed == []


def test_the_scenario_runner_runs_the_tickets_from_the_command_line(tmp_path, capsys):
    doc = yaml.safe_load(TICKETS_PATH.read_text(encoding="utf-8"))
    keep = {"cancel-in-window", "wismo-late-order"}
    doc["tickets"] = [t for t in doc["tickets"] if t["id"] in keep]
    small = tmp_path / "tickets.yaml"
    small.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main(["eval", "--tickets", str(small)]) == 0
    err = capsys.readouterr().err
    assert "PASS ticket.cancel-in-window" in err and "2 passed, 0 failed" in err
    # a ticket whose expectation the store does not meet fails the run
    doc["tickets"][0]["expect"]["order"] = {"equals": {"status": "invoiced"}}
    small.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main(["eval", "--tickets", str(small)]) == 1
    assert 'status == "invoiced"' in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"human": "maybe"}, "human"),
        ({"reference": []}, "reference"),
        ({"expect": {"reply": ["weather"]}}, "expect/reply/0"),
        ({"target": "not an order"}, "target"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_ticket_is_refused_naming_the_place(tmp_path, change, message):
    doc = yaml.safe_load(TICKETS_PATH.read_text(encoding="utf-8"))
    doc["tickets"][0].update(change)
    bad = tmp_path / "tickets.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(TicketError, match=message):
        load_tickets(bad)


def test_ticket_ids_are_unique(tmp_path):
    doc = yaml.safe_load(TICKETS_PATH.read_text(encoding="utf-8"))
    doc["tickets"].append(doc["tickets"][0])
    bad = tmp_path / "tickets.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(TicketError, match="unique"):
        load_tickets(bad)


def test_a_ticket_survives_the_trip_through_sample_metadata():
    for t in TICKETS:
        assert type(t).from_dict(t.as_dict()) == t
    ticket = replace(TICKETS[0], order_id="1657658436837-01")
    assert ticket.prompt().endswith("Order linked by the help desk: 1657658436837-01")
    assert "bruno.lopes51@gmail.com" in ticket.prompt() and ticket.target not in replace(ticket, message="hi").prompt()


def test_inspect_finds_the_task_by_its_entry_point():
    (found,) = [e for e in entry_points(group="inspect_ai") if e.name == "vtex_orders_mcp"]
    assert found.value == "vtex_orders_mcp.agent_evals.task"
