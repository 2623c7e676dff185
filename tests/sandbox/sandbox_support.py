"""Shared helpers of the sandbox tests: constants, seeded-order lookup, and validation of sandbox
responses against the response schemas of VTEX's OpenAPI description.

tests/data/vtex_orders_responses.json holds the schemas, $refs resolved (extracted by
tests/data/extract_response_schemas.py). Two translations are applied, both documented:

* OpenAPI 3.0 `nullable: true` becomes "null is allowed" (JSON Schema has no `nullable`);
* a property the GetOrder schema marks nullable may be null wherever the same name appears in
  the order-document schemas (Userorderdetails repeats the document without most of the marks);
* where VTEX's own canonical example order (sandbox/data/example_order.json, a real document)
  contradicts the schema, the document wins: a property the example sends as null may be null,
  and the totals id enum also admits "Change", which the example carries;
* Userorderdetails' packageAttachment (packages typed as strings) is replaced by GetOrder's. Without this, VTEX's own
  example would fail its schema (76 violations, all nulls and that enum).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import httpx2
import jsonschema

from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN
from vtex_orders_mcp.sandbox.seed import example_order

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
BASE_URL = "http://sandbox.vtexcommercestable.com.br"
AUTH = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}

DATA = Path(__file__).resolve().parents[1] / "data" / "vtex_orders_responses.json"


def _null_names(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if value is None:
                out.add(key)
            _null_names(value, out)
    elif isinstance(node, list):
        for value in node:
            _null_names(value, out)
    return out


def _translate(node: Any, null_names: set[str], nullable: bool = False) -> Any:
    if isinstance(node, list):
        return [_translate(v, null_names) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _translate(sub, null_names, name in null_names) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            out[key] = _translate(value, null_names)
        elif key in ("nullable", "deprecated", "description", "example", "title"):
            continue
        else:
            out[key] = value
    if nullable or node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if out.get("enum") == ["Items", "Discounts", "Shipping", "Tax"]:
        out["enum"] = [*out["enum"], "Change"]
    return out


def _nullable_names(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if isinstance(sub, dict) and sub.get("nullable"):
                out.add(name)
        for value in node.values():
            _nullable_names(value, out)
    elif isinstance(node, list):
        for value in node:
            _nullable_names(value, out)
    return out


@lru_cache(maxsize=1)
def _schemas() -> dict[str, dict[str, Any]]:
    raw = json.loads(DATA.read_text())
    null_names = _null_names(example_order(), set())
    # The customer order detail (Userorderdetails) describes the same document as GetOrder but
    # drops most `nullable` marks; a property GetOrder declares nullable may be null there too.
    null_names |= _nullable_names(raw["GET /api/oms/pvt/orders/{orderId}"]["200"], set())
    # Userorderdetails types packageAttachment.packages[] as strings; GetOrder describes the same
    # invoices as objects (as VTEX returns them), so GetOrder's description is used for both.
    detail = raw["GET /api/oms/user/orders/{orderId}"]["200"]["properties"]
    detail["packageAttachment"] = raw["GET /api/oms/pvt/orders/{orderId}"]["200"]["properties"]["packageAttachment"]
    return {
        op: {code: _translate(schema, null_names) if schema is not None else None for code, schema in codes.items()}
        for op, codes in raw.items()
    }


@cache
def validator(operation: str, status: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(_schemas()[operation][status])


def check_response(operation: str, response, status: int | None = None) -> Any:
    """Assert the response status is the documented success code and its body fits the schema."""
    codes = _schemas()[operation]
    success = [c for c in codes if c.startswith("2")]
    assert success, f"{operation} documents no 2xx response"
    expected = status or int(success[0])
    assert response.status_code == expected, (response.status_code, response.text[:500])
    schema = codes.get(str(expected))
    if schema is None:
        # Documented without a body (e.g. 204 start-handling, 200 interactions).
        assert response.content in (b"", b"null"), response.content[:200]
        return None
    body = response.json()
    errors = sorted(validator(operation, str(expected)).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:20])
    return body


def pick(sb, status: str | None = None, **conditions):
    """The first seeded order (in orderId order) in `status` that satisfies the predicates."""
    for order in sorted(sb.store.orders.values(), key=lambda o: o["orderId"]):
        if status is not None and order["status"] != status:
            continue
        if order["orderId"] == "v502556llux-01":
            continue  # keep VTEX's example order untouched by tests that mutate
        if all(check(order) for check in conditions.values()):
            return order
    raise LookupError(f"no seeded order with status {status} and {list(conditions)}")


EXT_SCHEMAS = json.loads((Path(__file__).resolve().parents[1] / "data" / "vtex_orders_responses_ext.json").read_text())


def check_ext_schema(key: str, status: str, body: Any) -> None:
    """Validate ``body`` against an operation's response schema from the second extraction
    (modifications, feed, hook, change seller)."""
    jsonschema.Draft7Validator(EXT_SCHEMAS[key][status]).validate(body)


def http(sandbox: Any, *, auth: bool = True) -> httpx2.AsyncClient:
    """An HTTP client on ``sandbox``'s in-process transport, with the sandbox's credentials."""
    return httpx2.AsyncClient(transport=sandbox.transport(), base_url=BASE_URL, headers=AUTH if auth else None)
