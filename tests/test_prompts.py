"""Prompts: the files in prompts/, what they mention, and getting each one through the SDK client.

Every snake_case name a prompt mentions must be a tool of the server (or an argument of one), and
every vtex:// URI it mentions or embeds must be one of the server's resources or templates, so a
renamed tool or resource breaks this test instead of a support agent's workflow.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from mcp import Client, types
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from vtex_orders_mcp import prompts as prompts_module
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.prompts import (
    NOT_GIVEN,
    PromptFileError,
    load_prompt_files,
    parse_prompt_file,
    prompt_dirs,
)
from vtex_orders_mcp.registry import REGISTRY
from vtex_orders_mcp.server import build_server
from datetime import UTC

pytestmark = pytest.mark.anyio

REPO_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
SEED = "v502556llux-01"
# The workflows the issue asks for (at least), by prompt name.
REQUIRED_PROMPTS = {
    "where_is_my_order",
    "cancel_order_safely",
    "modify_order_items",
    "invoice_with_tracking",
    "answer_customer",
    "stuck_orders_backlog",
}
SPECS = load_prompt_files(REPO_PROMPTS)


def sample_value(name: str) -> str:
    return {"order_id": SEED, "status": "handling", "olderThanDays": "3"}.get(name, f"sample {name}")


@pytest.fixture
def app(tmp_path):
    return build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=40))


@pytest.fixture
async def client(app):
    async with Client(app.server) as c:
        yield c


# --- the files ----------------------------------------------------------------------------------


def test_one_file_per_required_workflow():
    assert {s.name for s in SPECS} >= REQUIRED_PROMPTS
    assert all(s.path.stem == s.name for s in SPECS), "file name = prompt name"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_prompt_is_complete(spec):
    assert spec.description and spec.title and len(spec.body) > 200
    assert any(a.required for a in spec.arguments)
    for arg in spec.arguments:
        assert arg.description, f"{spec.name}.{arg.name} needs a description"


def _property_names(schema: object) -> set[str]:
    if isinstance(schema, dict):
        names = set(schema.get("properties") or {}) if isinstance(schema.get("properties"), dict) else set()
        return names.union(*(_property_names(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_property_names(v) for v in schema))
    return set()


async def test_every_name_a_prompt_mentions_exists_on_the_server(client):
    tools = (await client.list_tools()).tools
    tool_names = {t.name for t in tools}
    # Argument names at any depth (e.g. an item's unique_id inside a modification).
    tool_args = {arg for t in tools for arg in _property_names(t.input_schema)}
    # The statuses a write answers with (e.g. approval_required) are named in the workflows too.
    schemas = [(t.output_schema or {}).get("properties", {}) for t in tools]
    statuses = {value for props in schemas for value in props.get("status", {}).get("enum", [])}
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    resources = {str(r.uri) for r in (await client.list_resources()).resources}
    for spec in SPECS:
        mentioned = spec.mentions()
        assert mentioned & tool_names, f"{spec.name} names no tool"
        unknown = mentioned - tool_names - tool_args - statuses
        assert not unknown, f"{spec.name} mentions {sorted(unknown)}: not tools of this server"
        uris = spec.uris()
        assert uris, f"{spec.name} names no resource"
        missing = uris - templates - resources
        assert not missing, f"{spec.name} mentions {sorted(missing)}: not resources of this server"


def test_writes_are_gated_on_explicit_approval_in_every_write_prompt():
    for spec in SPECS:
        if "confirm_write" in spec.mentions():
            assert re.search(r"only after the user('s)? (clearly says yes|explicit yes)", spec.body), spec.name
            assert "Never call `confirm_write`" in spec.body or "explicit yes" in spec.body


def test_cancel_prompt_reads_first_and_checks_the_reference():
    spec = next(s for s in SPECS if s.name == "cancel_order_safely")
    assert spec.embed == ("vtex://orders/{order_id}.txt", "vtex://reference/order-statuses.txt")
    body = spec.body
    assert body.index("reference") < body.index("`cancel_order` with") < body.index("`check_approval`")


def test_modification_prompt_previews_before_applying():
    body = next(s for s in SPECS if s.name == "modify_order_items").body
    assert body.index("`preview_order_modification`") < body.index("`create_order_modification`")


# --- through the client -------------------------------------------------------------------------


async def test_lists_every_prompt_with_its_arguments(client):
    listed = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(listed) == {s.name for s in SPECS}
    for spec in SPECS:
        prompt = listed[spec.name]
        assert prompt.description == spec.description and prompt.title == spec.title
        assert [(a.name, a.required) for a in prompt.arguments] == [(a.name, a.required) for a in spec.arguments]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
async def test_get_every_prompt_with_all_its_arguments(app, client, spec):
    args = {a.name: sample_value(a.name) for a in spec.arguments}
    result = await client.get_prompt(spec.name, args)
    assert result.description == spec.description
    *embedded, instructions = result.messages
    assert all(m.role == "user" for m in result.messages)
    assert [m.content.resource.uri for m in embedded] == [spec.fill(u, args) for u in spec.embed]
    for message in embedded:
        assert isinstance(message.content, types.EmbeddedResource)
        assert message.content.resource.mime_type == "text/plain" and message.content.resource.text
    assert isinstance(instructions.content, types.TextContent)
    text = instructions.content.text
    for value in args.values():
        assert value in text
    names = "|".join(a.name for a in spec.arguments)
    assert not re.search(rf"\{{({names})\}}", text), "placeholder left"
    assert NOT_GIVEN not in text
    assert app.sandbox.writes() == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
async def test_get_every_prompt_with_only_required_arguments(client, spec):
    args = {a.name: sample_value(a.name) for a in spec.arguments if a.required}
    text = (await client.get_prompt(spec.name, args)).messages[-1].content.text
    for arg in spec.arguments:
        if not arg.required:
            assert (arg.default or NOT_GIVEN) in text


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
async def test_required_arguments_are_enforced(client, spec):
    full = {a.name: sample_value(a.name) for a in spec.arguments}
    for arg in (a for a in spec.arguments if a.required):
        for args in ({k: v for k, v in full.items() if k != arg.name}, {**full, arg.name: "  "}):
            with pytest.raises(MCPError) as err:
                await client.get_prompt(spec.name, args)
            assert err.value.code == INVALID_PARAMS
            assert f"Missing required argument for prompt {spec.name}: {arg.name}" in err.value.message


async def test_unknown_arguments_are_refused(client):
    with pytest.raises(MCPError) as err:
        await client.get_prompt("cancel_order_safely", {"order_id": SEED, "force": "yes"})
    assert err.value.code == INVALID_PARAMS
    assert "force" in err.value.message and "allowed: order_id, reason" in err.value.message


async def test_unknown_order_fails_the_prompt(client):
    with pytest.raises(MCPError) as err:
        await client.get_prompt("where_is_my_order", {"order_id": "v999999999zz-01"})
    assert err.value.code == INVALID_PARAMS and "v999999999zz-01" in err.value.message


async def test_embedded_order_is_the_text_resource(client):
    result = await client.get_prompt("answer_customer", {"order_id": SEED})
    resource = (await client.read_resource(f"vtex://orders/{SEED}.txt")).contents[0]
    assert result.messages[1].content.resource.text == resource.text


async def test_read_only_server_offers_only_prompts_it_can_carry_out(tmp_path):
    settings = Settings.from_env({"VTEX_MCP_READ_ONLY": "true"}, state_dir=tmp_path / "state", sandbox_orders=20)
    app = build_server(settings)
    assert settings.read_only
    async with Client(app.server) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        listed = {p.name for p in (await c.list_prompts()).prompts}
    assert listed == {"where_is_my_order", "answer_customer", "stuck_orders_backlog"}
    every_tool, available = REGISTRY.tool_names(read_only=True, toolsets=None)
    assert available == tools
    for spec in SPECS:
        assert (spec.name in listed) == (spec.mentions() & every_tool <= tools)


# --- loader and parser --------------------------------------------------------------------------


def test_loader_prefers_the_checkout_then_the_packaged_copy(tmp_path, monkeypatch):
    assert prompt_dirs()[0] == REPO_PROMPTS  # this test runs from a checkout
    empty, bundled = tmp_path / "repo-prompts", tmp_path / "bundled"
    empty.mkdir()
    shutil.copytree(REPO_PROMPTS, bundled)
    (bundled / "where_is_my_order.md").unlink()
    monkeypatch.setattr(prompts_module, "REPO_PROMPTS", empty)
    monkeypatch.setattr(prompts_module, "BUNDLED_PROMPTS", bundled)
    assert {s.name for s in load_prompt_files()} == {s.name for s in SPECS} - {"where_is_my_order"}
    monkeypatch.setattr(prompts_module, "REPO_PROMPTS", None)  # an installed package: no checkout
    assert prompt_dirs() == [bundled]
    monkeypatch.setattr(prompts_module, "BUNDLED_PROMPTS", tmp_path / "nowhere")
    with pytest.raises(PromptFileError, match="no prompt files found"):
        load_prompt_files()


async def test_a_missing_prompt_folder_costs_only_the_prompts(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(prompts_module, "REPO_PROMPTS", None)
    monkeypatch.setattr(prompts_module, "BUNDLED_PROMPTS", tmp_path / "nowhere")
    app = build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=20))
    async with Client(app.server) as c:
        assert (await c.list_prompts()).prompts == []
        assert (await c.list_tools()).tools and (await c.read_resource(f"vtex://orders/{SEED}")).contents
    assert "Serving no prompts: no prompt files found in" in caplog.text


GOOD = """---
name: sample_prompt
description: A sample.
arguments:
  - name: order_id
    description: "the order: with a colon"
    required: true
---
Look at order {order_id} with `get_order`; {"json": "stays"} as is.
"""


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("no front matter", "starts with '---'"),
        ("---\nname: x_y\n", "not closed"),
        (GOOD.replace("name: sample_prompt", "name: Sample Prompt"), "must be snake_case"),
        (GOOD.replace("description: A sample.\n", ""), "'description' must be a non-empty string"),
        (GOOD.replace("arguments:", "tags: a\narguments:"), r"unknown front matter key\(s\): tags"),
        (GOOD.replace("    required: true", "\trequired: true"), r"bad.md:7: not valid YAML"),
        (GOOD.replace("    required: true", '    required: "yes"'), "required must be true or false"),
        (GOOD.replace("    required: true", "    required: true\n    default: x"), "cannot have a default"),
        (GOOD.replace("    required: true", "    requird: true"), r"unknown key\(s\): requird"),
        (GOOD.replace("{order_id} with", "{orderID} with"), r"\{orderID\} is not an argument"),
        (GOOD.replace("name: sample_prompt", "name: sample_prompt\nname: again"), "duplicate key 'name'"),
        (GOOD.replace("description: A sample.", "description: a sample: broken"), r"bad.md:3: not valid YAML"),
        (GOOD.replace("Look at", "").split("---\n")[0] + "---\nname: a_b\ndescription: d\n---\n", "no body"),
    ],
)
def test_bad_prompt_files_fail_at_start_up_with_the_place(tmp_path, text, error):
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PromptFileError, match=error) as err:
        parse_prompt_file(path)
    assert str(path) in str(err.value)


def test_good_sample_parses_and_fills_only_its_arguments(tmp_path):
    path = tmp_path / "sample_prompt.md"
    path.write_text(GOOD, encoding="utf-8")
    spec = parse_prompt_file(path)
    assert spec.arguments[0].description == "the order: with a colon"
    values = spec.values({"order_id": SEED})
    assert spec.fill(spec.body, values) == f'Look at order {SEED} with `get_order`; {{"json": "stays"}} as is.'
    assert spec.mentions() == {"get_order"}


def test_duplicate_prompt_names_are_refused(tmp_path):
    for stem in ("a", "b"):
        (tmp_path / f"{stem}.md").write_text(GOOD, encoding="utf-8")
    with pytest.raises(PromptFileError, match="already used"):
        load_prompt_files(tmp_path)


async def test_today_is_the_sandbox_date_when_embedded(tmp_path):
    """Prompts that reason about dates ("stuck for N days") must use the store's clock: the
    embedded sandbox's orders are dated by its own, possibly frozen, clock."""
    from datetime import datetime

    from vtex_orders_mcp.sandbox import Sandbox

    sandbox = Sandbox(orders=20, now=datetime(2025, 6, 2, 15, tzinfo=UTC))
    app = build_server(Settings.from_env({}, state_dir=tmp_path), sandbox=sandbox)
    async with Client(app.server) as c:
        result = await c.get_prompt("stuck_orders_backlog", {"status": "handling"})
    text = "\n".join(m.content.text for m in result.messages if isinstance(m.content, types.TextContent))
    assert "2025-06-02" in text or "2025-05-" in text
    assert str(datetime.now(UTC).date()) not in text


async def test_prompt_errors_are_the_clients(tmp_path):
    """An order id that is not one, and a prompt this server does not offer, are -32602 naming
    what is wrong (an id like v1-01/conversation embedded another resource; a missing prompt was
    an internal error)."""
    from mcp.shared.exceptions import MCPError

    app = build_server(Settings.from_env({}, state_dir=tmp_path / "state", sandbox_orders=20, read_only=True))
    async with Client(app.server) as c:
        with pytest.raises(MCPError) as bad_id:
            await c.get_prompt("where_is_my_order", {"order_id": "v502556llux-01/conversation"})
        with pytest.raises(MCPError) as not_offered:
            await c.get_prompt("cancel_order_safely", {"order_id": "v502556llux-01", "reason": "x"})
    assert bad_id.value.error.code == -32602 and "is not an order id" in bad_id.value.error.message
    assert not_offered.value.error.code == -32602 and "Unknown prompt" in not_offered.value.error.message
    assert "where_is_my_order" in not_offered.value.error.message  # says what is offered


def test_front_matter_is_parsed_by_libyaml_when_pyyaml_has_it():
    # Prompts are parsed at every start; the pure-Python parser was a visible part of the cold start.
    import yaml

    if yaml.__with_libyaml__:
        assert issubclass(prompts_module._FrontMatterLoader, yaml.CSafeLoader)
    with pytest.raises(prompts_module.PromptFileError, match=r"x\.md:3: .*duplicate key 'name'"):
        prompts_module.parse_front_matter("name: a\nname: b\n", "x.md")


def test_a_front_matter_key_that_is_a_list_is_refused_with_its_line():
    with pytest.raises(prompts_module.PromptFileError, match=r"x\.md:3: .*a list cannot be a key"):
        prompts_module.parse_front_matter("name: a\n? [a]\n: b\n", "x.md")
