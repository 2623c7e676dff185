"""A write whose answer is lost after it was sent: reported as "outcome unknown", never resent.

The sandbox's `after=True` faults run the route handler first (the cancel really happens) and then
time out or drop the connection, which is exactly the case where a client cannot know whether VTEX
applied the write. The tool must say so, re-read the order and report its actual state, and leave
exactly one cancel POST in the sandbox's request log.
"""

from __future__ import annotations

import pytest
from mcp import Client

from vtex_orders_mcp.storage import SqliteStore
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.sandbox import Fault, Sandbox
from vtex_orders_mcp.server import build_server

pytestmark = pytest.mark.anyio

CANCEL_ROUTE = r"/api/oms/pvt/orders/[^/]+/cancel$"


def _cancelable(sb: Sandbox) -> str:
    return next(o["orderId"] for o in sb.store.orders.values() if o["status"] == "ready-for-handling")


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="timeout", method="POST", path=CANCEL_ROUTE, after=True, delay=5.0),
        Fault(kind="reset", method="POST", path=CANCEL_ROUTE, after=True),
    ],
    ids=["timeout-after-send", "reset-after-send"],
)
async def test_lost_answer_is_outcome_unknown_and_not_resubmitted(tmp_path, fault):
    sb = Sandbox(seed=11, orders=60)
    order_id = _cancelable(sb)
    # A short deadline so the timeout fault (handler ran, answer withheld) fires in a fraction of a second.
    settings = Settings.from_env({}, state_dir=tmp_path / "state", guard="off", timeout=0.3)
    app = build_server(settings, sandbox=sb)
    sb.faults.add(Fault(**{k: getattr(fault, k) for k in ("kind", "method", "path", "after", "delay")}))
    async with Client(app.server) as client:
        result = await client.call_tool("cancel_order", {"order_id": order_id, "reason": "customer asked"})
        text = result.content[0].text
        assert result.is_error, text
        assert "Outcome unknown" in text
        assert "Nothing was resubmitted" in text
        # The re-read state is reported: the cancel did happen upstream.
        actual = sb.store.orders[order_id]["status"]
        assert actual in ("canceled", "canceling")
        assert f"Order {order_id} is now '{actual}'" in text

        cancels = [r for r in sb.requests if r.method == "POST" and r.path.endswith(f"/{order_id}/cancel")]
        assert len(cancels) == 1, [r.to_dict() for r in cancels]
        # After the write only the re-read reached the sandbox (the GET before it is the guard's
        # summary read): nothing was resent on its own.
        assert [r.method for r in sb.requests][-2:] == ["POST", "GET"]
        assert len(sb.writes()) == 1

        # The server is still up and answers the next call.
        after = await client.call_tool("get_order", {"order_id": order_id})
        assert not after.is_error
        assert after.structured_content["order"]["status"] == actual

    events = [r.event for r in await SqliteStore(tmp_path / "state" / "audit.sqlite3").recent(tool="cancel_order")]
    assert "outcome_unknown" in events and "executing" in events
    await app.aclose()


async def test_outcome_unknown_reports_reread_failure_without_resubmitting(tmp_path):
    """If the re-read fails too, the message says so; still exactly one write."""
    sb = Sandbox(seed=11, orders=60)
    order_id = _cancelable(sb)
    settings = Settings.from_env({}, state_dir=tmp_path / "state", guard="off", timeout=0.3, max_retries=0)
    app = build_server(settings, sandbox=sb)
    sb.faults.add(Fault(kind="reset", method="POST", path=CANCEL_ROUTE, after=True))
    sb.faults.add(Fault(kind="status", method="GET", path=r"/api/oms/pvt/orders/[^/]+$", status=503))
    async with Client(app.server) as client:
        result = await client.call_tool("cancel_order", {"order_id": order_id, "reason": "customer asked"})
    text = result.content[0].text
    assert result.is_error
    assert "Outcome unknown" in text and "Nothing was resubmitted" in text
    assert f"Re-reading order {order_id} failed too" in text
    assert len([r for r in sb.requests if r.method == "POST"]) == 1
    await app.aclose()
