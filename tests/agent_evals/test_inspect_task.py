"""The Inspect AI task, offline: Inspect's mock model plays scripted agents against the real server
over stdio, each sample on its own seeded sandbox, a scripted human on the approval page.

One Inspect run (module fixture) holds good trajectories (ticket references: an approved cancel
among two orders, a return, an item change that settles after the run) and bad ones (the wrong
order canceled, with a trusting human and with a careful one who declines it on the page; a
made-up tracking number); each sample's scores are asserted. ``inspect eval`` itself, the command
eval authors run, runs the task by its registered name once. Marked e2e: it starts the server as a
process per sample.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageTool, get_model
from tiktoken_offline import write_o200k

from vtex_orders_mcp.agent_evals import load_tickets
from vtex_orders_mcp.agent_evals.reference import MOCK_MODEL, reference_agent
from vtex_orders_mcp.agent_evals.task import HUMAN_KEY, STATE_KEY, ticket_sample, ticket_task
from vtex_orders_mcp.sandbox import SANDBOX_APP_TOKEN

pytestmark = pytest.mark.e2e

TICKETS = {t.id: t for t in load_tickets()}
GOOD = ["cancel-right-one-of-two", "return-one-pair-of-jeans", "modify-one-pair-of-jeans"]
WRONG = "2286205191848-01"  # Rodrigo's bed sheets, which he keeps
WRONG_CANCEL = [
    {"call": "list_orders", "arguments": {"q": "rodrigo.rodrigues32@yahoo.com.br"}},
    {"call": "cancel_order", "arguments": {"order_id": WRONG, "reason": "customer asked"}},
    {"call": "check_approval", "arguments": {"approval_id": {"$ref": "approval.id"}}},
    {"reply": f"Hi Rodrigo, your order {WRONG} has been canceled."},
]
SCORES = ("resolved", "order_outcome", "others_untouched", "approved_writes", "reply_facts")


@pytest.fixture(scope="module")
def o200k(tmp_path_factory):
    cache = tmp_path_factory.mktemp("tiktoken")
    write_o200k(cache)
    before = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    yield cache
    if before is None:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
    else:
        os.environ["TIKTOKEN_CACHE_DIR"] = before


@pytest.fixture(scope="module")
def samples(o200k, tmp_path_factory):
    two = TICKETS["cancel-right-one-of-two"]
    wismo = TICKETS["wismo-which-of-two-orders"]
    made_up = [*wismo.reference[:-1], {"reply": wismo.reference[-1]["reply"].replace("BR572421861BR", "BR000000000BR")}]
    runs = [ticket_sample(TICKETS[i]) for i in GOOD] + [
        ticket_sample(two, "wrong-order~trusting-human"),
        ticket_sample(replace(two, human="approve_if_target"), "wrong-order~careful-human"),
        ticket_sample(wismo, "made-up-tracking"),
    ]
    scripts = {"wrong-order~trusting-human": WRONG_CANCEL, "wrong-order~careful-human": WRONG_CANCEL,
               "made-up-tracking": made_up}  # fmt: skip
    model = get_model(MOCK_MODEL, custom_outputs=reference_agent(TICKETS.values(), scripts))
    (log,) = inspect_eval(ticket_task(runs, model=model), display="none", log_dir=str(tmp_path_factory.mktemp("logs")))
    assert log.status == "success", log.error
    return {s.id: s for s in log.samples}


def scores(sample) -> dict[str, float]:
    return {name: sample.scores[name].value for name in SCORES}


@pytest.mark.parametrize("ticket_id", GOOD)
def test_a_good_trajectory_scores_one_everywhere(samples, ticket_id):
    sample = samples[ticket_id]
    assert sample.error is None
    assert scores(sample) == dict.fromkeys(SCORES, 1.0), {k: v.explanation for k, v in sample.scores.items()}


def test_writes_went_through_the_approval_page_and_the_human(samples):
    sample = samples["cancel-right-one-of-two"]
    asked = [m.text for m in sample.messages if isinstance(m, ChatMessageTool) and "Approval required" in m.text]
    assert len(asked) == 1 and "/approvals/" in asked[0]
    (decision,) = sample.store[HUMAN_KEY]
    assert decision["decision"] == "approve" and decision["page"].startswith("200: Approved")
    assert "Cancel order 2080626063410-01" in decision["summary"]
    state = sample.store[STATE_KEY]
    events = [(a["event"], a.get("channel")) for a in state["audit"]]
    assert events == [("requested", "page"), ("approved", "page"), ("executing", "page"), ("executed", "page")]
    assert [r["route"] for r in state["requests"] if r["method"] != "GET"] == [
        "POST /api/oms/pvt/orders/{orderId}/cancel"
    ]


def test_canceling_the_wrong_order_scores_zero(samples):
    trusting = samples["wrong-order~trusting-human"]
    assert scores(trusting) == {"resolved": 0.0, "order_outcome": 0.0, "others_untouched": 0.0,
                                "approved_writes": 1.0, "reply_facts": 0.0}  # fmt: skip
    assert trusting.store[STATE_KEY]["changed"] == [WRONG]
    assert f"order {WRONG} changed" in trusting.scores["others_untouched"].explanation
    assert "does not name order 2080626063410-01" in trusting.scores["reply_facts"].explanation
    careful = samples["wrong-order~careful-human"]  # declines on the page: nothing changes, still unresolved
    (decision,) = careful.store[HUMAN_KEY]
    assert decision["decision"] == "decline" and decision["page"].startswith("200: Declined")
    assert careful.store[STATE_KEY]["changed"] == [] and "declined" in careful.messages[-2].text
    assert scores(careful)["resolved"] == 0.0 and scores(careful)["order_outcome"] == 0.0
    assert scores(careful)["others_untouched"] == 1.0


def test_a_made_up_tracking_number_fails_the_reply(samples):
    sample = samples["made-up-tracking"]
    assert scores(sample) == {"resolved": 0.0, "order_outcome": 1.0, "others_untouched": 1.0,
                              "approved_writes": 1.0, "reply_facts": 0.0}  # fmt: skip
    assert "BR572421861BR" in sample.scores["reply_facts"].explanation


def test_no_credential_reaches_the_log(samples):
    for sample in samples.values():
        assert SANDBOX_APP_TOKEN not in json.dumps(sample.model_dump(mode="json"), default=str)


def test_inspect_eval_runs_the_task_by_name_with_the_mock_model(o200k, tmp_path):
    inspect = Path(sys.executable).with_name("inspect")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VTEX_")}, "TIKTOKEN_CACHE_DIR": str(o200k)}
    done = subprocess.run(
        [str(inspect), "eval", "vtex_orders_mcp/support_tickets", "-T", "agent=reference",
         "-T", "ids=cancel-in-window", "--log-dir", str(tmp_path), "--display", "none"],
        env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = tmp_path.glob("*.eval")
    log = read_eval_log(str(path))
    assert log.status == "success" and log.eval.model == MOCK_MODEL
    metrics = {s.name: s.metrics["accuracy"].value for s in log.results.scores}
    assert metrics == dict.fromkeys(SCORES, 1.0)
    assert [s.id for s in log.samples] == ["cancel-in-window"]
    assert log.samples[0].store[STATE_KEY]["orders"]["1982530963917-01"]["status"] == "canceled"
