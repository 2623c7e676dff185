"""A human approves every write, whatever the client: the approval page, URL elicitation, the MCP
Apps card, and the two-step token only as the operator's explicit choice.

Every test counts the writes that reached the sandbox: zero before the human decides, exactly one
after an approval, none after a decline or any bypass attempt.
"""

from __future__ import annotations

import re
import time
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, UrlElicitationRequiredError, types
from mcp.client.extension import advertise
from mcp.client.session import ClientSession
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.shared.exceptions import MCPError

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.guard import APPROVAL_CARD
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

ORDER = "v502556llux-01"
CANCEL = {"order_id": ORDER, "reason": "customer asked"}
APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})


def make_app(tmp_path, env: dict[str, str] | None = None, **overrides: Any):
    return build_server(Settings.from_env(env or {}, state_dir=tmp_path / "state", sandbox_orders=40, **overrides))


class Page:
    """A person at the approval page, with a browser's manners (Origin, the form's CSRF token)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.origin = url.split("/approvals/")[0]
        self.http = httpx2.AsyncClient(timeout=10)
        self.token: str | None = None  # the form's CSRF token, as a browser tab keeps it

    async def open(self) -> httpx2.Response:
        page = await self.http.get(self.url)
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        self.token = found.group(1) if found else self.token
        return page

    async def decide(self, decision: str, *, origin: str | None = "same", csrf: str | None = "page", **form: str):
        if self.token is None:
            await self.open()
        data = {"decision": decision, **form}
        if csrf == "page" and self.token:
            data["csrf"] = self.token
        elif csrf not in (None, "page"):
            data["csrf"] = csrf
        headers = {"Origin": self.origin if origin == "same" else origin} if origin else {}
        return await self.http.post(self.url, data=data, headers=headers)

    async def aclose(self) -> None:
        await self.http.aclose()


async def ask(client: Client, tool: str = "cancel_order", args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(tool, args or CANCEL)
    assert not result.is_error, result.content
    assert result.structured_content["status"] == "approval_required"
    return result.structured_content


def heading(response: httpx2.Response) -> str:
    found = re.search(r"<h1>(.*?)</h1>", response.text)
    return found.group(1) if found else ""


# --- the approval page ---------------------------------------------------------------------------


async def test_a_client_that_declares_nothing_gets_a_page_and_the_human_approves_there(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server) as c:
        asked = await ask(c)
        assert asked["channel"] == "page" and "token" not in str(asked)
        page = Page(asked["approval"]["url"])
        shown = await page.open()
        assert shown.status_code == 200 and "Cancel order v502556llux-01" in shown.text
        assert "&quot;reason&quot;: &quot;customer asked&quot;" in shown.text  # every argument, escaped
        assert shown.headers["content-security-policy"].startswith("default-src 'none'")
        assert shown.headers["referrer-policy"] == "same-origin" and shown.headers["cache-control"] == "no-store"
        assert app.sandbox.writes() == []
        pending = await c.call_tool("check_approval", {"approval_id": asked["approval"]["id"]})
        assert pending.structured_content["status"] == "pending"
        approved = await page.decide("approve")
        assert approved.status_code == 200 and "sent to VTEX" in heading(approved)
        assert len(app.sandbox.writes()) == 1
        done = await c.call_tool("check_approval", {"approval_id": asked["approval"]["id"]})
        assert done.structured_content["status"] == "done" and done.structured_content["outcome"]["result"]["receipt"]
        replayed = await page.decide("approve")
        assert "already decided" in heading(replayed)
        await page.aclose()
    assert len(app.sandbox.writes()) == 1
    rows = [(r.call_id, r.event) for r in reversed(await app.store.recent(10))]
    assert [e for _, e in rows] == ["requested", "approved", "executing", "executed"]
    assert {i for i, _ in rows} == {asked["approval"]["id"]}  # one approval id across every row


async def test_a_declined_page_sends_nothing(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server) as c:
        asked = await ask(c)
        page = Page(asked["approval"]["url"])
        assert "Declined" in heading(await page.decide("decline"))
        assert "already decided" in heading(await page.decide("approve"))
        status = await c.call_tool("check_approval", {"approval_id": asked["approval"]["id"]})
        await page.aclose()
    assert status.structured_content["status"] == "declined" and app.sandbox.writes() == []


@pytest.mark.parametrize(
    ("attempt", "status"),
    [
        ({"origin": None}, 403),  # no Origin: not a browser form post from the page
        ({"origin": "https://evil.example"}, 403),
        ({"csrf": None}, 403),
        ({"csrf": "0" * 64}, 403),
    ],
)
async def test_decisions_that_did_not_come_from_the_page_send_nothing(tmp_path, attempt, status):
    app = make_app(tmp_path)
    async with Client(app.server) as c:
        asked = await ask(c)
        page = Page(asked["approval"]["url"])
        refused = await page.decide("approve", **attempt)
        still = await c.call_tool("check_approval", {"approval_id": asked["approval"]["id"]})
        await page.aclose()
    assert refused.status_code == status and app.sandbox.writes() == []
    assert still.structured_content["status"] == "pending"


async def test_a_guessed_or_borrowed_page_url_finds_nothing(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server) as c:
        first = await ask(c)
        second = await ask(c, "add_order_interaction", {"order_id": ORDER, "source": "support", "message": "hi"})
        url = first["approval"]["url"]
        base, approval_id, key = url.rsplit("/", 2)
        other_id = second["approval"]["id"]
        async with httpx2.AsyncClient() as http:
            assert (await http.get(f"{base}/{approval_id}/{'0' * 32}")).status_code == 404
            assert (await http.get(f"{base}/{other_id}/{key}")).status_code == 404  # a key opens its approval only
            wrong_host = await http.get(url, headers={"Host": "evil.example"})
            assert wrong_host.status_code == 421
    assert app.sandbox.writes() == []


async def test_an_expired_approval_cannot_be_approved(tmp_path):
    # Long enough for the page to open with its form on a loaded machine, then waited out.
    ttl = 2.0
    app = make_app(tmp_path, approval_ttl=ttl)
    async with Client(app.server) as c:
        started = time.monotonic()
        asked = await ask(c)
        page = Page(asked["approval"]["url"])
        form = await page.open()
        time.sleep(max(0.0, started + ttl + 0.2 - time.monotonic()))
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)
        late = await page.http.post(page.url, data={"decision": "approve", "csrf": token},
                                    headers={"Origin": page.origin})  # fmt: skip
        status = await c.call_tool("check_approval", {"approval_id": asked["approval"]["id"]})
        await page.aclose()
    assert "expired" in heading(late) and app.sandbox.writes() == []
    assert status.structured_content["status"] == "expired"


async def test_an_approval_holds_for_its_own_call_only(tmp_path):
    """Approving one call executes that call: another order or other arguments are asked anew."""
    app = make_app(tmp_path)
    other = next(o["orderId"] for o in app.sandbox.store.orders.values()
                 if o["status"] == "handling" and o["orderId"] != ORDER)  # fmt: skip
    note = {"order_id": ORDER, "source": "support", "message": "called the customer"}
    async with Client(app.server) as c:
        asked = await ask(c, "add_order_interaction", note)
        page = Page(asked["approval"]["url"])
        await page.decide("approve")
        await page.aclose()
        same = await ask(c, "add_order_interaction", note)  # the same call again is a new change
        again = await ask(c, "add_order_interaction", {**note, "order_id": other})
        reworded = await ask(c, "add_order_interaction", {**note, "message": "called again"})
    ids = {asked["approval"]["id"], same["approval"]["id"], again["approval"]["id"], reworded["approval"]["id"]}
    assert len(ids) == 4
    assert [w.path for w in app.sandbox.writes()] == [f"/api/oms/pvt/orders/{ORDER}/interactions"]


async def test_the_model_holds_no_way_to_execute_without_the_page(tmp_path):
    """Everything the model was given, sent to every tool it can see, sends no write."""
    app = make_app(tmp_path)
    async with Client(app.server) as c:
        result = await c.call_tool("cancel_order", CANCEL)
        given = re.findall(r"[0-9a-f]{32}|https?://\S+", result.content[0].text)
        tools = (await c.list_tools()).tools
        assert "decide_approval" not in {t.name for t in tools} and "confirm_write" not in {t.name for t in tools}
        for tool in tools:
            for value in given:
                for field in tool.input_schema.get("properties", {}):
                    await c.call_tool(tool.name, {field: value})
                await c.call_tool(tool.name, {**CANCEL, "approval_id": value})
        await c.call_tool("cancel_order", CANCEL)
    assert app.sandbox.writes() == []


async def test_a_check_for_another_clients_approval_says_nothing(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server) as c:
        asked = await ask(c)
    approval = await app.store.get_approval(asked["approval"]["id"])
    assert approval is not None
    from dataclasses import replace

    await app.store.create_approval(replace(approval, id="f" * 32, principal="someone-else"))
    async with Client(app.server) as c:
        other = await c.call_tool("check_approval", {"approval_id": "f" * 32})
    assert other.is_error and "no such approval" in other.content[0].text


async def test_approvers_sign_in_and_four_eyes_keep_the_requester_out(tmp_path):
    env = {"VTEX_MCP_APPROVERS": "ana:ana-approver-token-0123,local:local-approver-token-0123",
           "VTEX_MCP_FOUR_EYES": "cancel_order"}  # fmt: skip
    app = make_app(tmp_path, env)
    async with Client(app.server) as c:
        asked = await ask(c)
        page = Page(asked["approval"]["url"])
        assert 'name="approver"' in (await page.open()).text
        assert (await page.decide("approve")).status_code == 403  # no approver token
        assert (await page.decide("approve", approver="not-a-token")).status_code == 403
        requester = await page.decide("approve", approver="local-approver-token-0123")  # the principal asking
        assert requester.status_code == 403 and "second person" in requester.text
        assert app.sandbox.writes() == []
        ana = await page.decide("approve", approver="ana-approver-token-0123")
        await page.aclose()
    assert "sent to VTEX" in heading(ana) and len(app.sandbox.writes()) == 1
    approved = next(r for r in await app.store.recent(10) if r.event == "approved")
    assert approved.detail == "by ana"


# --- URL elicitation -----------------------------------------------------------------------------


@pytest.fixture
def url_only(monkeypatch):
    """Clients that declare URL-mode elicitation only (the SDK's client declares form and URL)."""
    build = ClientSession._build_capabilities

    def capabilities(self, version):
        caps = build(self, version)
        return caps.model_copy(
            update={"elicitation": types.ElicitationCapability(url=types.UrlElicitationCapability())}
        )

    monkeypatch.setattr(ClientSession, "_build_capabilities", capabilities)


async def noop_elicitation(ctx, params):  # declares elicitation; URL-mode is answered with -32042
    return types.ElicitResult(action="cancel")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_url_elicitation_sends_the_client_to_the_page_then_the_retry_reports(tmp_path, url_only, mode):
    app = make_app(tmp_path)
    completed: list[str] = []

    async def notifications(message):  # the spec's notifications/elicitation/complete
        if isinstance(message, types.ElicitCompleteNotification):
            completed.append(message.params.elicitation_id)

    async with Client(app.server, elicitation_callback=noop_elicitation, mode=mode, message_handler=notifications) as c:
        with pytest.raises(MCPError) as first:
            await c.call_tool("cancel_order", CANCEL)
        required = UrlElicitationRequiredError.from_error(first.value.error)
        (elicitation,) = required.elicitations
        assert "Cancel order v502556llux-01" in elicitation.message and app.sandbox.writes() == []
        with pytest.raises(MCPError) as still_pending:  # retried before the human decided: the same page
            await c.call_tool("cancel_order", CANCEL)
        assert UrlElicitationRequiredError.from_error(still_pending.value.error).elicitations[0].url == elicitation.url
        page = Page(elicitation.url)
        assert completed == []
        await page.decide("approve")
        await page.aclose()
        assert len(app.sandbox.writes()) == 1
        await anyio.sleep(0.05)  # the notification travels while the retry is prepared
        # 2025-11-25 has the completion notification; 2026-07-28 removed it (the retry is all).
        assert completed == ([elicitation.elicitation_id] if mode == "legacy" else [])
        retried = await c.call_tool("cancel_order", CANCEL)
        assert not retried.is_error and retried.structured_content["status"] == "done", retried.content
    assert len(app.sandbox.writes()) == 1


async def test_form_elicitation_wins_when_the_client_offers_both(tmp_path):
    asked: list[str] = []

    async def approve(ctx, params):
        asked.append(params.mode or "form")
        return types.ElicitResult(action="accept", content={})

    app = make_app(tmp_path)
    async with Client(app.server, elicitation_callback=approve) as c:  # declares form and url
        done = await c.call_tool("cancel_order", CANCEL)
    assert done.structured_content["status"] == "done" and asked == ["form"]


# --- the MCP Apps approval card ------------------------------------------------------------------


async def test_an_apps_host_gets_the_card_and_only_its_buttons_decide(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server, extensions=[APPS]) as host:
        tools = {t.name: t for t in (await host.list_tools()).tools}
        assert tools["decide_approval"].meta["ui"]["visibility"] == ["app"]
        assert tools["cancel_order"].meta["ui"]["resourceUri"] == APPROVAL_CARD
        card = await host.read_resource(APPROVAL_CARD)
        assert card.contents[0].mime_type == APP_MIME_TYPE and "decide_approval" in card.contents[0].text
        result = await host.call_tool("cancel_order", CANCEL)
        asked = result.structured_content
        assert asked["channel"] == "app" and result.meta["ui"]["resourceUri"] == APPROVAL_CARD
        assert asked["approval"]["arguments"] == CANCEL and app.sandbox.writes() == []
        decided = await host.call_tool("decide_approval", {"approval_id": asked["approval"]["id"], "approve": True})
        assert decided.structured_content["status"] == "done", decided.content
        again = await host.call_tool("decide_approval", {"approval_id": asked["approval"]["id"], "approve": True})
        assert again.is_error and "already decided" in again.content[0].text
    assert len(app.sandbox.writes()) == 1


async def test_the_cards_tool_is_hidden_from_and_refused_to_other_sessions(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server, extensions=[APPS]) as host:
        asked = (await host.call_tool("cancel_order", CANCEL)).structured_content
    async with Client(app.server) as plain:
        assert "decide_approval" not in {t.name for t in (await plain.list_tools()).tools}
        refused = await plain.call_tool("decide_approval", {"approval_id": asked["approval"]["id"], "approve": True})
    assert refused.is_error and "only the approval card" in refused.content[0].text
    assert app.sandbox.writes() == []


async def test_a_declined_card_sends_nothing(tmp_path):
    app = make_app(tmp_path)
    async with Client(app.server, extensions=[APPS]) as host:
        asked = (await host.call_tool("cancel_order", CANCEL)).structured_content
        declined = await host.call_tool("decide_approval", {"approval_id": asked["approval"]["id"], "approve": False})
    assert declined.structured_content["status"] == "declined" and app.sandbox.writes() == []


def test_the_card_is_self_contained_and_writes_server_values_as_text():
    """What the browser test cannot see by clicking: the card's source loads nothing and parses no
    server value as HTML (tests/e2e/test_browser.py drives it in Chromium through the ext-apps host
    bridge)."""
    from vtex_orders_mcp.guard.card import CARD_HTML

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "eval("):
        assert sink not in CARD_HTML, sink
    for network in ("://", "fetch(", "XMLHttpRequest", "WebSocket", "import(", "src=", "href=", "url("):
        assert network not in CARD_HTML, network
    assert CARD_HTML.count("<script>") == 1 and "textContent" in CARD_HTML


# --- the two-step token is the operator's choice ---------------------------------------------------


async def test_the_token_is_offered_only_in_token_mode_and_says_so(tmp_path):
    auto = make_app(tmp_path / "auto")
    async with Client(auto.server) as c:
        names = {t.name for t in (await c.list_tools()).tools}
    assert "confirm_write" not in names and "check_approval" in names
    token = make_app(tmp_path / "token", guard="token")
    async with Client(token.server) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        asked = await ask(c)
    assert "confirm_write" in names and asked["channel"] == "token"
    assert "guard mode 'token'" in (await _text(token, asked))


async def _text(app, asked) -> str:
    async with Client(app.server) as c:
        result = await c.call_tool("cancel_order", CANCEL)
    return result.content[0].text
