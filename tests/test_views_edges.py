"""Compact views on unusual but valid VTEX documents: nulls anywhere, e-mail tables, delivery dates,
split deliveries, every documented status, conversations across UTC offsets."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from bpe_openai import get_encoding
from mcp import Client

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.models import FEED_STATUSES, ORDER_STATUSES
from vtex_orders_mcp.server import build_server
from vtex_orders_mcp.statuses import MAIN, MEANINGS, meaning
from vtex_orders_mcp.views import Money, compact_conversation, compact_order, compact_payment, html_to_text
from vtex_orders_mcp.views.fields import instant

EXAMPLE = json.loads((Path(__file__).parents[1] / "server/vtex_orders_mcp/sandbox/data/example_order.json").read_text())
SEED = "v502556llux-01"
ENC = get_encoding("o200k_base")


def example(**changes) -> dict:
    order = copy.deepcopy(EXAMPLE)
    order.update(changes)
    return order


# --- nulls --------------------------------------------------------------------------------------


def test_null_seller_name_and_null_totals_id_are_left_out():
    view = compact_order(example(sellers=[{"id": "1", "name": "Lux Store"}, {"id": "x", "name": None}, None]))
    assert view["seller"] == "Lux Store"
    view = compact_order(example(totals=[{"id": None, "value": 5}, None, {"id": "Items", "value": 3290}]))
    assert view["totals"] == {"items": "R$ 32,90"}


def test_null_fields_inside_lists_never_crash_the_view():
    order = example(items=[{**EXAMPLE["items"][0], "quantity": None, "sellingPrice": None, "name": None}, None],
                    paymentData={"transactions": [None, {"payments": [None, {"value": 100, "installments": None}]}]},
                    packageAttachment={"packages": [None, {"invoiceNumber": "N1", "courierStatus": None}]},
                    changesAttachment={"changesData": [None, {"reason": "r", "itemsRemoved": [
                        None, {"id": "1234568358", "name": None, "quantity": None}]}]},
                    status=None, creationDate=12345, clientProfileData=None)  # fmt: skip
    view = compact_order(order)
    # sellingPrice null: the list price stands in; the item keeps what it has
    assert view["items"] == [{"sku": "1234568358", "price": "R$ 32,90"}]
    assert view["payments"] == [{"value": "R$ 1,00"}]
    assert view["invoices"] == [{"number": "N1"}]
    assert view["changes"] == [{"reason": "r", "removed": ["1234568358"]}]
    assert "created" not in view and "customer" not in view
    for shipping in ({"address": None, "logisticsInfo": None}, {"logisticsInfo": [None]}, None):
        assert compact_order(example(shippingData=shipping)).get("shipping", {}).get("sla") is None


def test_money_with_null_format_fields_uses_the_currency_defaults():
    assert Money({"currencySymbol": "R$", "currencyFormatInfo": {"CurrencyDecimalDigits": None,
                  "CurrencyDecimalSeparator": ",", "CurrencyGroupSeparator": "."}})(3290) == "R$ 32,90"  # fmt: skip
    assert Money({"currencyCode": "EUR", "currencySymbol": "€", "currencyFormatInfo": None})(123456) == "€ 1.234,56"
    assert Money({"currencySymbol": "$", "currencyFormatInfo": {"StartsWithCurrencySymbol": None}})(100) == "$ 1.00"


@pytest.mark.anyio
async def test_get_order_answers_on_a_seller_without_a_name(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=20))
    order = app.sandbox.store.orders[SEED]
    order["sellers"] = [{"id": "1", "name": "Lux Store"}, {"id": "sellerx", "name": None}]
    order["totals"].append({"id": None, "name": "?", "value": 5})
    async with Client(app.server) as client:
        result = await client.call_tool("get_order", {"order_id": SEED})
        assert not result.is_error, result.content
        assert result.structured_content["order"]["seller"] == "Lux Store"
        text = (await client.read_resource(f"vtex://orders/{SEED}.txt")).contents[0].text
        assert "seller Lux Store" in text


# --- e-mail bodies ------------------------------------------------------------------------------


def test_html_tables_lists_and_headings_keep_their_structure():
    body = ("<table><tr><th>Produto</th><th>Qtd</th><th>Preço</th></tr>"
            "<tr><td>Bay Max L</td><td>1</td><td>R$ 32,90</td></tr>"
            "<tr><td>Frete</td><td></td><td>R$ 11,60</td></tr></table>"
            "<ul><li>Item A</li><li>Item B</li></ul><h1>Título</h1><h2>Sub</h2>after")  # fmt: skip
    assert html_to_text(body).splitlines() == [
        "Produto | Qtd | Preço", "Bay Max L | 1 | R$ 32,90", "Frete | R$ 11,60", "Item A", "Item B", "Título", "Sub",
        "after",
    ]  # fmt: skip


def test_html_source_layout_is_whitespace_and_cells_need_no_closing_tag():
    body = """<table>
      <tr>
        <td>Bay Max
            L</td>
        <td>1
      <tr><td><table><tr><td>nested</td><td>cell</td></tr></table></td><td width="20">&nbsp;</td></tr>
    </table><!-- <td>hidden</td> --><p>Olá &amp; tchau</p>"""
    assert html_to_text(body).splitlines() == ["Bay Max L | 1", "nested | cell", "Olá & tchau"]


def test_escaped_markup_stays_text_and_plain_text_keeps_its_lines():
    assert html_to_text("<table><tr><td>a &lt;td&gt; b</td><td>c\x1fd</td></tr></table>") == "a <td> b | c d"
    assert html_to_text("Oi,\n\nTudo bem?\n  Ana & Bia") == "Oi,\nTudo bem?\nAna & Bia"
    assert html_to_text("<p>Hello&nbsp;<b>there</b></p><br>bye") == "Hello\xa0there\nbye"


# --- deliveries ---------------------------------------------------------------------------------


def package(**courier_status) -> dict:
    return {"invoiceNumber": "NF1", "type": "Output", "invoiceValue": 1160, "courier": "Correios",
            "trackingNumber": "BR1", "courierStatus": courier_status}  # fmt: skip


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ({"finished": True, "deliveredDate": "2026-10-31T11:23:04.0193660+00:00"}, "2026-10-31T11:23Z"),
        ({"finished": True, "deliveredDate": "2024-05-01T11:30:00-03:00"}, "2024-05-01T11:30-03:00"),
        ({"finished": True, "deliveredDate": "2022-10-01 21:15"}, "2022-10-01T21:15Z"),  # UpdateTrackingStatus form
        ({"finished": True, "deliveredDate": ""}, True),  # delivered, no date recorded
        ({"finished": True}, True),
        ({"finished": False, "deliveredDate": "2022-10-01 21:15"}, None),  # in transit
        ({"finished": False}, None),
    ],
)
def test_invoice_shows_when_it_was_delivered(status, shown):
    view = compact_order(example(packageAttachment={"packages": [package(**status)]}))
    assert view["invoices"][0].get("delivered") == shown


@pytest.mark.anyio
async def test_delivered_order_reads_its_delivery_date(tmp_path):
    app = build_server(Settings.from_env({}, state_dir=tmp_path, sandbox_orders=20))
    oid, pkg = next((oid, p) for oid, o in app.sandbox.store.orders.items()
                    for p in (o.get("packageAttachment") or {}).get("packages") or []
                    if (p.get("courierStatus") or {}).get("deliveredDate"))  # fmt: skip
    async with Client(app.server) as client:
        result = await client.call_tool("get_order", {"order_id": oid})
    invoice = next(i for i in result.structured_content["order"]["invoices"] if i["number"] == pkg["invoiceNumber"])
    delivered = pkg["courierStatus"]["deliveredDate"]
    assert instant(invoice["delivered"]) == instant(delivered) // 60 * 60  # the same minute, zone shown
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(Z|[+-]\d\d:\d\d)", invoice["delivered"])


def logistics(item_index: int, **fields) -> dict:
    entry = copy.deepcopy(EXAMPLE["shippingData"]["logisticsInfo"][0])
    entry.update(itemIndex=item_index, **fields)
    return entry


def two_items(second_logistics: dict) -> dict:
    order = example()
    order["items"].append(dict(copy.deepcopy(order["items"][0]), id="999", name="Second Item", sellingPrice=100))
    order["shippingData"]["logisticsInfo"].append(second_logistics)
    return order


def test_single_delivery_view_is_unchanged_and_small():
    shipping = compact_order(EXAMPLE)["shipping"]
    assert shipping == {
        "to": "Rodrigo Cunha", "address": "Praia de Botafogo 518, 10, Botafogo, Rio de Janeiro, RJ, 22250-040",
        "sla": "Normal", "carrier": "Todos os CEPS", "estimate": "2019-02-04T20:33Z", "channel": "delivery",
    }  # fmt: skip
    # Two items going the same way are still one delivery.
    assert compact_order(two_items(logistics(1)))["shipping"] == shipping
    wire = json.dumps({"order": compact_order(EXAMPLE)}, ensure_ascii=False, separators=(",", ":"))
    # 318 before split deliveries existed; +4 with each instant's zone; +7 since the example's
    # e-mail is a real address (rodrigo.cunha@vtex.com.br, not the obfuscator's "[email protected]").
    assert len(ENC.encode(wire)) <= 330


def test_items_on_different_carriers_and_estimates_are_listed_per_delivery():
    order = two_items(logistics(1, selectedSla="Expressa", deliveryCompany="Transp Y",
                                shippingEstimateDate="2019-02-10T00:00:00+00:00"))  # fmt: skip
    shipping = compact_order(order)["shipping"]
    assert "sla" not in shipping and "carrier" not in shipping and "estimate" not in shipping
    assert shipping["deliveries"] == [
        {"skus": ["1234568358"], "sla": "Normal", "carrier": "Todos os CEPS", "estimate": "2019-02-04T20:33Z",
         "channel": "delivery"},
        {"skus": ["999"], "sla": "Expressa", "carrier": "Transp Y", "estimate": "2019-02-10T00:00Z",
         "channel": "delivery"},
    ]  # fmt: skip


def test_pickup_and_home_delivery_name_the_pickup_point_and_its_address():
    pickup = {"isPickupStore": True, "friendlyName": "Loja Centro", "additionalInfo": "bring ID", "dockId": "1",
              "address": {"addressType": "pickup", "street": "Rua X", "number": "1", "city": "Rio"}}  # fmt: skip
    order = two_items(logistics(1, selectedSla="Retirada (Loja Centro)", selectedDeliveryChannel="pickup-in-point",
                                deliveryCompany=None, deliveryIds=[], pickupStoreInfo=pickup,
                                addressId="pickup-1"))  # fmt: skip
    deliveries = compact_order(order)["shipping"]["deliveries"]
    assert deliveries[0]["skus"] == ["1234568358"] and deliveries[0]["channel"] == "delivery"
    assert "address" not in deliveries[0]  # goes to the order's address, shown once
    assert deliveries[1] == {
        "skus": ["999"], "sla": "Retirada (Loja Centro)", "estimate": "2019-02-04T20:33Z", "channel": "pickup-in-point",
        "pickupPoint": "Loja Centro", "address": "Rua X 1, Rio",
    }  # fmt: skip


def test_a_pickup_only_order_names_its_pickup_point():
    order = example()
    pickup = {"isPickupStore": True, "friendlyName": "Loja Centro", "address": order["shippingData"]["address"]}
    order["shippingData"]["logisticsInfo"][0].update(
        selectedDeliveryChannel="pickup-in-point", selectedSla="Retirada", pickupStoreInfo=pickup
    )
    shipping = compact_order(order)["shipping"]
    assert shipping["pickupPoint"] == "Loja Centro" and "pickupAddress" not in shipping and "deliveries" not in shipping


# --- statuses -----------------------------------------------------------------------------------


def test_every_documented_status_has_a_meaning():
    documented = set(FEED_STATUSES) | set(ORDER_STATUSES) | {"order-completed"}  # the hook example's one
    undocumented = sorted(s for s in documented if meaning(s) == "status not documented by VTEX")
    assert not undocumented
    assert set(MAIN) <= set(MEANINGS)  # the statuses an order rests in are documented first
    assert meaning("invoice") == "invoice being registered" and meaning("cancel") == "being canceled"
    assert meaning("payment-denied") == "status not documented by VTEX"
    assert compact_order(example(status="start-handling"))["statusMeaning"] == "handling being started"


# --- conversations and payments -----------------------------------------------------------------


def test_conversation_is_sorted_by_instant_across_offsets():
    messages = [
        {"subject": "10:00 -03:00 = 13:00 UTC", "date": "2024-03-01T10:00:00.0000000-03:00"},
        {"subject": "12:00 UTC", "date": "2024-03-01T12:00:00Z"},
        {"subject": "undated", "date": None},
        {"subject": "11:30 -03:00 = 14:30 UTC", "date": "2024-03-01T11:30:00-03:00"},
        None,
    ]
    assert [m["subject"] for m in compact_conversation(messages)] == [
        "11:30 -03:00 = 14:30 UTC", "10:00 -03:00 = 13:00 UTC", "12:00 UTC", "undated",
    ]  # fmt: skip


def test_payment_transaction_without_currency_keeps_plain_amounts():
    # VTEX's payment-transaction document names no currency: the amount cannot honestly carry a symbol.
    view = compact_payment({"payments": [None, {"value": 4450, "paymentSystemName": "Boleto"}]})
    assert view == {"payments": [{"system": "Boleto", "value": "44.50"}]}


def test_money_of_any_size_is_written_whole():
    """No schema caps an amount: a 31-digit invoice value is shown, not a decimal.InvalidOperation."""
    brl = Money({"currencySymbol": "R$", "currencyFormatInfo": {"CurrencyDecimalSeparator": ",",
                 "CurrencyGroupSeparator": ".", "CurrencyDecimalDigits": 2}})  # fmt: skip
    assert brl(10**30) == "R$ " + ".".join(["10"] + ["000"] * 9) + ",00"
    assert brl(-(10**29) - 5) == "-R$ " + ".".join(["1"] + ["000"] * 9) + ",05"


def test_integer_money_is_rounded_as_decimal_rounds_it():
    """Integer amounts are formatted in integers (list rows format one each); fractional ones go
    through Decimal. The two must agree on every amount, for every number of decimals a store shows."""
    amounts = [0, 1, 4, 5, 6, 49, 50, 51, 99, 100, 149, 150, 151, 1499050, 10**12 + 5, 10**30 + 50]
    for digits in range(5):
        money = Money({"currencySymbol": "R$", "currencyFormatInfo": {"CurrencyDecimalDigits": digits}})
        for cents in amounts + [-a for a in amounts]:
            assert money._whole(cents) == money._decimal(cents), (digits, cents)
            if abs(cents) < 2**53:  # (a float holds these exactly)
                assert money(cents) == money(float(cents)), (digits, cents)
        assert money(1e30) == money(10**30)  # a float's digits come from its exponent, not its text


def test_dates_read_the_same_on_the_fast_path_and_the_general_one():
    # fields.date takes VTEX's UTC stamps in one match; every other form goes the general way.
    from vtex_orders_mcp.views import fields

    stamps = [
        "2019-01-28T20:09:43.8999580+00:00", "2019-01-28T20:09:43Z", "2019-01-28T20:09Z", "2019-01-28 20:09",
        "2019-01-28T20:09:43-00:00", "2019-01-28T20:09:43.1+00:00", "2024-05-01T11:30:00-03:00",
        "2024-05-01T11:30:00.000z", "2024-05-01T11:30:00.000Z\n", "2024-05-01", "soon", "2024-05-01T11:30:00+0000",
    ]  # fmt: skip
    fast = fields._UTC_STAMP
    try:
        with_fast = [fields.date(s) for s in stamps]
        fields._UTC_STAMP = re.compile(r"(?!)")  # matches nothing: every stamp the general way
        general = [fields.date(s) for s in stamps]
    finally:
        fields._UTC_STAMP = fast
    assert with_fast == general
    assert with_fast[:2] == ["2019-01-28T20:09Z", "2019-01-28T20:09Z"] and with_fast[6] == "2024-05-01T11:30-03:00"
