"""The MCP Inspector CLI (npm ``@modelcontextprotocol/inspector``) against the sandbox.

A client written by someone else, in another language, with its own idea of the protocol: it
declares no elicitation capability, so every write must come back as an approval link (or, with
``--guard token``, the two-step confirmation), never as a protocol error. Over stdio the
Inspector starts a fresh server process per call (the state directory, hence the secret, the
pending approvals and the spent-token list, is shared); over HTTP it talks to one long-lived
loopback server (this Inspector version cannot send an ``Authorization`` header, so that server
runs without a token, which loopback allows), whose approval page a person can open.
"""

from __future__ import annotations

import json
import os
import re
import sys

import httpx2
import pytest
from e2e_support import ORDER, audit_events

pytestmark = pytest.mark.e2e


@pytest.fixture
def stdio_target(tmp_path) -> list[str]:
    return _stdio(tmp_path)


def _stdio(tmp_path, **extra: str) -> list[str]:
    env = {"VTEX_MCP_STATE_DIR": str(tmp_path), "VTEX_SANDBOX_ORDERS": "100", **extra}
    if os.environ.get("PYTHONPATH"):  # a source checkout run without installing the package
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    return ["--cli", *flags, sys.executable, "-m", "vtex_orders_mcp"]


def test_tools_list(inspector, stdio_target):
    tools = {t["name"]: t for t in inspector.json(*stdio_target, "--method", "tools/list")["tools"]}
    assert {"get_order", "list_orders", "cancel_order", "check_approval"} <= set(tools)
    assert "decide_approval" not in tools  # the card's buttons: never listed to a client without MCP Apps
    # MCP's defaults for a tool that does not say: not read-only, destructive.
    cancel = tools["cancel_order"].get("annotations") or {}
    assert cancel.get("readOnlyHint", False) is False and cancel.get("destructiveHint", True) is True
    assert tools["get_order"]["annotations"]["readOnlyHint"] is True
    assert tools["get_order"]["inputSchema"]["additionalProperties"] is False


def test_tools_call_read(inspector, stdio_target):
    out = inspector.json(*stdio_target, "--method", "tools/call", "--tool-name", "get_order",
                         "--tool-arg", f"order_id={ORDER}")  # fmt: skip
    assert not out.get("isError")
    assert out["structuredContent"]["order"]["status"] == "handling"


def test_a_write_waits_for_a_person_and_sends_nothing(inspector, stdio_target, tmp_path):
    first = inspector.json(*stdio_target, "--method", "tools/call", "--tool-name", "cancel_order",
                           "--tool-arg", f"order_id={ORDER}", "--tool-arg", "reason=inspector")  # fmt: skip
    asked = first["structuredContent"]
    assert asked["status"] == "approval_required" and asked["channel"] == "page", first
    status = inspector.json(*stdio_target, "--method", "tools/call", "--tool-name", "check_approval",
                            "--tool-arg", f"approval_id={asked['approval']['id']}")  # fmt: skip
    assert status["structuredContent"]["status"] == "pending"
    events = [e["event"] for e in audit_events(tmp_path) if e["tool"] == "cancel_order"]
    assert events == ["requested"]


def test_write_takes_the_two_step_path_in_token_mode(inspector, tmp_path):
    stdio_target = _stdio(tmp_path, VTEX_MCP_GUARD="token")
    first = inspector.json(*stdio_target, "--method", "tools/call", "--tool-name", "cancel_order",
                           "--tool-arg", f"order_id={ORDER}", "--tool-arg", "reason=inspector")  # fmt: skip
    assert first["structuredContent"]["status"] == "approval_required", first
    confirmation = first["structuredContent"]["confirmation"]

    done = inspector.json(*stdio_target, "--method", "tools/call", "--tool-name", "confirm_write",
                          "--tool-arg", f"tool={confirmation['tool']}",
                          "--tool-arg", f"arguments={json.dumps(confirmation['arguments'])}",
                          "--tool-arg", f"token={confirmation['token']}")  # fmt: skip
    assert done["structuredContent"]["status"] == "done", done
    events = [(e["event"], e.get("channel")) for e in audit_events(tmp_path) if e["tool"] == "cancel_order"]
    assert ("token_issued", "token") in events and ("executed", "token") in events


def test_resources_read(inspector, stdio_target):
    out = inspector.json(*stdio_target, "--method", "resources/read", "--uri", f"vtex://orders/{ORDER}")
    data, text = out["contents"]  # the JSON, then the same data as readable text
    assert data["mimeType"] == "application/json" and text["mimeType"] == "text/plain"
    assert json.loads(data["text"])["order"]["orderId"] == ORDER and ORDER in text["text"]


def test_prompts_get(inspector, stdio_target):
    out = inspector.json(*stdio_target, "--method", "prompts/get", "--prompt-name", "cancel_order_safely",
                         "--prompt-args", f"order_id={ORDER}")  # fmt: skip
    text = json.dumps(out["messages"])
    assert ORDER in text and "cancel_order" in text


def test_over_streamable_http(inspector, start_http):
    srv = start_http(token=None)
    target = ["--cli", srv.url, "--transport", "http"]
    names = {t["name"] for t in inspector.json(*target, "--method", "tools/list")["tools"]}
    assert "cancel_order" in names
    first = inspector.json(*target, "--method", "tools/call", "--tool-name", "cancel_order",
                           "--tool-arg", f"order_id={ORDER}", "--tool-arg", "reason=inspector over http")  # fmt: skip
    asked = first["structuredContent"]
    assert asked["status"] == "approval_required"
    url = asked["approval"]["url"]
    page = httpx2.get(url, timeout=10)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    httpx2.post(url, data={"csrf": csrf, "decision": "approve"}, headers={"Origin": url.split("/approvals/")[0]},
                timeout=10)  # fmt: skip
    done = inspector.json(*target, "--method", "tools/call", "--tool-name", "check_approval",
                          "--tool-arg", f"approval_id={asked['approval']['id']}")  # fmt: skip
    assert done["structuredContent"]["status"] == "done", done
