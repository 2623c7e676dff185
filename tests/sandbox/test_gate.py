"""What every request goes through: auth, rate limit, the request log, fault injection, reset and
the /_sandbox admin endpoints."""

from __future__ import annotations

import json

import httpx2
import pytest
from sandbox_support import AUTH, BASE_URL, NOW, pick

from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Fault, Sandbox

pytestmark = pytest.mark.anyio
ORDERS = "/api/oms/pvt/orders"
EXAMPLE = f"{ORDERS}/v502556llux-01"
FORBIDDEN = "The credentials are not enabled to access the service."


# -- auth ----------------------------------------------------------------------------------------
async def test_missing_credentials_are_401_envelope(anon, sb):
    response = await anon.get(EXAMPLE)
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "1", "message": "Unauthorized access", "exception": None}}
    only_key = await anon.get(EXAMPLE, headers={"X-VTEX-API-AppKey": SANDBOX_APP_KEY})
    assert only_key.status_code == 401
    assert [r.status for r in sb.requests] == [401, 401]  # refused requests are logged too


@pytest.mark.parametrize(
    "headers",
    [
        {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": "wrong"},
        {"X-VTEX-API-AppKey": "vtexappkey-other", "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN},
        {"VtexIdclientAutCookie": "some-user-token"},
    ],
)
async def test_wrong_credentials_are_403_text(anon, headers):
    response = await anon.get(EXAMPLE, headers=headers)
    assert response.status_code == 403 and response.text == FORBIDDEN


async def test_refused_write_changes_nothing(anon, sb):
    order = pick(sb, "ready-for-handling")
    response = await anon.post(f"{ORDERS}/{order['orderId']}/start-handling")
    assert response.status_code == 401 and order["status"] == "ready-for-handling"
    assert sb.writes()[0].route == "POST /api/oms/pvt/orders/{orderId}/start-handling"


async def test_user_token_cookie_auth():
    sb = Sandbox(orders=20, now=NOW, auth_cookie="eyJhbGciOi.user-token")
    async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL) as c:
        assert (await c.get(EXAMPLE, headers={"VtexIdclientAutCookie": "eyJhbGciOi.user-token"})).status_code == 200
        c.cookies.set("VtexIdclientAutCookie", "eyJhbGciOi.user-token")
        assert (await c.get(EXAMPLE)).status_code == 200
        c.cookies.set("VtexIdclientAutCookie", "stale")
        assert (await c.get(EXAMPLE)).status_code == 403


async def test_custom_app_key_and_token():
    sb = Sandbox(orders=20, now=NOW, app_key="vtexappkey-mystore-ABC", app_token="TOKEN")
    async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL) as c:
        ok = await c.get(
            EXAMPLE, headers={"X-VTEX-API-AppKey": "vtexappkey-mystore-ABC", "X-VTEX-API-AppToken": "TOKEN"}
        )
        assert ok.status_code == 200
        assert (await c.get(EXAMPLE, headers=AUTH)).status_code == 403


# -- rate limit ----------------------------------------------------------------------------------
async def test_rate_limit_429_with_retry_after_and_recovery():
    sb = Sandbox(orders=20, now=NOW, rate_limit_per_minute=3)
    async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL, headers=AUTH) as c:
        for _ in range(3):
            assert (await c.get(EXAMPLE)).status_code == 200
            sb.clock.advance(10)
        limited = await c.get(EXAMPLE)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "30"  # the first hit leaves the window 30 s from now
        assert limited.json()["error"]["code"] == "429"
        sb.clock.advance(30)
        assert (await c.get(EXAMPLE)).status_code == 200
    assert [r.status for r in sb.requests] == [200, 200, 200, 429, 200]


# -- request log ---------------------------------------------------------------------------------
async def test_request_log_records_every_vtex_request(client, sb):
    order = pick(sb, "ready-for-handling")
    await client.get(ORDERS, params={"f_status": "handling", "per_page": "5"})
    await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "teste"})
    await client.get("/api/oms/pvt/nothing-here")
    await client.get("/_sandbox/requests")  # admin paths are not logged
    listed, cancel, unknown = sb.requests
    assert (listed.method, listed.path, listed.route, listed.status) == ("GET", ORDERS, "GET /api/oms/pvt/orders", 200)
    assert listed.query == {"f_status": ["handling"], "per_page": ["5"]} and listed.body is None
    assert cancel.route == "POST /api/oms/pvt/orders/{orderId}/cancel" and cancel.body == {"reason": "teste"}
    assert cancel.time == sb.store.iso() and cancel.status == 200
    assert unknown.status == 404 and unknown.route == "GET /api/oms/pvt/nothing-here"
    assert sb.writes() == [cancel]
    sb.clear_log()
    assert sb.requests == []


async def test_request_log_keeps_unparseable_bodies_as_text(client, sb):
    order = pick(sb, "handling")
    await client.post(f"{ORDERS}/{order['orderId']}/interactions", content=b"not json")
    assert sb.requests[0].body == "not json" and sb.requests[0].status == 400


# -- faults --------------------------------------------------------------------------------------
async def test_status_fault_with_retry_after(client, sb):
    sb.faults.add(Fault(kind="status", status=503, retry_after=7, path=r"/cancel$"))
    order = pick(sb, "handling")
    response = await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={})
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert order["status"] == "handling"  # before the handler: nothing happened
    assert (await client.get(EXAMPLE)).status_code == 200  # path did not match
    assert sb.requests[0].fault == "status" and sb.requests[0].status == 503


async def test_fault_after_handler_runs_the_write(client, sb):
    order = pick(sb, "ready-for-handling")
    sb.faults.add(Fault(kind="status", status=500, after=True, method="POST"))
    response = await client.post(f"{ORDERS}/{order['orderId']}/start-handling")
    assert response.status_code == 500
    assert order["status"] == "handling"  # the write happened: the outcome was unknown to the client
    assert sb.writes()[0].status == 500


async def test_fault_times_caps_injections(client, sb):
    sb.faults.add(Fault(kind="status", status=502, times=2))
    statuses = [(await client.get(EXAMPLE)).status_code for _ in range(4)]
    assert statuses == [502, 502, 200, 200]


async def test_fault_rate_is_deterministic_under_the_seed():
    async def run() -> list[int]:
        sb = Sandbox(seed=21, orders=20, now=NOW)
        sb.faults.add(Fault(kind="status", status=503, rate=0.5))
        async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL, headers=AUTH) as c:
            return [(await c.get(EXAMPLE)).status_code for _ in range(40)]

    first, second = await run(), await run()
    assert first == second
    assert 8 < first.count(503) < 32


async def test_latency_fault_delays_then_answers(client, sb):
    import time

    sb.faults.add(Fault(kind="latency", delay=0.2))
    start = time.perf_counter()
    response = await client.get(EXAMPLE)
    assert response.status_code == 200 and time.perf_counter() - start >= 0.2


async def test_timeout_fault_trips_the_client_deadline(sb):
    sb.faults.add(Fault(kind="timeout", path=r"/start-handling$"))
    order = pick(sb, "ready-for-handling")
    async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL, headers=AUTH, timeout=0.2) as c:
        with pytest.raises(httpx2.ReadTimeout):
            await c.post(f"{ORDERS}/{order['orderId']}/start-handling")
    assert order["status"] == "ready-for-handling"
    assert sb.requests[0].fault == "timeout"


async def test_timeout_fault_after_the_write(sb):
    sb.faults.add(Fault(kind="timeout", after=True, delay=5))
    order = pick(sb, "ready-for-handling")
    async with httpx2.AsyncClient(transport=sb.transport(), base_url=BASE_URL, headers=AUTH, timeout=0.2) as c:
        with pytest.raises(httpx2.ReadTimeout):
            await c.post(f"{ORDERS}/{order['orderId']}/start-handling")
    assert order["status"] == "handling"


async def test_reset_fault_raises_read_error_before_the_write(client, sb):
    sb.faults.add(Fault(kind="reset", method="POST"))
    order = pick(sb, "ready-for-handling")
    with pytest.raises(httpx2.ReadError):
        await client.post(f"{ORDERS}/{order['orderId']}/start-handling")
    assert order["status"] == "ready-for-handling"
    assert sb.requests[0].status == 0 and sb.requests[0].fault == "reset"


async def test_reset_fault_after_raises_remote_protocol_error(client, sb):
    sb.faults.add(Fault(kind="reset", method="POST", after=True))
    order = pick(sb, "ready-for-handling")
    with pytest.raises(httpx2.RemoteProtocolError):
        await client.post(f"{ORDERS}/{order['orderId']}/start-handling")
    assert order["status"] == "handling"


async def test_malformed_fault_returns_broken_json_with_200(client, sb):
    sb.faults.add(Fault(kind="malformed", after=True, path=r"v502556llux"))
    response = await client.get(EXAMPLE)
    assert response.status_code == 200
    assert response.content.startswith(b'{"orderId":"v502556llux-01"')
    with pytest.raises(json.JSONDecodeError):
        response.json()
    sb.faults.clear()
    assert (await client.get(EXAMPLE)).json()["orderId"] == "v502556llux-01"


async def test_malformed_fault_before_the_handler(client, sb):
    sb.faults.add(Fault(kind="malformed"))
    response = await client.get(EXAMPLE)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_fault_validation():
    with pytest.raises(ValueError):
        Fault(kind="explode")
    with pytest.raises(ValueError):
        Fault(kind="status", rate=2)
    assert Fault(kind="timeout").delay == 30.0 and Fault(kind="latency").delay == 0.0


# -- reset ---------------------------------------------------------------------------------------
async def test_reset_restores_seeded_state_and_clears_log_and_faults(client, sb):
    pristine = json.dumps(dict(sb.store.orders), sort_keys=True)
    order = pick(sb, "ready-for-handling")
    await client.post(f"{ORDERS}/{order['orderId']}/cancel", json={"reason": "x"})
    sb.clock.advance(3600)
    sb.faults.add(Fault(kind="status", status=500, path="nothing-matches-this"))
    sb.reset()
    assert json.dumps(dict(sb.store.orders), sort_keys=True) == pristine
    assert sb.requests == [] and len(sb.faults) == 0 and sb.clock.now() == NOW
    assert (await client.get(f"{ORDERS}/{order['orderId']}")).json()["status"] == "ready-for-handling"


# -- admin endpoints -----------------------------------------------------------------------------
async def test_admin_endpoints(client, anon, sb):
    assert (await anon.post("/_sandbox/reset")).status_code == 401
    await client.get(EXAMPLE)
    log = (await client.get("/_sandbox/requests")).json()
    assert [entry["route"] for entry in log] == ["GET /api/oms/pvt/orders/{orderId}"]
    assert (await client.delete("/_sandbox/requests")).status_code == 204 and sb.requests == []

    created = await client.post("/_sandbox/faults", json={"kind": "status", "status": 503, "times": 1})
    assert created.status_code == 201 and created.json()["kind"] == "status"
    assert (await client.get(EXAMPLE)).status_code == 503
    bad = await client.post("/_sandbox/faults", json={"kind": "status", "colour": "red"})
    assert bad.status_code == 400 and "colour" in bad.json()["error"]["message"]
    assert (await client.delete("/_sandbox/faults")).status_code == 204 and len(sb.faults) == 0

    moved = await client.post("/_sandbox/clock", json={"advance": 90})
    assert moved.json()["now"] == "2025-06-02T15:01:30.0000000+00:00"
    set_ = await client.post("/_sandbox/clock", json={"now": "2025-07-01T00:00:00Z"})
    assert set_.json()["now"] == "2025-07-01T00:00:00.0000000+00:00"
    assert (await client.post("/_sandbox/clock", json={})).status_code == 400

    order = pick(sb, "ready-for-handling")
    await client.post(f"{ORDERS}/{order['orderId']}/start-handling")
    reset = await client.post("/_sandbox/reset")
    assert reset.status_code == 200 and reset.json()["orders"] == 200
    assert sb.store.orders[order["orderId"]]["status"] == "ready-for-handling"
    assert sb.requests == []
    assert (await client.get("/_sandbox/nope")).status_code == 404
