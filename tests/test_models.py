"""Tool input models: path ids that could redirect a write, and the list_orders date range."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client
from pydantic import ValidationError

from vtex_orders_mcp import models as m
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import OPERATIONS
from vtex_orders_mcp.server import build_server

PATH_FIELDS = sorted(
    {(op.args, name) for op in OPERATIONS for name, info in op.args.model_fields.items() if m.PATH in info.metadata},
    key=lambda pair: (pair[0].__name__, pair[1]),
)


def field_errors(model: type[m.Args], name: str, value: str) -> list[dict]:
    """The validation errors of ``value`` in field ``name`` alone (other fields may be missing)."""
    try:
        model.model_validate({name: value})
    except ValidationError as exc:
        return [e for e in exc.errors() if e["loc"] == (name,)]
    return []


@pytest.mark.parametrize(
    ("model", "name"), PATH_FIELDS, ids=[f"{model.__name__}.{name}" for model, name in PATH_FIELDS]
)
@pytest.mark.parametrize("value", [".", "..", "...", "../x", "./x"])
def test_no_path_id_can_be_a_dot_segment(model, name, value):
    """quote() keeps dots and the HTTP client resolves "." and "..": such an id would move the request."""
    assert field_errors(model, name, value), f"{model.__name__}.{name} accepted {value!r}"


@pytest.mark.parametrize(
    ("model", "name", "value"),
    [(m.PaymentNotification, "payment_id", "D3DEECAB3C6C4B9EAF8EF4C1FE062FF3"),
     (m.PaymentNotification, "payment_id", "pay-1.2"),
     (m.InvoiceTracking, "invoice_number", "NF-1001"),
     (m.InvoiceTracking, "invoice_number", "2026/77.1"),
     (m.TrackingStatus, "invoice_number", "a..b"),
     (m.InvoiceOrder, "invoice_number", "NF/9")],
)  # fmt: skip
def test_ids_with_inner_dots_and_slashes_still_pass(model, name, value):
    assert field_errors(model, name, value) == []


def test_invoice_order_refuses_the_invoice_numbers_the_tracking_tools_refuse():
    assert field_errors(m.InvoiceOrder, "invoice_number", "..")


@pytest.mark.anyio
async def test_dot_segment_ids_never_reach_vtex_and_slashes_stay_in_their_segment(tmp_path):
    seen: list[tuple[str, str]] = []

    def vtex(request: httpx2.Request) -> httpx2.Response:
        seen.append((request.method, request.url.raw_path.decode()))
        return httpx2.Response(200, json={})

    env = {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"}
    app = build_server(Settings.from_env(env, guard="off", state_dir=tmp_path), transport=httpx2.MockTransport(vtex))
    async with Client(app.server) as client:
        for tool, args in (
            ("send_payment_notification", {"order_id": "v1-01", "payment_id": ".."}),
            ("update_tracking_status", {"order_id": "v1-01", "invoice_number": "..", "is_delivered": True}),
            ("update_invoice_tracking", {"order_id": "v1-01", "invoice_number": "../../../feed/config",
                                         "tracking_number": "T1", "courier": "C"}),
        ):  # fmt: skip
            result = await client.call_tool(tool, args)
            assert result.is_error, (tool, args)
            assert "invoice_number" in result.content[0].text or "payment_id" in result.content[0].text
        assert seen == []
        result = await client.call_tool(
            "update_invoice_tracking",
            {"order_id": "v1-01", "invoice_number": "NF/2026", "tracking_number": "T1", "courier": "C"},
        )
    assert not result.is_error, result.content
    assert [s for s in seen if s[0] != "GET"] == [("PATCH", "/api/oms/pvt/orders/v1-01/invoice/NF%2F2026")]


@pytest.mark.anyio
async def test_a_range_is_answered_whatever_its_order(tmp_path):
    """Both bounds carry their zone; an inverted range is no error (JSON Schema cannot say "after"),
    it matches no order, as at VTEX."""
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=10))
    async with Client(app.server) as client:
        ok = await client.call_tool(
            "list_orders", {"created_from": "2020-01-01T00:00:00Z", "created_to": "2030-02-01T00:00:00-03:00"}
        )
        inverted = await client.call_tool(
            "list_orders", {"created_from": "2030-02-01T00:00:00Z", "created_to": "2020-01-01T00:00:00Z"}
        )
    assert not ok.is_error and ok.structured_content["orders"], ok.content
    assert not inverted.is_error and inverted.structured_content["orders"] == [], inverted.content


@pytest.mark.parametrize(
    "filter_",
    [
        {"status": ["invoiced"], "expression": "true"},
        {},
        {"disable_single_fire": True},
        {"expression": "  "},
        {"status": []},
        {"status": ["Invoiced"]},
        {"type": "FromOrders", "expression": "true"},
    ],
)
def test_feed_filters_carry_one_kind_of_condition(filter_):
    """A filter with both would be approved as one thing and act as the other (VTEX ignores one):
    the schema says "exactly one of status, expression" itself, and the model agrees."""
    from pydantic import ValidationError

    from vtex_orders_mcp.arguments import Contract
    from vtex_orders_mcp.models import FeedConfig, HookConfig
    from vtex_orders_mcp.schemas import advertised_schema

    assert Contract(advertised_schema(FeedConfig)).problems({"filter": filter_})
    with pytest.raises(ValidationError):
        FeedConfig(filter=filter_)
    with pytest.raises(ValidationError):
        HookConfig(filter=filter_, hook={"url": "https://example.com"})


def test_a_feed_filter_is_sent_with_vtex_s_type():
    from vtex_orders_mcp.models import WIRE, FeedConfig, as_given

    workflow = FeedConfig(filter={"status": ["order-completed"]})
    orders = FeedConfig(filter={"expression": "value > 100", "disable_single_fire": True})
    assert workflow.model_dump(context=WIRE, exclude_none=True)["filter"] == {
        "type": "FromWorkflow", "status": ["order-completed"], "disableSingleFire": False
    }  # fmt: skip
    assert orders.model_dump(context=WIRE, exclude_none=True)["filter"] == {
        "type": "FromOrders", "expression": "value > 100", "disableSingleFire": True
    }  # fmt: skip
    # What confirm_write gets back is the tool's own shape, without VTEX's tag.
    assert as_given(orders)["filter"] == {"expression": "value > 100", "disable_single_fire": True}
