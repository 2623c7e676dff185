"""Compact views on VTEX's own example order (seed 004): what a support agent needs, in few tokens."""

import json
from pathlib import Path

from bpe_openai import get_encoding

from vtex_orders_mcp.views import (
    Money,
    compact_conversation,
    compact_order,
    compact_order_row,
    compact_payment,
    html_to_text,
    prune,
)

EXAMPLE = json.loads(
    (
        Path(__file__).parent.parent / "server" / "vtex_orders_mcp" / "sandbox" / "data" / "example_order.json"
    ).read_text()
)
ENC = get_encoding("o200k_base")


def tokens(data) -> int:
    return len(ENC.encode(json.dumps(data, ensure_ascii=False, separators=(",", ":"))))


def test_compact_order_holds_what_support_needs():
    view = compact_order(EXAMPLE)
    assert view["orderId"] == "v502556llux-01" and view["status"] == "handling"
    assert view["statusMeaning"] == "being prepared for shipping"
    assert view["customer"]["name"] == "Rodrigo Cunha"
    assert view["total"] == "R$ 11,60" and view["totals"]["items"] == "R$ 32,90"
    assert view["items"] == [{"sku": "1234568358", "name": "Bay Max L", "qty": 1, "price": "R$ 32,90"}]
    assert view["shipping"]["sla"] == "Normal" and "Botafogo" in view["shipping"]["address"]
    assert view["payments"][0]["system"] == "Boleto Bancário" and view["payments"][0]["value"] == "R$ 44,50"
    assert view["changes"][0]["removed"] == ["1x Bay Max L"]
    assert view["created"] == "2019-01-28T20:09Z"


def test_compact_order_is_small():
    full = len(ENC.encode(json.dumps(EXAMPLE, indent=2, ensure_ascii=False)))
    compact = tokens(compact_order(EXAMPLE))
    assert compact < 600 < full  # the budget; bench/ reports the exact figures
    assert compact * 5 < full


def test_money_formats():
    assert Money(EXAMPLE["storePreferencesData"])(123456789) == "R$ 1.234.567,89"
    assert Money(EXAMPLE["storePreferencesData"])(-5) == "-R$ 0,05"
    assert Money(currency="USD")(199) == "$ 1.99"
    # VTEX amounts are hundredths whatever the currency; a store without decimals rounds to units
    assert Money(currency="CLP")(1499000) == "$ 14.990" and Money(currency="CLP")(1499050) == "$ 14.991"
    clp = {"currencySymbol": "$", "currencyFormatInfo": {"CurrencyDecimalDigits": 0, "CurrencyGroupSeparator": "."}}
    assert Money(clp)(-1499000) == "-$ 14.990"
    assert Money(currency="BRL")(1234.9) == "R$ 12,35"  # a fractional amount rounds, never truncates
    assert Money()(None) is None


def test_negative_money_without_a_symbol_has_no_stray_space():
    assert Money()(-5) == "-0.05"
    assert Money()(-100) == "-1.00" and Money()(5) == "0.05"
    symbol_after = {"currencyFormatInfo": {"CurrencyDecimalSeparator": ",", "StartsWithCurrencySymbol": False}}
    assert Money(symbol_after)(-5) == "-0,05"
    assert compact_payment({"payments": [{"value": -250}]})["payments"] == [{"value": "-2.50"}]
    # With a symbol the sign stays in front of it, and the space after it.
    assert Money(currency="BRL")(-5) == "-R$ 0,05"
    assert Money({**symbol_after, "currencySymbol": "€"})(-5) == "-0,05 €"


def test_rows_and_conversation():
    row = {
        "orderId": "v1-01",
        "creationDate": "2024-05-01T10:00:00.000Z",
        "clientName": "Ana",
        "totalValue": 1990,
        "status": "handling",
        "totalItems": 2,
        "paymentNames": "Visa",
        "currencyCode": "BRL",
    }
    assert compact_order_row(row)["total"] == "R$ 19,90"
    messages = [
        {
            "date": "2024-05-01T10:00:00Z",
            "from": {"email": "a@x.com"},
            "to": [{"name": "Ana"}],
            "subject": "old",
            "body": "<p>Hello&nbsp;<b>there</b></p><br>bye",
        },
        {"date": "2024-05-02T10:00:00Z", "from": "b@x.com", "to": [], "subject": "new", "body": ""},
    ]
    out = compact_conversation(messages)
    assert [m["subject"] for m in out] == ["new", "old"]
    assert out[1]["body"] == "Hello\xa0there\nbye" and out[1]["to"] == "Ana"


def test_html_to_text_drops_scripts_and_prune_drops_empties():
    assert html_to_text("<script>alert(1)</script><div>ok</div>") == "ok"
    assert prune({"a": None, "b": [], "c": {"d": ""}, "e": 0}) == {"e": 0}
