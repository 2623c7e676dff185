"""VtexClient on the edges of HTTP: per-operation timeouts on a real socket, redirects, 2xx bodies
that are not VTEX's JSON, bodies that do not decode, and credentials echoed in VTEX's error text.

Each case is checked at the client (which error, how many requests) and, where the symptom was a
crash or a leak in a tool result, through the MCP tool layer as well.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import socketserver
import threading
import time
import zlib

import httpx2
import pytest
from mcp import Client

from vtex_orders_mcp.storage import SqliteStore
from vtex_orders_mcp.client import VtexClient
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.errors import (
    VtexAuthError,
    VtexBadResponse,
    VtexConflict,
    VtexOutcomeUnknown,
    VtexRedirected,
    scrub,
)
from vtex_orders_mcp.models import AddInteraction, CancelOrder, CreateModification, GetOrder, OrderOnly
from vtex_orders_mcp.registry import BY_NAME, OPERATIONS
from vtex_orders_mcp.server import build_server

from client_support import COOKIE, KEY, TOKEN, Sleeps, settings

pytestmark = pytest.mark.anyio

GET, CANCEL, NOTE = BY_NAME["get_order"], BY_NAME["cancel_order"], BY_NAME["add_order_interaction"]
MODIFY = BY_NAME["create_order_modification"]
HTML = b"<html><body>Service temporarily unavailable</body></html>"


def make(tmp_path, *responses, **env):
    """A client on a MockTransport answering ``responses`` in turn (the last one repeats)."""
    queue = list(responses)
    requests: list[httpx2.Request] = []

    def handler(request):
        requests.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        return item() if callable(item) else item

    return VtexClient(settings(tmp_path, **env), httpx2.MockTransport(handler), sleep=Sleeps()), requests


def app_on(tmp_path, handler, **overrides):
    env = {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": KEY, "VTEX_APP_TOKEN": TOKEN}
    s = Settings.from_env(env, state_dir=tmp_path / "state", **overrides)
    return build_server(s, transport=httpx2.MockTransport(handler))


def undecodable(status=200, *, streamed=False):
    """A response claiming gzip whose bytes are not gzip. Built from bytes, httpx decodes it at
    once (as in-process transports do); streamed, it fails while the client reads the body."""
    headers = {"content-encoding": "gzip", "content-type": "application/json"}

    async def chunks():
        yield b"this is not gzip"

    if streamed:
        return lambda: httpx2.Response(status, headers=headers, content=chunks())
    return lambda: httpx2.Response(status, headers=headers, content=b"this is not gzip")


def text(result) -> str:
    return result.content[0].text if result.content else ""


# --- 1. per-operation timeouts reach httpx ----------------------------------------------------


class _SlowVtex(http.server.BaseHTTPRequestHandler):
    delay = 0.0

    def _answer(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(self.delay)
        body = json.dumps({"requestId": "r1"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PATCH = do_GET = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_vtex():
    """A loopback 'VTEX' (a real socket, so httpx's own timeouts apply) answering after ``delay``."""
    handler = type("Slow", (_SlowVtex,), {})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def modification():
    return CreateModification(order_id="v1-01", reason="x", add=[{"id": "1", "quantity": 1}])


async def test_operation_timeout_longer_than_the_default_applies_on_a_real_socket(tmp_path, slow_vtex):
    # Scaled down: VTEX_TIMEOUT 0.2 s, VTEX answers at 0.35 s, the modification's own deadline 5 s.
    # Before the fix httpx's client-wide 0.2 s read timeout cut it: "outcome unknown" for a write
    # that succeeded. (The deadline only has to be well past the answer: on a busy machine, with
    # the suite's other workers, the answer can come a good part of a second late.)
    handler, url = slow_vtex
    handler.delay = 0.35
    client = VtexClient(settings(tmp_path, VTEX_BASE_URL=url, VTEX_TIMEOUT="0.2"))
    op = dataclasses.replace(MODIFY, timeout=5.0)
    try:
        assert await client.call(op, modification()) == {"requestId": "r1"}
    finally:
        await client.aclose()


async def test_operation_timeout_still_bounds_the_whole_attempt(tmp_path, slow_vtex):
    handler, url = slow_vtex
    handler.delay = 2.0
    client = VtexClient(settings(tmp_path, VTEX_BASE_URL=url, VTEX_TIMEOUT="0.1"))
    op = dataclasses.replace(MODIFY, timeout=0.3)
    started = time.perf_counter()
    try:
        with pytest.raises(VtexOutcomeUnknown, match="timed out after the request was sent"):
            await client.call(op, modification())
    finally:
        await client.aclose()
    assert time.perf_counter() - started < 1.5  # gave up at its 0.3 s deadline, not at the 2 s answer


async def test_each_request_carries_its_operations_timeouts(tmp_path):
    client, requests = make(tmp_path, httpx2.Response(200, json={"requestId": "r1"}))
    await client.call(MODIFY, modification())
    await client.call(GET, GetOrder(order_id="v1-01"))
    slow, default = (r.extensions["timeout"] for r in requests)
    assert MODIFY.timeout == 20.0
    assert slow == {"connect": 5.0, "read": 20.0, "write": 20.0, "pool": 20.0}
    assert default == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}


async def test_configured_timeout_above_an_operations_own_wins(tmp_path):
    # The registry's 20 s is VTEX's advice for slow writes, a floor: an operator's 30 s stands.
    client, requests = make(tmp_path, httpx2.Response(200, json={}), VTEX_TIMEOUT="30")
    await client.call(MODIFY, modification())
    assert requests[0].extensions["timeout"]["read"] == 30.0


# --- 2. redirects and 2xx bodies that are not VTEX's JSON --------------------------------------


async def test_redirect_is_an_error_naming_host_and_path_only(tmp_path):
    login = "https://acme.myvtex.com/admin/login?returnUrl=%2Forders&token=QUERYSECRET#frag"
    client, requests = make(tmp_path, httpx2.Response(302, headers={"location": login}, content=HTML))
    with pytest.raises(VtexRedirected) as info:
        await client.call(GET, GetOrder(order_id="v1-01"))
    message = str(info.value)
    assert "302" in message and "acme.myvtex.com/admin/login" in message
    assert "QUERYSECRET" not in message and "returnUrl" not in message and "frag" not in message
    assert "credentials" in message and "VTEX_ACCOUNT_NAME" in message
    assert info.value.status == 302
    assert len(requests) == 1  # a redirect will not go away by itself: never retried


async def test_relative_redirect_is_resolved_and_secrets_in_its_path_masked(tmp_path):
    client, _ = make(tmp_path, httpx2.Response(301, headers={"location": f"/login/{TOKEN}?next=/x"}))
    with pytest.raises(VtexRedirected) as info:
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert "acme.vtexcommercestable.com.br/login/***" in str(info.value)
    assert TOKEN not in str(info.value) and "next" not in str(info.value)


async def test_redirected_write_is_refused_and_not_resent(tmp_path):
    client, requests = make(tmp_path, httpx2.Response(307, headers={"location": "https://elsewhere.example/x"}))
    with pytest.raises(VtexRedirected, match=r"elsewhere\.example/x"):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))
    assert len(requests) == 1


async def test_303_after_a_write_is_outcome_unknown(tmp_path):
    client, requests = make(tmp_path, httpx2.Response(303, headers={"location": "/api/oms/pvt/orders/v1-01"}))
    with pytest.raises(VtexOutcomeUnknown, match="303"):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))
    assert len(requests) == 1


async def test_redirect_through_the_tools_is_a_clear_error_in_both_views(tmp_path):
    def vtex(request):
        return httpx2.Response(302, headers={"location": "https://acme.myvtex.com/admin/login?x=1"}, content=HTML)

    app = app_on(tmp_path, vtex)
    async with Client(app.server) as c:
        for view in ("compact", "full"):
            result = await c.call_tool("get_order", {"order_id": "v1-01", "view": view})
            assert result.is_error and result.structured_content is None
            assert text(result).startswith(
                "failed to get order v1-01: VTEX answered 302, a redirect to acme.myvtex.com/admin/login,"
            ), text(result)
    await app.aclose()


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("get_order", {"order_id": "v1-01"}),
        ("get_order", {"order_id": "v1-01", "view": "full"}),
        ("get_order_group", {"order_group": "v1"}),
        ("list_orders", {}),
        ("get_payment_transaction", {"order_id": "v1-01"}),
        ("get_order_conversation", {"order_id": "v1-01"}),
        ("get_hook_config", {}),
    ],
)
async def test_html_page_answered_200_is_a_clear_read_error(tmp_path, tool, args):
    def maintenance(request):
        return httpx2.Response(200, headers={"content-type": "text/html"}, content=HTML)

    app = app_on(tmp_path, maintenance, max_retries=0)
    async with Client(app.server) as c:
        result = await c.call_tool(tool, args)
    assert result.is_error, text(result)
    assert text(result).startswith("failed to ") and "HTML page instead of JSON" in text(result)
    await app.aclose()


async def test_unreadable_read_is_retried_like_other_transient_failures(tmp_path):
    page = httpx2.Response(200, headers={"content-type": "text/html"}, content=HTML)
    client, requests = make(tmp_path, page, httpx2.Response(200, json={"orderId": "v1-01"}))
    assert await client.call(GET, GetOrder(order_id="v1-01")) == {"orderId": "v1-01"}
    assert len(requests) == 2


@pytest.mark.parametrize(
    ("body", "content_type", "what"),
    [
        (HTML, "text/html", "HTML page"),
        (b"Service Unavailable", "text/plain", "not JSON (text/plain)"),
        (b'{"receipt": ', "application/json", "malformed JSON"),
    ],
)
async def test_write_answered_2xx_with_an_unreadable_body_is_outcome_unknown(tmp_path, body, content_type, what):
    client, requests = make(tmp_path, httpx2.Response(200, headers={"content-type": content_type}, content=body))
    with pytest.raises(VtexOutcomeUnknown) as info:
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))
    assert what in str(info.value) and "whether it was applied is unknown" in str(info.value)
    assert len(requests) == 1


@pytest.mark.parametrize(
    ("op", "args", "body", "shape"),
    [
        (GET, GetOrder(order_id="v1-01"), "maintenance", "a JSON string where an object"),
        (BY_NAME["get_order_group"], None, {"orderId": "v1-01"}, "a JSON object where an array"),
        (BY_NAME["get_order_conversation"], OrderOnly(order_id="v1-01"), 3, "a JSON number where an array"),
    ],
)
async def test_json_of_the_wrong_shape_for_a_compact_view_is_a_bad_response(tmp_path, op, args, body, shape):
    from vtex_orders_mcp.models import GetOrderGroup

    args = args or GetOrderGroup(order_group="v1")
    client, _ = make(tmp_path, httpx2.Response(200, json=body), VTEX_MAX_RETRIES="0")
    with pytest.raises(VtexBadResponse, match=shape):
        await client.call(op, args)


async def test_answers_without_content_still_work(tmp_path):
    start = BY_NAME["start_handling"]
    client, _ = make(
        tmp_path,
        httpx2.Response(204),
        httpx2.Response(200, headers={"content-type": "text/plain"}, content=b"OK"),
        httpx2.Response(200, json=None),
    )
    assert await client.call(start, OrderOnly(order_id="v1-01")) is None
    # A documented no-content answer that carries stray text anyway is passed on, not refused.
    assert await client.call(NOTE, AddInteraction(order_id="v1-01", source="s", message="m")) == "OK"
    assert await client.call(GET, GetOrder(order_id="v1-01")) is None  # JSON null: the view's "nothing"


async def test_html_is_refused_even_where_no_content_is_expected(tmp_path):
    client, _ = make(tmp_path, httpx2.Response(200, headers={"content-type": "text/html"}, content=HTML))
    with pytest.raises(VtexOutcomeUnknown, match="HTML page"):
        await client.call(NOTE, AddInteraction(order_id="v1-01", source="s", message="m"))


def test_operations_without_a_document_are_writes():
    without = {op.name for op in OPERATIONS if not op.answers_document}
    assert len(without) == 9 and all(not BY_NAME[n].read_only for n in without)


async def test_unreadable_write_through_the_tools_is_outcome_unknown_and_audited(tmp_path):
    def vtex(request):
        if request.method == "GET":
            return httpx2.Response(200, json={"orderId": "v1-01", "status": "handling", "lastChange": "now"})
        return httpx2.Response(200, headers={"content-type": "text/html"}, content=HTML)

    app = app_on(tmp_path, vtex, guard="off")
    async with Client(app.server) as c:
        result = await c.call_tool("cancel_order", {"order_id": "v1-01", "reason": "x"})
    assert result.is_error and text(result).startswith("Outcome unknown:"), text(result)
    assert "Nothing was resubmitted" in text(result) and "Order v1-01 is now 'handling'" in text(result)
    events = [r.event for r in await SqliteStore(tmp_path / "state" / "audit.sqlite3").recent(tool="cancel_order")]
    assert "outcome_unknown" in events and "failed" not in events
    await app.aclose()


# --- 3. bodies that do not decode ------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True], ids=["decoded-by-transport", "decoded-while-reading"])
async def test_undecodable_read_is_a_bad_response_and_retried(tmp_path, streamed):
    client, requests = make(tmp_path, undecodable(streamed=streamed), httpx2.Response(200, json={"orderId": "v1"}))
    assert await client.call(GET, GetOrder(order_id="v1-01")) == {"orderId": "v1"}
    assert len(requests) == 2

    client, _ = make(tmp_path, undecodable(streamed=streamed), VTEX_MAX_RETRIES="0")
    with pytest.raises(VtexBadResponse, match="does not decode"):
        await client.call(GET, GetOrder(order_id="v1-01"))


@pytest.mark.parametrize("streamed", [False, True], ids=["decoded-by-transport", "decoded-while-reading"])
async def test_undecodable_write_is_outcome_unknown_never_resent(tmp_path, streamed):
    client, requests = make(tmp_path, undecodable(streamed=streamed))
    with pytest.raises(VtexOutcomeUnknown, match="does not decode"):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))
    assert len(requests) == 1


async def test_undecodable_error_answer_keeps_its_status(tmp_path):
    client, _ = make(tmp_path, undecodable(409, streamed=True))
    with pytest.raises(VtexConflict) as info:
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))
    assert info.value.status == 409


async def test_undecodable_write_through_the_tools_is_audited(tmp_path):
    body = zlib.compress(b"{}")[:-4]  # truncated deflate: also undecodable, as a real proxy might send

    def vtex(request):
        if request.method == "GET":
            return httpx2.Response(200, json={"orderId": "v1-01", "status": "handling"})
        return httpx2.Response(200, headers={"content-encoding": "gzip"}, content=body)

    app = app_on(tmp_path, vtex, guard="off")
    async with Client(app.server) as c:
        result = await c.call_tool("add_order_interaction", {"order_id": "v1-01", "source": "s", "message": "m"})
    assert result.is_error and text(result).startswith("Outcome unknown:"), text(result)
    events = [
        r.event for r in await SqliteStore(tmp_path / "state" / "audit.sqlite3").recent(tool="add_order_interaction")
    ]
    assert events[0] == "outcome_unknown"
    await app.aclose()


# --- 4. credentials echoed in VTEX's error text -----------------------------------------------


async def test_secrets_echoed_in_an_error_body_are_masked(tmp_path):
    envelope = {"error": {"code": "OMS003", "message": f"The appKey {KEY} is not authorized (token {TOKEN})"}}
    client, _ = make(tmp_path, httpx2.Response(403, json=envelope))
    with pytest.raises(VtexAuthError) as info:
        await client.call(GET, GetOrder(order_id="v1-01"))
    exc = info.value
    assert "The appKey *** is not authorized (token ***)" in str(exc)
    for value in (str(exc), repr(exc), exc.message, exc.vtex_message):
        assert KEY not in value and TOKEN not in value


async def test_secret_cut_by_the_500_character_limit_does_not_leak_half(tmp_path):
    body = "x" * (500 - len(TOKEN) // 2) + TOKEN + " trailing text"
    client, _ = make(tmp_path, httpx2.Response(500, text=body), VTEX_MAX_RETRIES="0")
    with pytest.raises(Exception) as info:
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert TOKEN[: len(TOKEN) // 2] not in str(info.value)


async def test_auth_cookie_echoed_in_a_code_is_masked(tmp_path):
    client, _ = make(
        tmp_path,
        httpx2.Response(401, json={"error": {"code": COOKIE, "message": f"cookie {COOKIE} expired"}}),
        VTEX_APP_KEY=None,
        VTEX_APP_TOKEN=None,
        VTEX_AUTH_COOKIE=COOKIE,
    )
    with pytest.raises(VtexAuthError) as info:
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert COOKIE not in str(info.value) and info.value.code == "***"


async def test_secret_in_an_error_body_never_reaches_the_model(tmp_path):
    def vtex(request):
        return httpx2.Response(403, json={"error": {"message": f"The appKey {KEY} (token {TOKEN}) is not allowed"}})

    app = app_on(tmp_path, vtex)
    async with Client(app.server) as c:
        for tool, args in (("get_order", {"order_id": "v1-01"}), ("get_hook_config", {})):
            result = await c.call_tool(tool, args)
            assert result.is_error and "***" in text(result)
            assert KEY not in text(result) and TOKEN not in text(result)
    await app.aclose()


def test_scrub_masks_the_longer_secret_whole():
    assert scrub("key=abc-123-xyz", ["abc", "abc-123-xyz"]) == "key=***"
    assert scrub(None, ["abc"]) is None and scrub("plain", []) == "plain"


async def test_slow_vtex_fixture_really_is_slow(tmp_path, slow_vtex):
    # Guards the timeout tests above against passing because the server answered at once.
    handler, url = slow_vtex
    handler.delay = 0.3
    async with httpx2.AsyncClient(base_url=url) as http:
        started = time.perf_counter()
        await http.get("/x")
    assert time.perf_counter() - started >= 0.3


async def test_an_error_message_that_is_not_text_is_still_a_clear_error(tmp_path):
    client, _ = make(tmp_path, httpx2.Response(409, json={"error": {"code": "OMS999", "message": {"en": "no"}}}))
    with pytest.raises(VtexConflict, match='"en": "no"'):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="r"))


async def test_an_empty_2xx_where_vtex_sends_a_receipt_is_outcome_unknown(tmp_path):
    client, requests = make(tmp_path, httpx2.Response(200, content=b""))
    with pytest.raises(VtexOutcomeUnknown, match="empty answer"):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="r"))
    assert len(requests) == 1  # never resent
    client, _ = make(tmp_path, httpx2.Response(200, content=b""))
    assert await client.call(NOTE, AddInteraction(order_id="v1-01", source="s", message="m")) is None


@pytest.mark.anyio
@pytest.mark.parametrize("shape", ["oms json", "plain text"])
async def test_a_100_kb_vtex_error_is_a_short_tool_error_with_secrets_masked(tmp_path, shape):
    """VTEX (the MockTransport) refuses with a 100 kB message that echoes the credentials: the tool
    error stays within 500 characters, quotes a short excerpt, and shows neither secret."""
    said = f"appKey {KEY} with token {TOKEN} is not allowed here: " + "x" * 100_000

    def vtex(request: httpx2.Request) -> httpx2.Response:
        if shape == "plain text":
            return httpx2.Response(400, text=said)
        return httpx2.Response(400, json={"error": {"code": "1", "message": said}})

    async with Client(app_on(tmp_path, vtex).server) as client:
        result = await client.call_tool("get_order", {"order_id": "v1-01"})
    text = result.content[0].text
    assert result.is_error and "VTEX answered 400" in text
    assert len(text) <= 500, len(text)
    assert KEY not in text and TOKEN not in text and "is not allowed here" in text
    assert 0 < text.count("x") <= 240  # an excerpt of VTEX's words, not the whole
