"""Extract the response schemas of the sandbox's order-modification, feed/hook and change-seller
operations from VTEX's OpenAPI description into tests/data/vtex_orders_responses_ext.json.

Companion of extract_response_schemas.py (which covers the OMS order routes), same output layout:
{"<METHOD> <path>": {"<status>": <schema or null when documented without a body>}}, $refs inlined and
examples dropped, so tests never read the 1.5 MB spec at run time.

One difference: OpenAPI 3.0 `nullable: true` is rewritten here into JSON Schema (`type: [t, "null"]`),
so the tests can hand these schemas to `jsonschema` as they are.

One spec defect is corrected (SPEC_FIXES), and only this one: the change-summary's `totals` is written
`{"items": {"type": "array", "items": {<total>}}}` (an array of arrays) while its description ("Information
about the order totals"), its example and every other `totals` in the spec are a flat array of
`{id, name, value}`; the fix moves `type: array` up one level.

    python tests/data/extract_response_schemas_ext.py [path/to/vtex-orders-api.openapi.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from extract_response_schemas import extract  # same folder: the shared extraction loop

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parents[2] / "shared" / "reference" / "vtex-orders-api.openapi.json"
OUT = HERE / "vtex_orders_responses_ext.json"

OPERATIONS = [
    ("PATCH", "/api/order-system/orders/{changeOrderId}/changes"),
    ("GET", "/api/order-system/orders/{changeOrderId}/changes"),
    ("GET", "/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}"),
    ("POST", "/api/order-system/orders/{changeOrderId}/changes/preview"),
    ("POST", "/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/retry"),
    ("POST", "/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/cancel"),
    ("PUT", "/api/order-system/orders/changes/settings"),
    ("GET", "/api/order-system/orders/changes/settings"),
    ("GET", "/api/orders/pvt/document/{orderId}/change-summary"),
    ("GET", "/api/oms/pvt/feed/orders/status"),
    ("GET", "/api/orders/feed/config"),
    ("POST", "/api/orders/feed/config"),
    ("DELETE", "/api/orders/feed/config"),
    ("GET", "/api/orders/feed"),
    ("POST", "/api/orders/feed"),
    ("POST", "/api/orders/expressions/jsonata"),
    ("GET", "/api/orders/hook/config"),
    ("POST", "/api/orders/hook/config"),
    ("DELETE", "/api/orders/hook/config"),
    ("GET", "/api/checkout/pvt/configuration/window-to-change-seller"),
    ("POST", "/api/checkout/pvt/configuration/window-to-change-seller"),
]


def resolve(node, spec, seen=()):
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                return {}
            target = spec
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, spec, (*seen, ref))
        out = {
            k: resolve(v, spec, seen)
            for k, v in node.items()
            if k not in ("example", "examples", "description", "nullable")
        }
        if node.get("nullable") and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*list(out["enum"]), None]
        return out
    if isinstance(node, list):
        return [resolve(v, spec, seen) for v in node]
    return node


def _fix_change_summary_totals(schema: dict) -> None:
    totals = schema["properties"]["totals"]
    if "type" not in totals and totals.get("items", {}).get("type") == "array":
        schema["properties"]["totals"] = {"type": "array", "items": totals["items"]["items"]}


SPEC_FIXES = {("GET /api/orders/pvt/document/{orderId}/change-summary", "200"): _fix_change_summary_totals}


def main() -> None:
    spec_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPEC
    out = extract(json.loads(spec_path.read_text()), OPERATIONS, resolve)
    for (key, code), fix in SPEC_FIXES.items():
        fix(out[key][code])
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(out)} operations)")


if __name__ == "__main__":
    main()
