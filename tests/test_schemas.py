"""tool_schemas/ is what the server advertises, and every schema is valid Draft 2020-12."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import jsonschema
import pytest

from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.registry import REGISTRY
from vtex_orders_mcp.schemas import render
from vtex_orders_mcp.server import build_server

FOLDER = Path(__file__).parent.parent / "tool_schemas"


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    app = build_server(Settings.from_env({}, state_dir=tmp_path_factory.mktemp("state"), sandbox_orders=10))
    return anyio.run(app.server.list_tools)


def test_snapshots_match_the_server(tools):
    stale = [t.name for t in tools if not (FOLDER / f"{t.name}.json").exists()
             or (FOLDER / f"{t.name}.json").read_text() != render(t)]  # fmt: skip
    extra = {p.stem for p in FOLDER.glob("*.json")} - {t.name for t in tools}
    assert not stale and not extra, (
        f"tool_schemas/ drifted (stale: {stale}, not served: {sorted(extra)}): run `vtex-orders-mcp schemas --write`"
    )


def test_every_schema_is_valid_draft_2020_12():
    files = sorted(FOLDER.glob("*.json"))
    assert len(files) == len(REGISTRY) + 2  # every operation, check_approval and the card's decide_approval
    for path in files:
        doc = json.loads(path.read_text())
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        for key in ("inputSchema", "outputSchema"):
            jsonschema.Draft202012Validator.check_schema(doc[key])
        assert doc["inputSchema"]["type"] == "object" and doc["inputSchema"]["additionalProperties"] is False
        assert not {"anyOf", "oneOf", "allOf"} & set(doc["inputSchema"]), path.name


def test_schemas_command_detects_drift(tmp_path, tools, capsys):
    from vtex_orders_mcp.cli import main

    assert main(["schemas", "--write", "--dir", str(tmp_path), "--state-dir", str(tmp_path / "s")]) == 0
    assert main(["schemas", "--dir", str(tmp_path), "--state-dir", str(tmp_path / "s")]) == 0
    (tmp_path / "get_order.json").write_text("{}")
    assert main(["schemas", "--dir", str(tmp_path), "--state-dir", str(tmp_path / "s")]) == 1
    assert "get_order" in capsys.readouterr().out
