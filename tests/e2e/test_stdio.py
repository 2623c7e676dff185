"""The SDK's own client against ``python -m vtex_orders_mcp`` over stdio, in both protocol eras.

``mode="auto"`` negotiates 2026-07-28 (elicitation rides in an ``InputRequiredResult``);
``mode="legacy"`` speaks 2025-11-25 (the server sends ``elicitation/create`` mid-call). The
approved cancel must execute in both; a client without an elicitation callback gets a link to
the approval page the server serves on loopback, and with ``--guard token`` the two-step
confirmation token, redeemable once.
"""

from __future__ import annotations

import re
import sys

import httpx2
import pytest
from e2e_support import ORDER, audit_events, clean_env, structured
from mcp import Client, StdioServerParameters, types

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

MODES = ["auto", "legacy"]


def stdio(state_dir, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "vtex_orders_mcp"], env=clean_env(state_dir, **env)
    )


def answering(action: str, asked: list[str]):
    async def callback(ctx, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action=action, content={} if action == "accept" else None)

    return callback


@pytest.mark.parametrize("mode", MODES)
async def test_reads_and_elicitation_approved_cancel(tmp_path, mode):
    asked: list[str] = []
    async with Client(stdio(tmp_path), mode=mode, elicitation_callback=answering("accept", asked)) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert {"get_order", "list_orders", "cancel_order", "check_approval"} <= names
        order = structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]
        assert order["status"] == "handling"

        result = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "e2e"}))
        assert result["status"] == "done", result
        assert len(asked) == 1 and ORDER in asked[0] and "handling" in asked[0]

        after = structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]
        assert after["status"] != "handling"
    events = [(e["tool"], e["event"], e.get("channel")) for e in audit_events(tmp_path)]
    assert ("cancel_order", "approved", "elicitation") in events
    assert ("cancel_order", "executed", "elicitation") in events


@pytest.mark.parametrize("mode", MODES)
async def test_declined_cancel_sends_nothing(tmp_path, mode):
    asked: list[str] = []
    async with Client(stdio(tmp_path), mode=mode, elicitation_callback=answering("decline", asked)) as c:
        result = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "e2e"}))
        assert result["status"] == "declined"
        assert asked
        assert structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]["status"] == "handling"
    events = [e["event"] for e in audit_events(tmp_path) if e["tool"] == "cancel_order"]
    assert "declined" in events and "executed" not in events


@pytest.mark.parametrize("mode", MODES)
async def test_without_elicitation_the_human_approves_on_the_loopback_page(tmp_path, mode):
    async with Client(stdio(tmp_path), mode=mode) as c:
        first = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "e2e"}))
        assert first["status"] == "approval_required" and first["channel"] == "page"
        url = first["approval"]["url"]
        assert url.startswith("http://127.0.0.1:")
        async with httpx2.AsyncClient() as http:
            page = await http.get(url)
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            assert structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]["status"] == "handling"
            origin = {"Origin": url.split("/approvals/")[0]}
            await http.post(url, data={"csrf": csrf, "decision": "approve"}, headers=origin)
        done = structured(await c.call_tool("check_approval", {"approval_id": first["approval"]["id"]}))
        assert done["status"] == "done", done
        assert structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]["status"] != "handling"
    events = [(e["event"], e.get("channel")) for e in audit_events(tmp_path) if e["tool"] == "cancel_order"]
    assert events == [("requested", "page"), ("approved", "page"), ("executing", "page"), ("executed", "page")]


@pytest.mark.parametrize("mode", MODES)
async def test_two_step_token_when_the_operator_chose_it(tmp_path, mode):
    async with Client(stdio(tmp_path, VTEX_MCP_GUARD="token"), mode=mode) as c:
        first = structured(await c.call_tool("cancel_order", {"order_id": ORDER, "reason": "e2e"}))
        assert first["status"] == "approval_required"
        assert structured(await c.call_tool("get_order", {"order_id": ORDER}))["order"]["status"] == "handling"

        confirmation = first["confirmation"]
        done = structured(await c.call_tool("confirm_write", confirmation))
        assert done["status"] == "done"

        again = await c.call_tool("confirm_write", confirmation)
        assert again.is_error and "already used" in again.content[0].text
    events = [(e["event"], e.get("channel")) for e in audit_events(tmp_path) if e["tool"] == "cancel_order"]
    assert ("token_issued", "token") in events and ("executed", "token") in events
    assert ("token_rejected", "token") in events


async def test_unknown_order_and_bad_arguments_are_tool_errors(tmp_path):
    async with Client(stdio(tmp_path)) as c:
        missing = await c.call_tool("get_order", {"order_id": "v000000000-01"})
        assert missing.is_error
        bad = await c.call_tool("cancel_order", {"order_id": ORDER, "confirm": True})
        assert bad.is_error and "confirm" in bad.content[0].text
    assert not [e for e in audit_events(tmp_path) if e["event"] == "executed"]
