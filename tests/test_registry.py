"""The registry holds exactly the operations of VTEX's index (seed 000) and OpenAPI description."""

import json
import re
from pathlib import Path


from vtex_orders_mcp.registry import OPERATIONS

DATA = Path(__file__).parent / "data"

# VTEX's index (seed 000), method + path of every operation, copied into tests/data.
SEED_INDEX = {
    tuple(line.split(" ", 1))
    for line in (DATA / "seed_index.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}


def _pairs():
    return {(op.method, op.path) for op in OPERATIONS}


def test_registry_matches_seed_index():
    assert _pairs() == SEED_INDEX
    assert len(OPERATIONS) == len(SEED_INDEX)  # one operation per endpoint, none twice


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
    from vtex_orders_mcp.models import wire_name

    for op in OPERATIONS:
        wire = {wire_name(op.args, name) for name in op.args.model_fields}
        for var in re.findall(r"{(\w+)}", op.path):
            assert var in wire, (op.name, var)


def test_register_changes_has_the_20s_timeout_and_is_deprecated():
    op = next(o for o in OPERATIONS if o.name == "register_order_changes")
    assert op.timeout == 20.0 and op.deprecated_by == "create_order_modification"
