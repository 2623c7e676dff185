"""The registry holds exactly the 36 operations of VTEX's index and OpenAPI description."""

import json
import re
from pathlib import Path

import pytest

from vtex_orders_mcp.registry import OPERATIONS

DATA = Path(__file__).parent / "data"

# The seed index (shared/seeds/000_*.txt), method + path of every operation, as VTEX lists them.
SEED_INDEX = """
GET /api/oms/pvt/orders/{orderId}
GET /api/oms/pvt/orders/order-group/{orderGroup}
GET /api/oms/pvt/orders
POST /api/oms/pvt/orders/{orderId}/start-handling
POST /api/oms/pvt/orders/{orderId}/cancel
POST /api/oms/pvt/orders/{orderId}/changes
POST /api/oms/pvt/orders/{orderId}/interactions
GET /api/orders/pvt/document/{orderId}/change-summary
PATCH /api/order-system/orders/{changeOrderId}/changes
GET /api/order-system/orders/{changeOrderId}/changes
GET /api/order-system/orders/{changeOrderId}/changes/{changeRequestId}
POST /api/order-system/orders/{changeOrderId}/changes/preview
POST /api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/retry
POST /api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/cancel
PUT /api/order-system/orders/changes/settings
GET /api/order-system/orders/changes/settings
POST /api/oms/pvt/orders/{orderId}/invoice
PATCH /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}
PUT /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking
GET /api/oms/pvt/orders/{orderId}/conversation-message
GET /api/oms/pvt/orders/{orderId}/payment-transaction
POST /api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification
GET /api/oms/pvt/feed/orders/status
GET /api/orders/feed/config
POST /api/orders/feed/config
DELETE /api/orders/feed/config
GET /api/orders/feed
POST /api/orders/feed
POST /api/orders/expressions/jsonata
GET /api/orders/hook/config
POST /api/orders/hook/config
DELETE /api/orders/hook/config
GET /api/oms/user/orders
GET /api/oms/user/orders/{orderId}
GET /api/checkout/pvt/configuration/window-to-change-seller
POST /api/checkout/pvt/configuration/window-to-change-seller
"""


def _pairs():
    return {(op.method, op.path) for op in OPERATIONS}


def test_registry_matches_seed_index():
    seed = {tuple(line.split(" ", 1)) for line in SEED_INDEX.strip().splitlines()}
    assert len(seed) == 36
    assert _pairs() == seed
    assert len(OPERATIONS) == 36


def test_registry_matches_seed_file_when_present():
    seeds = Path(__file__).parent.parent.parent / "shared" / "seeds"
    files = list(seeds.glob("000_*.txt"))
    if not files:
        pytest.skip("shared/seeds is not beside this checkout (the embedded copy above is checked instead)")
    text = files[0].read_text()
    found = set(re.findall(r"\| (GET|POST|PUT|PATCH|DELETE) \| (/api/[^ |]+) \|", text))
    assert found == _pairs()


def test_registry_matches_openapi_paths():
    spec_paths = json.loads((DATA / "openapi_operations.json").read_text())
    openapi = {(m.upper(), p) for p, ms in spec_paths.items() for m in ms}
    # The Orders API description spells the change-seller paths as the Checkout API does.
    assert _pairs() == openapi


def test_every_operation_states_its_kind_and_has_a_description():
    for op in OPERATIONS:
        assert op.kind in ("read", "write", "destructive"), op.name
        assert 10 <= len(op.description) <= 200, op.name
        assert re.fullmatch(r"[a-z][a-z0-9_]{2,40}", op.name), op.name
        if op.method == "GET":
            assert op.read_only, f"{op.name}: a GET is a read"


def test_path_variables_are_fields_of_the_input_model():
    for op in OPERATIONS:
        for var in re.findall(r"{(\w+)}", op.path):
            assert var in op.args.model_fields, (op.name, var)


def test_register_changes_has_the_20s_timeout_and_is_deprecated():
    op = next(o for o in OPERATIONS if o.name == "register_order_changes")
    assert op.timeout == 20.0 and op.deprecated_by == "create_order_modification"
