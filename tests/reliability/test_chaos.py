"""Chaos: every kind of upstream fault at a combined 20% rate over hundreds of tool calls.

The embedded sandbox injects 429 + Retry-After, 500, 503, timeouts, connection resets, malformed
JSON and slow answers, drawn from its seeded random source. What must hold:

* reads (get_order, list_orders) succeed within the client's retry budget at least 99% of the time;
* writes are never sent twice: each call carries a unique message, and the sandbox request log holds
  each at most once, however the call ended (the client never retries writes);
* every failure is an `isError` result that says what failed, never a crash or a protocol error;
* afterwards the server is still up and answers the next call.

Backoff is shrunk (`BACKOFF_BASE`) and the client deadline is short, so the ~600 calls run in seconds;
the retry *policy* under test is unchanged.
"""

from __future__ import annotations

import pytest
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.sandbox import Fault, Sandbox
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

READ_CALLS = 520
WRITE_CALLS = 150
TARGET_RATE = 0.20


def _chaos(method: str, path: str, *, with_after: bool) -> list[Fault]:
    """Fault kinds whose combined firing probability is TARGET_RATE (each fires independently)."""
    kinds: list[dict] = [
        dict(kind="status", status=429, retry_after=0.01),
        dict(kind="status", status=500),
        dict(kind="status", status=503),
        dict(kind="timeout", delay=2.0),
        dict(kind="reset"),
        dict(kind="malformed"),
    ]
    if with_after:  # the write happens, then the answer is lost
        kinds += [dict(kind="reset", after=True), dict(kind="timeout", delay=2.0, after=True)]
    rate = 1 - (1 - TARGET_RATE) ** (1 / len(kinds))
    faults = [Fault(method=method, path=path, rate=rate, **k) for k in kinds]
    faults.append(Fault(kind="latency", method=method, path=path, rate=TARGET_RATE, delay=0.01))
    return faults


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr("vtex_orders_mcp.client.BACKOFF_BASE", 0.002)


def _app(tmp_path, sb: Sandbox, **overrides):
    settings = Settings.from_env({}, state_dir=tmp_path / "state", timeout=0.25, **overrides)
    return build_server(settings, sandbox=sb)


def _assert_clear_error(text: str) -> None:
    assert text.startswith(("failed to ", "Outcome unknown", "Not executed")), text
    assert "Traceback" not in text and "Exception" not in text, text


async def test_reads_survive_20_percent_faults(tmp_path, fast_backoff):
    sb = Sandbox(seed=21, orders=80)
    app = _app(tmp_path, sb)
    for fault in _chaos("GET", r"^/api/oms/pvt/orders", with_after=False):
        sb.faults.add(fault)
    ids = sorted(sb.store.orders)
    ok = 0
    failures: list[str] = []
    async with Client(app.server) as client:
        for i in range(READ_CALLS):
            if i % 4 == 0:
                result = await client.call_tool("list_orders", {"page": 1 + i % 3})
            else:
                result = await client.call_tool("get_order", {"order_id": ids[i % len(ids)]})
            if result.is_error:
                failures.append(result.content[0].text)
                _assert_clear_error(result.content[0].text)
            else:
                ok += 1
        injected = sum(f.injected for f in sb.faults if f.kind != "latency")
        # The faults really fired at about the requested rate.
        attempts = len(sb.requests)
        assert attempts > READ_CALLS
        assert 0.12 < injected / attempts < 0.28, (injected, attempts)
        assert {r.fault for r in sb.requests if r.fault} >= {"status", "timeout", "reset", "malformed"}
        assert ok / READ_CALLS >= 0.99, failures

        sb.faults.clear()
        alive = await client.call_tool("get_order", {"order_id": ids[0]})
        assert not alive.is_error
    await app.aclose()


async def test_writes_are_never_sent_twice(tmp_path, fast_backoff):
    sb = Sandbox(seed=22, orders=80)
    app = _app(tmp_path, sb, guard="off")
    route = r"^/api/oms/pvt/orders/[^/]+/interactions$"
    for fault in _chaos("POST", route, with_after=True):
        sb.faults.add(fault)
    ids = sorted(sb.store.orders)
    outcomes = {"done": 0, "error": 0, "unknown": 0}
    async with Client(app.server) as client:
        for i in range(WRITE_CALLS):
            message = f"chaos note #{i}"
            result = await client.call_tool(
                "add_order_interaction", {"order_id": ids[i % len(ids)], "source": "chaos", "message": message}
            )
            text = result.content[0].text
            sent = [r for r in sb.requests if r.method == "POST" and (r.body or {}).get("message") == message]
            assert len(sent) <= 1, f"call {i} sent its write {len(sent)} times"
            if result.is_error:
                _assert_clear_error(text)
                if text.startswith("Outcome unknown"):
                    outcomes["unknown"] += 1
                    assert "Nothing was resubmitted" in text
                else:
                    outcomes["error"] += 1
            else:
                assert result.structured_content["status"] == "done"
                assert len(sent) == 1
                outcomes["done"] += 1

        # Every fault kind showed up, and failures were neither hidden nor the norm.
        assert outcomes["unknown"] > 0 and outcomes["error"] > 0
        assert outcomes["done"] >= WRITE_CALLS * 0.6, outcomes
        assert len(sb.writes()) <= WRITE_CALLS

        sb.faults.clear()
        alive = await client.call_tool(
            "add_order_interaction", {"order_id": ids[0], "source": "chaos", "message": "after the storm"}
        )
        assert not alive.is_error, alive.content[0].text
    await app.aclose()
