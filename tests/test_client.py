"""VtexClient against httpx2.MockTransport: auth, retries, timeouts, error mapping, redaction."""

from __future__ import annotations

import json
import logging

import anyio
import httpx2
import pytest

from vtex_orders_mcp.client import VtexClient
from vtex_orders_mcp.errors import (
    VtexAuthError,
    VtexBadResponse,
    VtexConflict,
    VtexNotFound,
    VtexOutcomeUnknown,
    VtexRateLimited,
    VtexServerError,
    VtexTimeout,
    VtexUnavailable,
)
from vtex_orders_mcp.logs import RedactingFilter
from vtex_orders_mcp.models import CancelOrder, GetOrder
from vtex_orders_mcp.registry import BY_NAME

from client_support import COOKIE, KEY, TOKEN, Sleeps, settings

pytestmark = pytest.mark.anyio

GET, CANCEL = BY_NAME["get_order"], BY_NAME["cancel_order"]


class Recorder:
    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request):
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


def make(tmp_path, rec, **env):
    sleeps = Sleeps()
    client = VtexClient(settings(tmp_path, **env), httpx2.MockTransport(rec), sleep=sleeps)
    return client, sleeps


async def test_app_key_auth_headers_and_url(tmp_path):
    rec = Recorder(httpx2.Response(200, json={"orderId": "v1-01"}))
    client, _ = make(tmp_path, rec)
    assert await client.call(GET, GetOrder(order_id="v1-01")) == {"orderId": "v1-01"}
    req = rec.requests[0]
    assert str(req.url) == "https://acme.vtexcommercestable.com.br/api/oms/pvt/orders/v1-01"
    assert req.headers["X-VTEX-API-AppKey"] == KEY and req.headers["X-VTEX-API-AppToken"] == TOKEN
    assert req.headers["Accept"] == "application/json"
    assert "VtexIdclientAutCookie" not in req.headers


async def test_cookie_auth_headers(tmp_path):
    rec = Recorder(httpx2.Response(200, json={}))
    client, _ = make(tmp_path, rec, VTEX_APP_KEY=None, VTEX_APP_TOKEN=None, VTEX_AUTH_COOKIE=COOKIE)
    await client.call(GET, GetOrder(order_id="v1-01"))
    req = rec.requests[0]
    assert req.headers["VtexIdclientAutCookie"] == COOKIE
    assert "X-VTEX-API-AppKey" not in req.headers


async def test_base_url_override(tmp_path):
    rec = Recorder(httpx2.Response(200, json={}))
    client, _ = make(tmp_path, rec, VTEX_BASE_URL="http://127.0.0.1:8787/")
    await client.call(GET, GetOrder(order_id="v1-01"))
    assert str(rec.requests[0].url) == "http://127.0.0.1:8787/api/oms/pvt/orders/v1-01"


async def test_read_retried_on_429_honouring_retry_after(tmp_path):
    rec = Recorder(
        httpx2.Response(429, headers={"Retry-After": "2"}),
        httpx2.Response(503),
        httpx2.Response(200, json={"ok": True}),
    )
    client, sleeps = make(tmp_path, rec)
    assert await client.call(GET, GetOrder(order_id="v1-01")) == {"ok": True}
    assert len(rec.requests) == 3
    assert sleeps.calls[0] >= 2.0  # Retry-After honoured
    assert sleeps.calls[1] <= 0.5  # then jittered backoff (base 0.25 * 2)


async def test_read_gives_up_after_max_retries(tmp_path):
    rec = Recorder(httpx2.Response(503, text="upstream down"))
    client, sleeps = make(tmp_path, rec, VTEX_MAX_RETRIES="2")
    with pytest.raises(VtexServerError, match="503"):
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert len(rec.requests) == 3 and len(sleeps.calls) == 2


async def test_retry_after_longer_than_cap_is_reported_not_slept(tmp_path):
    rec = Recorder(httpx2.Response(429, headers={"Retry-After": "120"}))
    client, sleeps = make(tmp_path, rec)
    with pytest.raises(VtexRateLimited) as info:
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert info.value.retry_after == 120 and "wait 120 s" in str(info.value)
    assert sleeps.calls == [] and len(rec.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_writes_are_never_retried(tmp_path, status):
    rec = Recorder(httpx2.Response(status, headers={"Retry-After": "0"}))
    client, sleeps = make(tmp_path, rec)
    with pytest.raises((VtexRateLimited, VtexServerError)):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))
    assert len(rec.requests) == 1 and sleeps.calls == []


async def test_write_timeout_is_outcome_unknown(tmp_path):
    rec = Recorder(httpx2.ReadTimeout("slow"))
    client, _ = make(tmp_path, rec)
    with pytest.raises(VtexOutcomeUnknown, match="may or may not"):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))
    assert len(rec.requests) == 1


async def test_write_connect_error_says_nothing_was_sent(tmp_path):
    rec = Recorder(httpx2.ConnectError("refused"))
    client, _ = make(tmp_path, rec)
    with pytest.raises(VtexUnavailable, match="Nothing was sent"):
        await client.call(CANCEL, CancelOrder(order_id="v1-01", reason="x"))


async def test_an_unreachable_vtex_is_named_by_its_host_only(tmp_path):
    rec = Recorder(httpx2.ConnectError("refused"))
    client, _ = make(tmp_path, rec, VTEX_MAX_RETRIES="0")
    with pytest.raises(VtexUnavailable, match=r"could not reach VTEX at acme\.vtexcommercestable\.com\.br \("):
        await client.call(GET, GetOrder(order_id="v1-01"))
    # A base URL carrying a user and password shows its host, never them.
    client, _ = make(tmp_path, rec, VTEX_MAX_RETRIES="0", VTEX_BASE_URL="https://user:hunter2@vtex.example.test:8443")
    with pytest.raises(VtexUnavailable, match=r"at vtex\.example\.test \(ConnectError\)") as raised:
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert "hunter2" not in str(raised.value) and "user" not in str(raised.value)


async def test_read_timeout_is_reported_after_retries(tmp_path):
    rec = Recorder(httpx2.ReadTimeout("slow"))
    client, _sleeps = make(tmp_path, rec, VTEX_MAX_RETRIES="1")
    with pytest.raises(VtexTimeout, match="timed out"):
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert len(rec.requests) == 2


async def test_deadline_applies_to_transports_without_timeouts(tmp_path):
    async def slow(request):
        await anyio.sleep(5)
        return httpx2.Response(200, json={})

    client = VtexClient(settings(tmp_path, VTEX_TIMEOUT="0.05", VTEX_MAX_RETRIES="0"), httpx2.MockTransport(slow))
    with anyio.fail_after(2):
        with pytest.raises(VtexTimeout):
            await client.call(GET, GetOrder(order_id="v1-01"))


@pytest.mark.parametrize(
    ("status", "body", "exc", "text"),
    [
        (401, {"error": {"code": "1", "message": "Unauthorized access", "exception": None}}, VtexAuthError, "[1]"),
        (403, "The credentials are not enabled to access the service.", VtexAuthError, "credentials"),
        (404, "Value not found.", VtexNotFound, "not found"),
        # RFC 9110 problem JSON (the change summary): the detail, not the title that repeats the status
        (
            404,
            {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
                "title": "Not Found",
                "status": 404,
                "detail": "Order not found.",
                "traceId": "00-1-2-00",
            },
            VtexNotFound,
            "VTEX answered 404: Order not found.",
        ),
        (
            409,
            {"error": {"code": "OMS003", "message": "Order status should be ready-for-handling"}},
            VtexConflict,
            "OMS003",
        ),
    ],
)
async def test_error_mapping(tmp_path, status, body, exc, text):
    resp = httpx2.Response(status, json=body) if isinstance(body, dict) else httpx2.Response(status, text=body)
    client, _ = make(tmp_path, Recorder(resp))
    with pytest.raises(exc) as info:
        await client.call(GET, GetOrder(order_id="v1-01"))
    assert text in str(info.value)
    assert info.value.status == status and "get order v1-01" in str(info.value)


async def test_malformed_json_is_a_clear_error(tmp_path):
    rec = Recorder(httpx2.Response(200, content=b'{"orderId": ', headers={"content-type": "application/json"}))
    client, _ = make(tmp_path, rec, VTEX_MAX_RETRIES="0")
    with pytest.raises(VtexBadResponse, match="malformed JSON"):
        await client.call(GET, GetOrder(order_id="v1-01"))


async def test_secrets_never_in_errors_or_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    rec = Recorder(httpx2.Response(403, text="denied"), httpx2.ReadTimeout(f"timeout {TOKEN}"))
    client, _ = make(tmp_path, rec, VTEX_MAX_RETRIES="0")
    errors = []
    for op, args in ((GET, GetOrder(order_id="v1-01")), (CANCEL, CancelOrder(order_id="v1-01", reason="x"))):
        try:
            await client.call(op, args)
        except Exception as exc:
            errors.append(f"{exc!s} {exc!r}")
    text = " ".join(errors) + caplog.text + repr(client)
    for secret in (KEY, TOKEN):
        assert secret not in text


def test_redacting_filter_scrubs_any_logger():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sending %s with %s", (KEY, TOKEN), None)
    RedactingFilter([KEY, TOKEN]).filter(record)
    assert record.getMessage() == "sending *** with ***"


async def test_concurrency_is_bounded(tmp_path):
    active = peak = 0

    async def handler(request):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await anyio.sleep(0.01)
        active -= 1
        return httpx2.Response(200, json={})

    client = VtexClient(settings(tmp_path, VTEX_MAX_CONCURRENCY="3"), httpx2.MockTransport(handler))
    async with anyio.create_task_group() as tg:
        for i in range(12):
            tg.start_soon(client.call, GET, GetOrder(order_id=f"v{i}-01"))
    assert peak == 3


def test_request_body_is_json(tmp_path):
    from vtex_orders_mcp.registry import build_request

    req = build_request(CANCEL, CancelOrder(order_id="v1-01", reason="stock"), "acme")
    assert json.dumps(req.body) == '{"reason": "stock"}'


SETTINGS_PUT = BY_NAME["update_order_modification_settings"]


def settings_args():
    from vtex_orders_mcp.models import UpdateModSettings

    return UpdateModSettings(rollout_configuration={"enable_api": True})


@pytest.mark.parametrize(
    "first", [httpx2.Response(503), httpx2.Response(429, headers={"Retry-After": "0"}), httpx2.ConnectError("refused")]
)
async def test_idempotent_write_is_resent_once_when_vtex_did_not_process_it(tmp_path, first):
    rec = Recorder(first, httpx2.Response(503), httpx2.Response(200, json={}))
    client, _sleeps = make(tmp_path, rec)
    with pytest.raises((VtexServerError, VtexUnavailable)):
        await client.call(SETTINGS_PUT, settings_args())
    assert len(rec.requests) == 2  # the first attempt and one retry, never a third


@pytest.mark.parametrize("first", [httpx2.Response(500), httpx2.ReadTimeout("slow")])
async def test_idempotent_write_is_not_resent_when_vtex_may_have_applied_it(tmp_path, first):
    rec = Recorder(first, httpx2.Response(200, json={}))
    client, _ = make(tmp_path, rec)
    with pytest.raises((VtexServerError, VtexOutcomeUnknown)):
        await client.call(SETTINGS_PUT, settings_args())
    assert len(rec.requests) == 1
