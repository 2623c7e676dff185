"""Secret scan of a whole in-memory session, fault paths included.

The server is configured like a production one (AppKey/AppToken, base URL, sealing secret, HTTP
bearer token), each with a distinctive value, and reaches an embedded sandbox that accepts exactly
those credentials. The session covers reads, resources, prompts, argument errors, a 404, injected
500s/429/resets/malformed JSON, an elicitation-approved cancel, an "outcome unknown" cancel, the
approval page (read, a forged decision, an approval) and a second server with a wrong AppToken (403). Every result,
every resource, every log record at DEBUG and the raw bytes of the audit database are then searched
for each secret. (tests/e2e/test_no_secrets_in_logs.py does the same over real stdio/HTTP processes.)
"""

from __future__ import annotations

import logging
import re

import httpx2
import pytest
from mcp import Client, types

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.sandbox import Fault, Sandbox
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

APP_KEY = "vtexappkey-SCANME-7f3a91"
APP_TOKEN = "APPTOKEN-SCANME-c04e2d"
SEAL = "SEAL-SCANME-5b8e1f"
BEARER = "BEARER-SCANME-9d2c66"
WRONG_TOKEN = "WRONGTOKEN-SCANME-1a7b3c"
SECRETS = [APP_KEY, APP_TOKEN, SEAL, BEARER, WRONG_TOKEN]
SEED = "v502556llux-01"


def _settings(tmp_path, name: str, app_token: str) -> Settings:
    return Settings.from_env(
        {}, state_dir=tmp_path / name, app_key=APP_KEY, app_token=app_token, base_url="http://leakcheck.invalid",
        account_name="sandbox", secret=SEAL, http_token=BEARER, timeout=0.3, max_retries=2,
    )  # fmt: skip


async def approve(ctx, params):
    return types.ElicitResult(action="accept", content={})


async def _session(app, sb: Sandbox, seen: list[str]) -> None:
    def keep(obj) -> None:
        seen.append(obj.model_dump_json() if hasattr(obj, "model_dump_json") else repr(obj))

    cancelable = [o["orderId"] for o in sb.store.orders.values() if o["status"] == "ready-for-handling"]
    async with Client(app.server, elicitation_callback=approve) as c:
        keep(await c.list_tools())
        keep(await c.list_resources())
        keep(await c.list_resource_templates())
        prompts = await c.list_prompts()
        keep(prompts)
        for name, args in [
            ("get_order", {"order_id": SEED}),
            ("list_orders", {"q": "a", "per_page": 5}),
            ("get_order_conversation", {"order_id": SEED}),
            ("get_payment_transaction", {"order_id": SEED}),
            ("get_order", {"order_id": "nosuchorder-01"}),  # 404
            ("get_order", {"order_id": "not an id"}),  # argument error
            ("cancel_order", {"order_id": SEED, "reason": "x", "appKey": APP_KEY}),  # unknown field
        ]:
            keep(await c.call_tool(name, args))
        for uri in (f"vtex://orders/{SEED}", f"vtex://orders/{SEED}/conversation",
                    f"vtex://orders/{SEED}/payment-transaction.txt"):  # fmt: skip
            keep(await c.read_resource(uri))
        # Upstream trouble of every kind, one fault at a time.
        for fault in (
            Fault(kind="status", status=500, method="GET", times=3),  # exhausts the retries
            Fault(kind="status", status=429, retry_after=0.01, method="GET", times=1),
            Fault(kind="reset", method="GET", times=3),
            Fault(kind="malformed", method="GET", times=3),
            Fault(kind="timeout", method="GET", delay=2.0, times=3),
        ):
            sb.faults.clear()
            sb.faults.add(fault)
            keep(await c.call_tool("get_order", {"order_id": SEED}))
        sb.faults.clear()
        keep(await c.call_tool("cancel_order", {"order_id": cancelable[0], "reason": "scan approved"}))
        sb.faults.add(Fault(kind="timeout", method="POST", path=r"/cancel$", after=True, delay=2.0))
        keep(await c.call_tool("cancel_order", {"order_id": cancelable[1], "reason": "scan unknown"}))
        sb.faults.clear()
    # The approval page: a client without elicitation gets a link; the page is read, approved,
    # replayed with a forged CSRF token, and the outcome checked.
    async with Client(app.server) as c:
        pending = await c.call_tool("add_order_interaction", {"order_id": SEED, "source": "scan", "message": "hi"})
        keep(pending)
        url = pending.structured_content["approval"]["url"]
        origin = {"Origin": url.split("/approvals/")[0]}
        async with httpx2.AsyncClient() as http:
            page = await http.get(url)
            seen.append(page.text)
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            seen.append((await http.post(url, data={"csrf": "0" * 64, "decision": "approve"}, headers=origin)).text)
            seen.append((await http.post(url, data={"csrf": csrf, "decision": "approve"}, headers=origin)).text)
        keep(await c.call_tool("check_approval", {"approval_id": pending.structured_content["approval"]["id"]}))
        if prompts.prompts:
            first = prompts.prompts[0]
            args = {a.name: SEED for a in first.arguments or [] if a.required}
            try:
                keep(await c.get_prompt(first.name, args))
            except Exception as exc:  # a prompt refusing our guessed argument is still scanned
                keep(exc)


async def test_no_secret_in_results_resources_logs_or_audit(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("vtex_orders_mcp", "httpx2", "mcp"):  # an earlier in-process CLI run may have quieted them
        caplog.set_level(logging.DEBUG, logger=name)
    seen: list[str] = []

    sb = Sandbox(seed=5, orders=60, app_key=APP_KEY, app_token=APP_TOKEN)
    app = build_server(_settings(tmp_path, "state", APP_TOKEN), transport=sb.transport())
    assert not app.settings.uses_sandbox and app.sandbox is None
    await _session(app, sb, seen)
    # The session did what it claims: approved and outcome-unknown cancels plus the page's approval.
    assert len([r for r in sb.requests if r.path.endswith("/cancel")]) == 2
    assert len([r for r in sb.requests if r.path.endswith("/interactions")]) == 1
    assert any("Outcome unknown" in s for s in seen)
    await app.aclose()

    # A server whose AppToken the upstream refuses: the 403 path must not echo what it sent.
    wrong = build_server(_settings(tmp_path, "wrong-state", WRONG_TOKEN), transport=sb.transport())
    async with Client(wrong.server) as c:
        refused = await c.call_tool("get_order", {"order_id": SEED})
        assert refused.is_error and "403" in refused.content[0].text
        seen.append(refused.model_dump_json())
    await wrong.aclose()

    logs = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "no log records captured: the scan would prove nothing"
    audit_files = [p for d in ("state", "wrong-state") for p in (tmp_path / d).glob("audit.sqlite3*")]
    assert audit_files
    audit = b"".join(p.read_bytes() for p in audit_files)
    results = "\n".join(seen)
    for secret in SECRETS:
        assert secret not in results, f"{secret} leaked into a tool result/resource/prompt"
        assert secret not in logs, f"{secret} leaked into the logs"
        assert secret.encode() not in audit, f"{secret} leaked into the audit database"
