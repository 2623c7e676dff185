"""Extract the 2xx (and documented error) response schemas of the OMS operations the sandbox
serves from VTEX's OpenAPI description into tests/data/vtex_orders_responses.json.

The full spec is 1.5 MB and lives outside the repository (../shared/reference); tests must not
depend on it at run time, so this script inlines every $ref and keeps only what the tests need.

    python tests/data/extract_response_schemas.py [path/to/vtex-orders-api.openapi.json]

Output: {"<METHOD> <path>": {"<status>": <schema with $refs resolved>}}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parents[2] / "shared" / "reference" / "vtex-orders-api.openapi.json"
OUT = HERE / "vtex_orders_responses.json"

OPERATIONS = [
    ("GET", "/api/oms/pvt/orders/{orderId}"),
    ("GET", "/api/oms/pvt/orders/order-group/{orderGroup}"),
    ("GET", "/api/oms/pvt/orders"),
    ("POST", "/api/oms/pvt/orders/{orderId}/start-handling"),
    ("POST", "/api/oms/pvt/orders/{orderId}/cancel"),
    ("POST", "/api/oms/pvt/orders/{orderId}/changes"),
    ("POST", "/api/oms/pvt/orders/{orderId}/interactions"),
    ("POST", "/api/oms/pvt/orders/{orderId}/invoice"),
    ("PATCH", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}"),
    ("PUT", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking"),
    ("GET", "/api/oms/pvt/orders/{orderId}/conversation-message"),
    ("GET", "/api/oms/pvt/orders/{orderId}/payment-transaction"),
    ("POST", "/api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification"),
    ("GET", "/api/oms/user/orders"),
    ("GET", "/api/oms/user/orders/{orderId}"),
]


def resolve(node, spec, seen=()):
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:  # recursive schema: stop (none expected in these responses)
                return {}
            target = spec
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, spec, (*seen, ref))
        return {k: resolve(v, spec, seen) for k, v in node.items() if k not in ("example", "examples")}
    if isinstance(node, list):
        return [resolve(v, spec, seen) for v in node]
    return node


def extract(spec: dict, operations: list[tuple[str, str]], resolve_schema=resolve) -> dict[str, dict]:
    """{"<METHOD> <path>": {"<status>": schema or None}} for ``operations`` of ``spec``."""
    out: dict[str, dict] = {}
    for method, path in operations:
        op = spec["paths"][path][method.lower()]
        codes: dict[str, object] = {}
        for code, resp in op.get("responses", {}).items():
            for content in (resp.get("content") or {}).values():
                if "schema" in content:
                    codes[code] = resolve_schema(content["schema"], spec)
                    break
            else:
                codes[code] = None  # documented without a body
        out[f"{method} {path}"] = codes
    return out


def main() -> None:
    spec_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPEC
    out = extract(json.loads(spec_path.read_text()), OPERATIONS)
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(out)} operations)")


if __name__ == "__main__":
    main()
